#include "training_data.hpp"

#include <ostream>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "chorus/models/baseline_labels.hpp"
#include "chorus/models/sha256.hpp"

namespace chorus::server {
namespace {

namespace training = models::training;

std::vector<std::size_t> indices_in_file(const std::vector<training::LabelledFrame>& frames,
                                         const std::vector<std::size_t>& selected, std::size_t file) {
    std::vector<std::size_t> indices;
    for (const std::size_t i : selected) {
        if (frames[i].file == file) {
            indices.push_back(frames[i].index);
        }
    }
    return indices;
}

}  // namespace

TrainingData read_training_data(const std::vector<std::string>& paths, const engine::Model* baseline,
                                std::ostream& out) {
    TrainingData data;
    for (std::size_t file = 0; file < paths.size(); ++file) {
        const std::string& path = paths[file];
        std::vector<models::Frame> read = models::read_extxyz(path);
        const std::string hash = models::sha256_file_hex(path);
        fmt::print(out, "data: {} ({} frames, sha256 {})\n", path, read.size(), hash);
        data.files.push_back({{"path", path}, {"sha256", hash}, {"frames", read.size()}});
        if (baseline) {
            models::subtract_baseline(read, *baseline);
        }
        for (std::size_t i = 0; i < read.size(); ++i) {
            data.frames.push_back({std::move(read[i]), file, i});
        }
    }
    return data;
}

training::DataSplit split_training_data(const TrainingData& data, const training::TrainSettings& settings,
                                        std::ostream& out) {
    training::DataSplit split = training::split_frames(data.frames, settings.split, settings.seed);
    fmt::print(out, "split: {} train, {} validation, {} test frames (seed {}, within each '{}' group)\n",
               split.train.size(), split.validation.size(), split.test.size(), settings.seed,
               settings.split.group_key);
    out.flush();
    return split;
}

void record_split(TrainingData& data, const training::DataSplit& split) {
    for (std::size_t file = 0; file < data.files.size(); ++file) {
        data.files[file]["train"] = indices_in_file(data.frames, split.train, file);
        data.files[file]["validation"] = indices_in_file(data.frames, split.validation, file);
        data.files[file]["test"] = indices_in_file(data.frames, split.test, file);
    }
}

}  // namespace chorus::server
