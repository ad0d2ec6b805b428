#include "extxyz_text.hpp"

#include <charconv>
#include <cmath>
#include <system_error>

#include "chorus/error.hpp"

namespace chorus::models::extxyz_detail {

void fail(const Location& where, const std::string& what) {
    throw InputError(std::string(where.file) + ":" + std::to_string(where.line) + ": " + what);
}

std::string in_quotes(std::string_view text) {
    constexpr std::size_t longest_shown = 60;
    std::string result = "'";
    if (text.size() > longest_shown) {
        result.append(text.substr(0, longest_shown)).append("…");
    } else {
        result.append(text);
    }
    return result.append("'");
}

std::optional<double> to_double(std::string_view token) {
    std::string_view digits = token;
    if (digits.size() > 1 && digits.front() == '+' && digits[1] != '-') {
        digits.remove_prefix(1);
    }
    double value = 0.0;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (error != std::errc() || end != digits.data() + digits.size()) {
        return std::nullopt;  // includes out of range: 1e999 is as wrong as "abc" here
    }
    return value;
}

double parse_real(std::string_view token, const std::string& what, const Location& where) {
    const auto value = to_double(token);
    if (!value) {
        fail(where, "expected a number for " + what + " but found " + in_quotes(token));
    }
    if (!std::isfinite(*value)) {
        fail(where, what + " is " + in_quotes(token) +
                        "; NaN and infinite values cannot be trained on or "
                        "evaluated, remove or repair this frame");
    }
    return *value;
}

void split_fields(std::string_view text, std::vector<std::string_view>& fields, bool commas_separate) {
    const auto separates = [commas_separate](char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f' ||
               (commas_separate && c == ',');
    };
    std::size_t position = 0;
    while (position < text.size()) {
        while (position < text.size() && separates(text[position])) {
            ++position;
        }
        const std::size_t start = position;
        while (position < text.size() && !separates(text[position])) {
            ++position;
        }
        if (position > start) {
            fields.push_back(text.substr(start, position - start));
        }
    }
}

void append_real(std::string& out, double value) {
    char buffer[32];  // shortest round-trip of any double fits in 24 characters
    const auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
    (void)error;  // cannot fail with this buffer size
    out.append(buffer, end);
}

}  // namespace chorus::models::extxyz_detail
