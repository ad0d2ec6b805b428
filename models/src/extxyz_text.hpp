#pragma once
// Text-level pieces of the extxyz reader: where we are in the file (for error messages),
// locale-independent number parsing, whitespace splitting.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chorus::models::extxyz_detail {

struct Location {
    std::string_view file;
    std::size_t line;
};

// Throws InputError "file:line: what".
[[noreturn]] void fail(const Location& where, const std::string& what);

// The double spelled by the whole token (a leading '+' is allowed, as in Python), finite or
// not; nullopt if the token is not a number. No locale, no allocation: this is the hot path.
std::optional<double> to_double(std::string_view token);

// A finite double, the whole token (a leading '+' is allowed, as in Python). `what` names the
// quantity in the error message, e.g. "x position of atom 3".
double parse_real(std::string_view token, const std::string& what, const Location& where);

// The text in quotes for error messages, shortened when long so one bad line cannot flood a log.
std::string in_quotes(std::string_view text);

// Splits on spaces, tabs and (for comment-line arrays) commas; appends to `fields`.
void split_fields(std::string_view text, std::vector<std::string_view>& fields, bool commas_separate = false);

// The shortest decimal text that reads back as the same double.
void append_real(std::string& out, double value);

}  // namespace chorus::models::extxyz_detail
