#include "model_document.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "chorus/error.hpp"

namespace chorus::models {

std::string read_model_text(const std::filesystem::path& path, std::string_view what) {
    const std::string where = std::string(what) + " '" + path.string() + "'";
    std::error_code error;
    // Checked first: on Linux a directory opens as a stream and fails only when read.
    if (std::filesystem::is_directory(path, error)) {
        throw IoError("cannot read " + where + ": it is a directory; pass the path of a .json file");
    }
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        throw IoError("cannot read " + where + ": " + std::strerror(errno) +
                      "; check the path and its permissions");
    }
    std::ostringstream text;
    text << file.rdbuf();
    if (file.bad()) {
        throw IoError("cannot read " + where + ": read error; check the file");
    }
    return text.str();
}

nlohmann::json parse_model_document(std::string_view text, std::string_view origin, std::string_view what) {
    const std::string where = std::string(what) + " '" + std::string(origin) + "'";
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& parse_error) {
        throw ConfigError(where + " is not valid JSON (at byte " + std::to_string(parse_error.byte) +
                          "): " + parse_error.what());
    } catch (const nlohmann::json::exception& error) {
        // Not a parse_error: e.g. out_of_range for a number beyond a double ("1e400").
        throw ConfigError(where + " is not valid JSON: " + error.what() +
                          "; write every number within ±1.8e308");
    }
}

nlohmann::json read_model_document(const std::filesystem::path& path, std::string_view what) {
    return parse_model_document(read_model_text(path, what), path.string(), what);
}

void write_model_document(const nlohmann::json& document, const std::filesystem::path& path) {
    const std::string text = document.dump(1) + "\n";
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    if (!file || !(file << text) || !file.flush()) {
        throw IoError("cannot write model file '" + path.string() +
                      "'; check that its directory exists and is writable");
    }
}

}  // namespace chorus::models
