#include "chorus/models/model_file_object.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

#include "chorus/error.hpp"

namespace chorus::models {
namespace {

std::string quoted_list(const std::vector<std::string_view>& keys) {
    std::string list;
    for (const std::string_view key : keys) {
        list += (list.empty() ? "\"" : ", \"") + std::string(key) + "\"";
    }
    return list;
}

}  // namespace

std::string describe_json_value(const nlohmann::json& value) {
    if (value.is_number_float()) {
        // nlohmann would print NaN and infinities as null: say what they are.
        std::ostringstream text;
        text << std::setprecision(12) << value.get<double>();
        return text.str();
    }
    constexpr std::size_t longest = 60;
    std::string text = value.dump();
    if (text.size() > longest) {
        text = text.substr(0, longest) + "…";
    }
    return std::string(value.type_name()) + " " + text;
}

ModelFileObject::ModelFileObject(const nlohmann::json& value, std::string_view origin, std::string path,
                                 std::vector<std::string_view> accepted_keys)
    : value_(value), origin_(origin), path_(std::move(path)) {
    if (!value_.is_object()) {
        throw ConfigError("model file '" + origin_ +
                          "': " + (path_.empty() ? "the document" : "'" + path_ + "'") +
                          " must be a JSON object, got " + describe_json_value(value_));
    }
    for (const auto& [key, unused] : value_.items()) {
        if (std::find(accepted_keys.begin(), accepted_keys.end(), key) == accepted_keys.end()) {
            fail(key, "is not a known key here; accepted keys are " + quoted_list(accepted_keys) +
                          " (check the spelling)");
        }
    }
}

std::optional<double> ModelFileObject::optional_positive_number(std::string_view key,
                                                                std::string_view unit) const {
    const auto found = value_.find(key);
    if (found == value_.end()) {
        return std::nullopt;
    }
    if (!found->is_number()) {
        fail(key, "must be a number (" + std::string(unit) + "), got " + describe_json_value(*found));
    }
    const double number = found->get<double>();
    if (!std::isfinite(number) || !(number > 0.0)) {
        fail(key, "must be a positive finite number (" + std::string(unit) + "), got " +
                      describe_json_value(*found));
    }
    return number;
}

double ModelFileObject::positive_number(std::string_view key, std::string_view unit) const {
    const std::optional<double> number = optional_positive_number(key, unit);
    if (!number) {
        fail(key, "is missing; it must be a positive number (" + std::string(unit) + ")");
    }
    return *number;
}

const nlohmann::json& ModelFileObject::array(std::string_view key, std::size_t minimum_size) const {
    const auto found = value_.find(key);
    if (found == value_.end()) {
        fail(key,
             "is missing; it must be an array of at least " + std::to_string(minimum_size) + " element(s)");
    }
    if (!found->is_array()) {
        fail(key, "must be an array, got " + describe_json_value(*found));
    }
    if (found->size() < minimum_size) {
        fail(key, "must have at least " + std::to_string(minimum_size) + " element(s), got " +
                      std::to_string(found->size()));
    }
    return *found;
}

std::string ModelFileObject::key_path(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

void ModelFileObject::fail(std::string_view key, const std::string& problem) const {
    throw ConfigError("model file '" + origin_ + "': key '" + key_path(key) + "' " + problem);
}

}  // namespace chorus::models
