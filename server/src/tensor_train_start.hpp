#pragma once
// The start that `chorus train --target dipole` and `--target polarizability` share: the argument
// checks, the settings (read by the target's own reader), the data, the species, the target's
// feature transform and the split, with the lines they print. What follows (training, the model
// file, the tables) is the target's own.
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "chorus/models/training/train_settings.hpp"
#include "chorus/models/training/train_split.hpp"
#include "train_command.hpp"
#include "training_data.hpp"

namespace chorus::server {

struct TensorTarget {
    std::string_view name;          // the --target value, e.g. "dipole"
    std::string_view feature_note;  // printed with the settings, e.g. "λ-SOAP λ = 1 only"
    // The target's train.json reader (document, origin) and its feature transform.
    std::function<models::training::TrainSettings(const nlohmann::json&, const std::string&)> read_settings;
    std::function<models::features::FeatureSettings(models::features::FeatureSettings)> features;
};

struct TensorTrainStart {
    models::training::TrainSettings settings;  // species and feature transform applied
    TrainingData data;
    models::training::DataSplit split;
};

// Throws ConfigError without --data or with --baseline (energy models only), and whatever reading
// the configuration or the data throws.
TensorTrainStart start_tensor_training(const TrainCommandSettings& command, const TensorTarget& target,
                                       std::ostream& out);

}  // namespace chorus::server
