#include "chorus/engine/elements.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <vector>

#include "chorus/error.hpp"

namespace chorus::engine {
namespace {

// Index = atomic number. IUPAC names as of 2016 (Nh, Mc, Ts, Og).
constexpr std::array<std::string_view, max_atomic_number + 1> symbols = {
    "X",                                                                                 //
    "H",  "He",                                                                          //
    "Li", "Be", "B",  "C",  "N",  "O",  "F",  "Ne",                                      //
    "Na", "Mg", "Al", "Si", "P",  "S",  "Cl", "Ar",                                      //
    "K",  "Ca", "Sc", "Ti", "V",  "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Ga", "Ge",  //
    "As", "Se", "Br", "Kr",                                                              //
    "Rb", "Sr", "Y",  "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag", "Cd", "In", "Sn",  //
    "Sb", "Te", "I",  "Xe",                                                              //
    "Cs", "Ba", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er",  //
    "Tm", "Yb", "Lu", "Hf", "Ta", "W",  "Re", "Os", "Ir", "Pt", "Au", "Hg", "Tl", "Pb",  //
    "Bi", "Po", "At", "Rn",                                                              //
    "Fr", "Ra", "Ac", "Th", "Pa", "U",  "Np", "Pu", "Am", "Cm", "Bk", "Cf", "Es", "Fm",  //
    "Md", "No", "Lr", "Rf", "Db", "Sg", "Bh", "Hs", "Mt", "Ds", "Rg", "Cn", "Nh", "Fl",  //
    "Mc", "Lv", "Ts", "Og",                                                              //
};

std::string lower(std::string_view text) {
    std::string result(text);
    std::transform(result.begin(), result.end(), result.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return result;
}

// True when a and b differ by one substitution, insertion or deletion. Symbols are at most
// two letters, so this catches the typos that matter ("Cll", "Hx", "C1") without a full
// edit-distance table.
bool one_edit_apart(std::string_view a, std::string_view b) {
    if (a.size() > b.size()) {
        std::swap(a, b);
    }
    if (b.size() - a.size() > 1) {
        return false;
    }
    std::size_t i = 0;
    while (i < a.size() && a[i] == b[i]) {
        ++i;
    }
    if (a.size() == b.size()) {
        return i < a.size() && a.substr(i + 1) == b.substr(i + 1);
    }
    return a.substr(i) == b.substr(i + 1);
}

std::vector<std::string_view> close_matches(std::string_view symbol) {
    const std::string wanted = lower(symbol);
    std::vector<std::string_view> same_letters;
    std::vector<std::string_view> one_off;
    for (const std::string_view candidate : symbols) {
        const std::string folded = lower(candidate);
        if (folded == wanted) {
            same_letters.push_back(candidate);
        } else if (one_edit_apart(folded, wanted)) {
            one_off.push_back(candidate);
        }
    }
    // A case slip is far likelier than a typo, so it is offered alone.
    if (!same_letters.empty()) {
        return same_letters;
    }
    constexpr std::size_t most_worth_reading = 8;
    if (one_off.size() > most_worth_reading) {
        one_off.resize(most_worth_reading);
    }
    return one_off;
}

}  // namespace

std::optional<int> find_atomic_number(std::string_view symbol) noexcept {
    const auto found = std::find(symbols.begin(), symbols.end(), symbol);
    if (found == symbols.end()) {
        return std::nullopt;
    }
    return static_cast<int>(found - symbols.begin());
}

int atomic_number(std::string_view symbol) {
    if (const auto number = find_atomic_number(symbol)) {
        return *number;
    }
    // Built by appending: GCC 12 warns falsely (-Wrestrict, bug 105329) on "literal" + string.
    std::string message = "'";
    message.append(symbol).append("' is not an element symbol");
    const auto matches = close_matches(symbol);
    if (!matches.empty()) {
        message += "; did you mean ";
        for (std::size_t i = 0; i < matches.size(); ++i) {
            message += (i == 0 ? "" : (i + 1 == matches.size() ? " or " : ", "));
            message += matches[i];
        }
        message += "? W";
    } else {
        message += "; w";
    }
    message += "rite symbols as IUPAC does (case-sensitive: He, Cl), or X for a dummy atom";
    throw InputError(message);
}

std::string_view element_symbol(int atomic_number) {
    if (atomic_number < 0 || atomic_number > max_atomic_number) {
        throw InputError("atomic number " + std::to_string(atomic_number) + " does not exist; use 1 to " +
                         std::to_string(max_atomic_number) + ", or 0 for a dummy atom");
    }
    return symbols[static_cast<std::size_t>(atomic_number)];
}

}  // namespace chorus::engine
