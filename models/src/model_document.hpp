#pragma once
// Model files as JSON documents on disk, read and written the same way for every kind, so that a
// missing, unreadable or malformed file gets the same message whichever loader meets it.
#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace chorus::models {

// `what` names the file in messages ("model file", "dipole model file").

// The bytes of `path`. Throws IoError naming the path when it is a directory or cannot be read.
std::string read_model_text(const std::filesystem::path& path, std::string_view what);

// `text` parsed as JSON. Throws ConfigError naming `origin` and, for a syntax error, the byte.
nlohmann::json parse_model_document(std::string_view text, std::string_view origin, std::string_view what);

// read_model_text, then parse_model_document with the path as origin.
nlohmann::json read_model_document(const std::filesystem::path& path, std::string_view what);

// Writes `document` indented by one space with a final newline (the layout of every file chorus
// writes, so that two trainings with the same inputs give the same bytes). Throws IoError.
void write_model_document(const nlohmann::json& document, const std::filesystem::path& path);

}  // namespace chorus::models
