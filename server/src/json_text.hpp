#pragma once
// Numbers and arrays of numbers appended straight to JSON text, for the extras of every answer
// (extras.cpp, dipole_extras.cpp): with --extras full they hold M·(3N + 9) numbers per answer, and
// a JSON document object with a node per number cost more than the force evaluation of a small
// system. Inline: this is the per-number inner loop of the answer path.
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>

namespace chorus::server {

// Shortest text that reads back to the same double; JSON has no NaN/Inf, so those become null
// (what i-PI's json.loads then reports as a missing number rather than a parse error).
inline void append_json_number(std::string& out, double value) {
    if (!std::isfinite(value)) {
        out += "null";
        return;
    }
    std::array<char, 32> text{};
    const auto [end, error] = std::to_chars(text.data(), text.data() + text.size(), value);
    out.append(text.data(), end);
}

inline void append_json_number(std::string& out, std::int64_t value) {
    std::array<char, 24> text{};
    const auto [end, error] = std::to_chars(text.data(), text.data() + text.size(), value);
    out.append(text.data(), end);
}

// [v0,v1,…] without spaces.
inline void append_json_array(std::string& out, std::span<const double> values) {
    out += '[';
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i > 0) {
            out += ',';
        }
        append_json_number(out, values[i]);
    }
    out += ']';
}

}  // namespace chorus::server
