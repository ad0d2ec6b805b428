#include "dipole_train_command.hpp"

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <ostream>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/info.h>
#include <nlohmann/json.hpp>

#include "chorus/error.hpp"
#include "chorus/models/dipole/dipole_training.hpp"
#include "chorus/models/sha256.hpp"
#include "dipole_report.hpp"
#include "json_file.hpp"

#ifndef CHORUS_VERSION
#define CHORUS_VERSION "unknown"
#endif

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

std::string training_date() {
    std::time_t now = std::time(nullptr);
    if (const char* fixed = std::getenv("SOURCE_DATE_EPOCH")) {
        now = static_cast<std::time_t>(std::strtoll(fixed, nullptr, 10));
    }
    std::tm utc{};
    gmtime_r(&now, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

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

    std::vector<training::LabelledFrame> frames;
    nlohmann::json data = nlohmann::json::array();
    for (std::size_t file = 0; file < command.data_paths.size(); ++file) {
        const std::string& path = command.data_paths[file];
        std::vector<models::Frame> read = models::read_extxyz(path);
        const std::string hash = models::sha256_file_hex(path);
        fmt::print(out, "data: {} ({} frames, sha256 {})\n", path, read.size(), hash);
        data.push_back({{"path", path}, {"sha256", hash}, {"frames", read.size()}});
        for (std::size_t i = 0; i < read.size(); ++i) {
            frames.push_back({std::move(read[i]), file, i});
        }
    }
    if (settings.features.species.empty()) {
        settings.features.species = training::species_in(frames);
    }
    settings.features = dipole::dipole_feature_settings(settings.features);
    fmt::print(out, "chorus train --target dipole {}: settings ({}; λ-SOAP λ = 1 only):\n{}\n",
               CHORUS_VERSION, command.config_path ? "from " + *command.config_path : "defaults",
               to_json(settings).dump(2));

    const training::DataSplit split = training::split_frames(frames, settings.split, settings.seed);
    fmt::print(out, "split: {} train, {} validation, {} test frames (seed {}, within each '{}' group)\n",
               split.train.size(), split.validation.size(), split.test.size(), settings.seed,
               settings.split.group_key);
    out.flush();

    dipole::DipoleTrainingResult result =
        dipole::train_dipole_committee(frames, split, settings, [&out](std::string_view line) {
            fmt::print(out, "  {}\n", line);
            out.flush();
        });
    for (std::size_t file = 0; file < data.size(); ++file) {
        data[file]["train"] = indices_in_file(frames, split.train, file);
        data[file]["validation"] = indices_in_file(frames, split.validation, file);
        data[file]["test"] = indices_in_file(frames, split.test, file);
    }
    const auto& report = result.report;
    result.parameters.training = {
        {"chorus_version", CHORUS_VERSION},
        {"target", "dipole"},
        {"date", training_date()},
        {"command_line", command.command_line},
        {"seed", settings.seed},
        {"threads", threads},
        {"settings", to_json(settings)},
        {"data", data},
        {"regulariser",
         {{"lambda", report.selection.lambda}, {"validation_loss", report.selection.validation_loss}}},
        {"calibration",
         {{"target", "dipole components"},
          {"alpha", report.calibration.alpha},
          {"alpha_squared", report.calibration.alpha_squared},
          {"clamped", report.calibration.clamped}}},
        {"errors",
         {{"train", dipole_summary_json(report.train)},
          {"validation", dipole_summary_json(report.validation)},
          {"test", dipole_summary_json(report.test)}}},
    };
    dipole::save_dipole_committee(result.parameters, command.out_path);

    print_dipole_table(
        out, {{"train", &report.train}, {"validation", &report.validation}, {"test", &report.test}});
    fmt::print(out, "alpha {:.4g}{} (alpha^2 {:.4g}, from {} validation components); lambda {:.3g}{}\n",
               report.calibration.alpha, report.calibration.clamped ? " CLAMPED" : "",
               report.calibration.alpha_squared, report.calibration.before.count, report.selection.lambda,
               report.selection.at_grid_edge ? " (at the edge of the grid: widen it)" : "");
    fmt::print(out, "{} λ=1 features per species, {} weights per member\n", report.feature_count,
               report.weight_count);
    fmt::print(out, "wrote {}\n", command.out_path);
    return 0;
}

}  // namespace chorus::server
