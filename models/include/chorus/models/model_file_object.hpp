#pragma once
// Key-by-key reading of one JSON object in a model file. Every error is a ConfigError naming the
// file, the key (with its path, e.g. members[2].sigma), what was expected and what was found.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace chorus::models {

class ModelFileObject {
public:
    // `path` locates the object inside the document ("" for the top level, "members[2]" …).
    // Throws if `value` is not an object, or holds a key outside `accepted_keys` (the message
    // lists the accepted ones).
    ModelFileObject(const nlohmann::json& value, std::string_view origin, std::string path,
                    std::vector<std::string_view> accepted_keys);

    // A required number > 0 (finite); `unit` goes into the message.
    double positive_number(std::string_view key, std::string_view unit) const;
    // The same, or nullopt when the key is absent.
    std::optional<double> optional_positive_number(std::string_view key, std::string_view unit) const;
    // A required array with at least `minimum_size` elements.
    const nlohmann::json& array(std::string_view key, std::size_t minimum_size) const;

    // "members[2].sigma" for key "sigma" inside "members[2]".
    std::string key_path(std::string_view key) const;
    const std::string& origin() const { return origin_; }

    // Throws ConfigError "model file '<origin>': key '<path>' <problem>".
    [[noreturn]] void fail(std::string_view key, const std::string& problem) const;

private:
    const nlohmann::json& value_;
    std::string origin_;
    std::string path_;
};

// How a JSON value looks in a message: short, and never a whole nested document.
std::string describe_json_value(const nlohmann::json& value);

}  // namespace chorus::models
