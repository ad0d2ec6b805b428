#pragma once
// The labelled frames `chorus train` learns from (energy and dipole targets alike), and the record
// of each --data file that the model file keeps: path, hash, frame count and the split's indices,
// so that `chorus eval --subset` can find the test frames again.
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chorus/engine/model.hpp"
#include "chorus/models/training/train_split.hpp"

namespace chorus::server {

struct TrainingData {
    std::vector<models::training::LabelledFrame> frames;  // every file's frames, in order
    nlohmann::json files = nlohmann::json::array();       // [{"path", "sha256", "frames"}, …]
};

// Reads every file, printing one "data:" line each. With a `baseline`, the labels become the
// labels minus its predictions. Throws the extxyz reader's errors.
TrainingData read_training_data(const std::vector<std::string>& paths, const engine::Model* baseline,
                                std::ostream& out);

// The split of `data.frames` by the settings (split section and seed), announced in one "split:"
// line (sizes, seed, group key) that is flushed before the long training starts.
models::training::DataSplit split_training_data(const TrainingData& data,
                                                const models::training::TrainSettings& settings,
                                                std::ostream& out);

// Adds "train", "validation" and "test" to each file record: the frame indices within that file.
void record_split(TrainingData& data, const models::training::DataSplit& split);

}  // namespace chorus::server
