#pragma once
// The frames `chorus eval` evaluates, for every kind of model: every frame of each file, or the
// part of the split that `chorus train` recorded in the model file for that file (matched by its
// SHA-256), so that --subset test evaluates exactly the frames the model never saw.
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "chorus/models/extxyz.hpp"

namespace chorus::server {

// The `kind` of the JSON model file at `path`, read once to choose the evaluator; empty when the
// path is a directory, unreadable, not a JSON object or has no string `kind` (the ordinary model
// loader then reports the problem).
std::string model_file_kind(const std::string& path);

struct FrameOrigin {
    std::size_t file = 0;   // index of the data file
    std::size_t index = 0;  // 0-based frame index within it
};

struct EvalFrames {
    std::vector<models::Frame> frames;
    std::vector<FrameOrigin> origins;  // one per frame

    std::vector<const models::Frame*> pointers() const;
};

// The frame indices of `subset` ("train", "validation", "test") recorded for `path` in a model
// file's `training` metadata. Throws InputError when the file is not among the recorded ones
// (`model` names the model in the message: "model", "dipole model").
using RecordedSubset =
    std::function<std::vector<std::size_t>(const std::string& path, const std::string& hash)>;
std::vector<std::size_t> recorded_subset(const nlohmann::json& training, const std::string& subset,
                                         const std::string& path, const std::string& hash,
                                         std::string_view model);

// Reads each file; `subset` "all" keeps every frame, any other subset the indices `recorded`
// returns for the file (its hash is computed only then). Throws InputError for a recorded index
// beyond the file's end.
EvalFrames read_eval_frames(const std::vector<std::string>& paths, const std::string& subset,
                            const RecordedSubset& recorded);

}  // namespace chorus::server
