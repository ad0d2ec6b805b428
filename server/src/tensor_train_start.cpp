#include "tensor_train_start.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "chorus/error.hpp"
#include "chorus/models/training/train_committee.hpp"
#include "json_file.hpp"
#include "training_record.hpp"

namespace chorus::server {

TensorTrainStart start_tensor_training(const TrainCommandSettings& command, const TensorTarget& target,
                                       std::ostream& out) {
    if (command.data_paths.empty()) {
        throw ConfigError("no training data; give at least one --data FILE.xyz");
    }
    if (command.baseline_path) {
        throw ConfigError(fmt::format(
            "--baseline applies to energy models; --target {0} learns the {0} itself", target.name));
    }
    nlohmann::json document = nlohmann::json::object();
    if (command.config_path) {
        document = read_json_file(*command.config_path, "training configuration");
    }
    TensorTrainStart start{
        target.read_settings(document, command.config_path.value_or("<defaults>")), {}, {}};
    start.settings.seed = command.seed;

    start.data = read_training_data(command.data_paths, nullptr, out);
    if (start.settings.features.species.empty()) {
        start.settings.features.species = models::training::species_in(start.data.frames);
    }
    start.settings.features = target.features(start.settings.features);
    print_training_settings(out, fmt::format("chorus train --target {}", target.name), target.feature_note,
                            command, start.settings);
    start.split = split_training_data(start.data, start.settings, out);
    return start;
}

}  // namespace chorus::server
