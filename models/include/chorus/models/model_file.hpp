#pragma once
// Model files: JSON documents (eV, Å) whose "kind" selects how the rest is read. The kinds form a
// registry (kind → factory), so that each model family adds one entry and nothing else changes.
//
//   {"kind": "lennard-jones", "epsilon": 0.0104, "sigma": 3.40, "cutoff": 8.5}
//   {"kind": "lennard-jones-committee", "members": [{"epsilon": …, "sigma": …}, …],
//    "cutoff": 8.5, "alpha": 1.0}
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "chorus/engine/model.hpp"

namespace chorus::models {

// Reads and builds the model in `path`. Throws IoError when the file cannot be read, ConfigError
// when it is not valid JSON (with the byte position) or not a valid model; both name the path.
std::unique_ptr<engine::Model> load_model(const std::filesystem::path& path);

// Builds the model whose file content is `text`, as load_model does after reading the file (used
// by load_model, and by the fuzzer to skip the file system). ConfigError names `origin`.
std::unique_ptr<engine::Model> model_from_text(std::string_view text, std::string_view origin);

// Builds a model from a parsed document; `origin` (a path, or e.g. "<inline>") names it in errors.
std::unique_ptr<engine::Model> model_from_json(const nlohmann::json& document, std::string_view origin);

// Every registered kind, sorted.
std::vector<std::string> known_model_kinds();

// Builds one kind of model from its whole document (the "kind" key included, so that the
// factory's check for unknown keys must accept it). Throws ConfigError naming origin and key.
using ModelFactory =
    std::function<std::unique_ptr<engine::Model>(const nlohmann::json& document, std::string_view origin)>;

// Adds a kind beside the built-in ones (which are listed in model_file.cpp). Throws ConfigError
// if the kind is already registered. Thread safe.
void register_model_kind(std::string kind, ModelFactory factory);

}  // namespace chorus::models
