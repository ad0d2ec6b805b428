#pragma once
// The extxyz comment line: whitespace-separated `key=value` pairs and bare `key` flags, with the
// quoting rules of ASE's reader so that every file ASE writes reads the same here.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "extxyz_text.hpp"

namespace chorus::models::extxyz_detail {

struct KeyValue {
    std::string key;
    std::optional<std::string> value;  // nullopt for a bare flag
};

// Pairs in the order they appear. Throws InputError for an unterminated quote, a trailing
// backslash, or a pair with no key ("=value").
std::vector<KeyValue> parse_comment_line(std::string_view line, const Location& where);

// True if `text` can be written bare; otherwise it needs quote_value().
bool needs_quotes(std::string_view text);

// "text" with " and \ escaped, readable by parse_comment_line and by ASE.
std::string quote_value(std::string_view text);

}  // namespace chorus::models::extxyz_detail
