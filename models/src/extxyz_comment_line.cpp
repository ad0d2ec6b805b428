#include "extxyz_comment_line.hpp"

namespace chorus::models::extxyz_detail {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

// ASE accepts these pairs of delimiters around keys and values.
char closing_delimiter(char c) {
    switch (c) {
        case '"':
            return '"';
        case '\'':
            return '\'';
        case '{':
            return '}';
        case '[':
            return ']';
        default:
            return '\0';
    }
}

class CommentLineParser {
public:
    CommentLineParser(std::string_view line, const Location& where) : line_(line), where_(where) {}

    std::vector<KeyValue> parse() {
        std::vector<KeyValue> pairs;
        skip_spaces();
        while (!at_end()) {
            if (peek() == '=') {
                fail(where_, "comment line has '=' with no key before it at column " +
                                 std::to_string(position_ + 1) + "; write key=value");
            }
            KeyValue pair{read_text(/*stop_at_equals=*/true), std::nullopt};
            skip_spaces();  // ASE allows `key = value`
            if (!at_end() && peek() == '=') {
                ++position_;
                skip_spaces();
                pair.value = read_text(/*stop_at_equals=*/false);
                skip_spaces();
            }
            pairs.push_back(std::move(pair));
        }
        return pairs;
    }

private:
    bool at_end() const { return position_ >= line_.size(); }
    char peek() const { return line_[position_]; }
    void skip_spaces() {
        while (!at_end() && is_space(peek())) {
            ++position_;
        }
    }

    // One key or value: bare characters and quoted runs, glued together until whitespace (or '='
    // for a key). A value may contain bare '=', which ASE keeps.
    std::string read_text(bool stop_at_equals) {
        std::string text;
        while (!at_end()) {
            const char c = peek();
            if (is_space(c) || (stop_at_equals && c == '=')) {
                break;
            }
            ++position_;
            if (c == '\\') {
                text += escaped_character();
            } else if (const char close = closing_delimiter(c)) {
                read_quoted(c, close, text);
            } else {
                text += c;
            }
        }
        return text;
    }

    void read_quoted(char open, char close, std::string& text) {
        const std::size_t opened_at = position_;
        while (!at_end()) {
            const char c = line_[position_++];
            if (c == '\\') {
                text += escaped_character();
            } else if (c == close) {
                return;
            } else {
                text += c;
            }
        }
        fail(where_, std::string("comment line has an unterminated ") + open + " opened at column " +
                         std::to_string(opened_at) + "; close it with " + close);
    }

    char escaped_character() {
        if (at_end()) {
            fail(where_, "comment line ends with a lone backslash; escape it as \\\\ or remove it");
        }
        return line_[position_++];
    }

    std::string_view line_;
    const Location& where_;
    std::size_t position_ = 0;
};

}  // namespace

std::vector<KeyValue> parse_comment_line(std::string_view line, const Location& where) {
    return CommentLineParser(line, where).parse();
}

bool needs_quotes(std::string_view text) {
    if (text.empty()) {
        return true;
    }
    for (const char c : text) {
        if (is_space(c) || c == '=' || c == '\\' || closing_delimiter(c) != '\0' || c == '}' || c == ']') {
            return true;
        }
    }
    return false;
}

std::string quote_value(std::string_view text) {
    std::string result = "\"";
    for (const char c : text) {
        if (c == '"' || c == '\\') {
            result += '\\';
        }
        result += c;
    }
    result += '"';
    return result;
}

}  // namespace chorus::models::extxyz_detail
