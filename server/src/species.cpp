#include "species.hpp"

#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "chorus/engine/elements.hpp"
#include "chorus/error.hpp"

namespace chorus::server {
namespace {

bool is_separator(char c) { return c == ',' || c == ' ' || c == '\t'; }

}  // namespace

std::vector<int> parse_species_pattern(std::string_view text) {
    std::vector<int> pattern;
    std::size_t position = 0;
    while (position < text.size()) {
        if (is_separator(text[position])) {
            ++position;
            continue;
        }
        auto end = position;
        while (end < text.size() && !is_separator(text[end])) {
            ++end;
        }
        const auto symbol = text.substr(position, end - position);
        const std::optional<int> number = engine::find_atomic_number(symbol);
        if (!number || *number == engine::dummy_atomic_number) {
            throw ConfigError(fmt::format(
                "--species '{}': '{}' is not an element symbol; write symbols as in the periodic table "
                "(e.g. O,H,H)",
                text, symbol));
        }
        pattern.push_back(*number);
        position = end;
    }
    if (pattern.empty()) {
        throw ConfigError(fmt::format("--species '{}' names no element; give e.g. O,H,H", text));
    }
    return pattern;
}

std::vector<int> expand_species_pattern(std::span<const int> pattern, std::size_t atoms) {
    if (pattern.empty() || atoms % pattern.size() != 0) {
        throw InputError(fmt::format(
            "the server sent {} atoms, which is not a multiple of the {} species of --species ({}); "
            "give one pattern that repeats over all atoms",
            atoms, pattern.size(), format_species(pattern)));
    }
    std::vector<int> species(atoms);
    for (std::size_t i = 0; i < atoms; ++i) {
        species[i] = pattern[i % pattern.size()];
    }
    return species;
}

std::vector<int> resolve_species_pattern(std::span<const int> pattern, std::span<const int> model_species) {
    if (pattern.empty()) {
        if (!model_species.empty()) {
            throw ConfigError(
                fmt::format("this model needs --species; it knows {}", format_species(model_species)));
        }
        return {0};
    }
    if (!model_species.empty()) {
        for (const int number : pattern) {
            if (std::find(model_species.begin(), model_species.end(), number) == model_species.end()) {
                throw ConfigError(
                    fmt::format("--species names {}, which this model does not know; it knows {}",
                                engine::element_symbol(number), format_species(model_species)));
            }
        }
    }
    return {pattern.begin(), pattern.end()};
}

std::string format_species(std::span<const int> atomic_numbers) {
    std::string text;
    for (const int number : atomic_numbers) {
        if (!text.empty()) {
            text += ", ";
        }
        text += engine::element_symbol(number);
    }
    return text;
}

}  // namespace chorus::server
