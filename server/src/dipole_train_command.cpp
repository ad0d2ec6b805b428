#include "dipole_train_command.hpp"

#include <ostream>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/info.h>
#include <nlohmann/json.hpp>

#include "chorus/error.hpp"
#include "chorus/models/dipole/dipole_training.hpp"
#include "dipole_report.hpp"
#include "json_file.hpp"
#include "training_data.hpp"
#include "training_record.hpp"

namespace chorus::server {
namespace {

namespace training = models::training;
namespace dipole = models::dipole;

training::TrainSettings read_settings(const TrainCommandSettings& command) {
    nlohmann::json document = nlohmann::json::object();
    if (command.config_path) {
        document = read_json_file(*command.config_path, "training configuration");
    }
    training::TrainSettings settings =
        dipole::dipole_train_settings_from_json(document, command.config_path.value_or("<defaults>"));
    settings.seed = command.seed;
    return settings;
}

}  // namespace

int run_dipole_train(const TrainCommandSettings& command, std::ostream& out) {
    if (command.data_paths.empty()) {
        throw ConfigError("no training data; give at least one --data FILE.xyz");
    }
    if (command.baseline_path) {
        throw ConfigError("--baseline applies to energy models; --target dipole learns the dipole itself");
    }
    const int threads = command.threads > 0 ? command.threads : tbb::info::default_concurrency();
    const tbb::global_control parallelism(tbb::global_control::max_allowed_parallelism,
                                          static_cast<std::size_t>(threads));
    training::TrainSettings settings = read_settings(command);

    TrainingData data = read_training_data(command.data_paths, nullptr, out);
    if (settings.features.species.empty()) {
        settings.features.species = training::species_in(data.frames);
    }
    settings.features = dipole::dipole_feature_settings(settings.features);
    print_training_settings(out, "chorus train --target dipole", "λ-SOAP λ = 1 only", command, settings);

    const training::DataSplit split = split_training_data(data, settings, out);
    dipole::DipoleTrainingResult result =
        dipole::train_dipole_committee(data.frames, split, settings, progress_printer(out));
    record_split(data, split);
    const auto& report = result.report;
    result.parameters.training = training_record(command, settings, threads, data.files, report.selection,
                                                 "dipole components", report.calibration);
    result.parameters.training["target"] = "dipole";
    result.parameters.training["errors"] = {{"train", dipole_summary_json(report.train)},
                                            {"validation", dipole_summary_json(report.validation)},
                                            {"test", dipole_summary_json(report.test)}};
    dipole::save_dipole_committee(result.parameters, command.out_path);

    print_dipole_table(
        out, {{"train", &report.train}, {"validation", &report.validation}, {"test", &report.test}});
    print_alpha_and_lambda(out, report.calibration, report.selection, "components");
    fmt::print(out, "{} λ=1 features per species, {} weights per member\n", report.feature_count,
               report.weight_count);
    fmt::print(out, "wrote {}\n", command.out_path);
    return 0;
}

}  // namespace chorus::server
