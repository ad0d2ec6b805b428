#pragma once
// The periodic table of chorus: element symbols ↔ atomic numbers, H (1) to Og (118), plus "X" = 0
// for dummy atoms (as in ASE). Every part of chorus that reads or writes a symbol goes through here.
// Symbols are case-sensitive as IUPAC writes them ("Cl", not "CL" or "cl"): a file that spells them
// otherwise is more likely wrong than sloppy, so we say so instead of guessing.
#include <optional>
#include <string_view>

namespace chorus::engine {

inline constexpr int dummy_atomic_number = 0;
inline constexpr int max_atomic_number = 118;

// The atomic number of `symbol` ("X" → 0), or nullopt if it is not an element symbol.
std::optional<int> find_atomic_number(std::string_view symbol) noexcept;

// As find_atomic_number, but throws InputError naming the symbol and, when there are any, the
// element symbols it is closest to (same letters in another case, or one letter off).
int atomic_number(std::string_view symbol);

// The symbol of atomic number 0…118 (0 → "X"). Throws InputError for any other number.
std::string_view element_symbol(int atomic_number);

}  // namespace chorus::engine
