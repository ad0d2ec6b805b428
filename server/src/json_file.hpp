#pragma once
// Reading a user's JSON file (a training configuration): one place that turns every failure into a
// chorus error naming the file, so that no nlohmann exception (parse_error, or out_of_range for a
// number beyond a double) escapes as a foreign type. Writing a report (`--json`): one message for
// a file that cannot be written.
#include <string>

#include <nlohmann/json.hpp>

namespace chorus::server {

// `what` names the file's role in messages, e.g. "training configuration". Throws IoError when the
// file cannot be read and ConfigError when it is not valid JSON.
nlohmann::json read_json_file(const std::string& path, const std::string& what);

// Writes `json` indented by `indent` spaces, with a final newline. `what` names the file in the
// IoError thrown when it cannot be written, e.g. "benchmark report".
void write_json_file(const std::string& path, const nlohmann::json& json, int indent,
                     const std::string& what);

}  // namespace chorus::server
