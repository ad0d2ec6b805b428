#include "eval_frames.hpp"

#include <filesystem>
#include <fstream>

#include "chorus/error.hpp"
#include "chorus/models/sha256.hpp"

namespace chorus::server {

std::string model_file_kind(const std::string& path) {
    // A directory opens as a stream and throws when read: leave it to load_model's IoError.
    std::error_code error;
    if (std::filesystem::is_directory(path, error)) {
        return {};
    }
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        return {};
    }
    const nlohmann::json document = nlohmann::json::parse(file, nullptr, false);
    if (!document.is_object() || !document.contains("kind") || !document["kind"].is_string()) {
        return {};
    }
    return document["kind"].get<std::string>();
}

std::vector<const models::Frame*> EvalFrames::pointers() const {
    std::vector<const models::Frame*> result;
    for (const auto& frame : frames) {
        result.push_back(&frame);
    }
    return result;
}

std::vector<std::size_t> recorded_subset(const nlohmann::json& training, const std::string& subset,
                                         const std::string& path, const std::string& hash,
                                         std::string_view model) {
    if (training.contains("data") && training["data"].is_array()) {
        for (const auto& entry : training["data"]) {
            if (entry.value("sha256", "") == hash && entry.contains(subset)) {
                return entry[subset].get<std::vector<std::size_t>>();
            }
        }
    }
    throw InputError("'" + path + "' (sha256 " + hash + ") is not one of the files this " +
                     std::string(model) + " was trained on, so it has no recorded " + subset +
                     " frames; use --subset all");
}

EvalFrames read_eval_frames(const std::vector<std::string>& paths, const std::string& subset,
                            const RecordedSubset& recorded) {
    EvalFrames result;
    for (std::size_t file = 0; file < paths.size(); ++file) {
        const std::string& path = paths[file];
        std::vector<models::Frame> read = models::read_extxyz(path);
        std::vector<std::size_t> selected;
        if (subset == "all") {
            for (std::size_t i = 0; i < read.size(); ++i) {
                selected.push_back(i);
            }
        } else {
            selected = recorded(path, models::sha256_file_hex(path));
        }
        for (const std::size_t i : selected) {
            if (i >= read.size()) {
                throw InputError("the model records frame " + std::to_string(i) + " of '" + path +
                                 "', which has " + std::to_string(read.size()) + " frames");
            }
            result.frames.push_back(std::move(read[i]));
            result.origins.push_back({file, i});
        }
    }
    return result;
}

}  // namespace chorus::server
