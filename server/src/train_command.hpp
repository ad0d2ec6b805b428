#pragma once
// `chorus train`: a calibrated linear committee from labelled extxyz files (training driver:
// models/training/train_committee.hpp), written as a "linear-committee" model file whose
// metadata record the data hashes, the split, the settings and how to reproduce it.
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace chorus::server {

struct TrainCommandSettings {
    std::vector<std::string> data_paths;     // --data, repeatable
    std::optional<std::string> config_path;  // --config train.json
    std::string out_path;                    // --out
    std::uint64_t seed = 0;                  // --seed
    int threads = 0;                         // --threads (0: all cores)
    // --baseline MODEL: learn the difference between the labels and this model's predictions.
    std::optional<std::string> baseline_path;
    std::vector<std::string> command_line;  // recorded in the model file
    std::string target = "energy";          // --target energy|dipole (dipole: dipole_train_command.hpp)
};

// Progress and the summary go to `out`. The date recorded in the model file is
// SOURCE_DATE_EPOCH when set (reproducible builds' convention), else now: with it and
// --threads 1, the same command writes the same bytes. Throws chorus errors for bad input.
int run_train(const TrainCommandSettings& settings, std::ostream& out);

}  // namespace chorus::server
