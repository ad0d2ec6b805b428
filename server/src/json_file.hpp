#pragma once
// Reading a user's JSON file (a training configuration): one place that turns every failure into a
// chorus error naming the file, so that no nlohmann exception (parse_error, or out_of_range for a
// number beyond a double) escapes as a foreign type.
#include <string>

#include <nlohmann/json.hpp>

namespace chorus::server {

// `what` names the file's role in messages, e.g. "training configuration". Throws IoError when the
// file cannot be read and ConfigError when it is not valid JSON.
nlohmann::json read_json_file(const std::string& path, const std::string& what);

}  // namespace chorus::server
