#include "json_file.hpp"

#include <fstream>

#include "chorus/error.hpp"

namespace chorus::server {

nlohmann::json read_json_file(const std::string& path, const std::string& what) {
    std::ifstream file(path);
    if (!file) {
        throw IoError("cannot read " + what + " '" + path + "'; check the path");
    }
    try {
        return nlohmann::json::parse(file);
    } catch (const nlohmann::json::parse_error& error) {
        throw ConfigError(what + " '" + path + "' is not valid JSON (at byte " + std::to_string(error.byte) +
                          "): " + error.what());
    } catch (const nlohmann::json::exception& error) {
        throw ConfigError(what + " '" + path + "' is not valid JSON: " + error.what() +
                          "; write every number within ±1.8e308");
    }
}

void write_json_file(const std::string& path, const nlohmann::json& json, int indent,
                     const std::string& what) {
    std::ofstream file(path);
    if (!(file << json.dump(indent) << '\n') || !file.flush()) {
        throw IoError("cannot write " + what + " '" + path +
                      "'; check that its directory exists and is writable");
    }
}

}  // namespace chorus::server
