#pragma once
// Species for the atoms i-PI sends: the protocol carries none, so the user gives a pattern of
// element symbols that repeats over the atoms (`O,H,H` for water stored O H H O H H …).
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace chorus::server {

// Parses a comma and/or space separated list of element symbols into atomic numbers.
// Throws ConfigError naming the bad symbol.
std::vector<int> parse_species_pattern(std::string_view text);

// Repeats the pattern over `atoms` atoms. Throws InputError when the atom count is not a
// multiple of the pattern length.
std::vector<int> expand_species_pattern(std::span<const int> pattern, std::size_t atoms);

// Checks at start-up that the pattern fits the model. `model_species` empty means the model
// accepts any species. Returns the pattern to use: the given one, or {0} (every atom atomic
// number 0) when none was given and the model accepts any species. Throws ConfigError otherwise
// ("this model needs --species; it knows O, H").
std::vector<int> resolve_species_pattern(std::span<const int> pattern, std::span<const int> model_species);

// "O, H" for logs and messages.
std::string format_species(std::span<const int> atomic_numbers);

}  // namespace chorus::server
