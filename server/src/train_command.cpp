#include "train_command.hpp"

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <memory>
#include <ostream>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/info.h>
#include <nlohmann/json.hpp>

#include "chorus/error.hpp"
#include "chorus/models/baseline_labels.hpp"
#include "chorus/models/model_file.hpp"
#include "chorus/models/sha256.hpp"
#include "chorus/models/training/train_committee.hpp"
#include "dipole_train_command.hpp"
#include "json_file.hpp"

#ifndef CHORUS_VERSION
#define CHORUS_VERSION "unknown"
#endif

namespace chorus::server {
namespace {

namespace training = models::training;

training::TrainSettings read_settings(const TrainCommandSettings& command) {
    training::TrainSettings settings = training::default_train_settings();
    if (command.config_path) {
        const nlohmann::json document = read_json_file(*command.config_path, "training configuration");
        settings = training::train_settings_from_json(document, *command.config_path);
    }
    settings.seed = command.seed;
    return settings;
}

// UTC, ISO 8601; SOURCE_DATE_EPOCH wins so that a rerun can reproduce the file byte for byte.
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

nlohmann::json statistics_json(const engine::UncertaintyStatistics& s) {
    return {{"count", s.count},
            {"rmse", s.rmse},
            {"rms_sigma", s.rms_sigma},
            {"mean_negative_log_likelihood", s.mean_negative_log_likelihood},
            {"within_one_sigma", s.within_one_sigma},
            {"within_two_sigma", s.within_two_sigma}};
}

nlohmann::json summary_json(const training::ErrorSummary& summary) {
    nlohmann::json json{{"frames", summary.frames}, {"force_components", summary.force_components}};
    const auto put = [&json](const char* key, const std::optional<double>& value) {
        if (value) {
            json[key] = *value;
        }
    };
    put("energy_rmse_per_atom_ev", summary.energy_rmse_per_atom);
    put("energy_mae_per_atom_ev", summary.energy_mae_per_atom);
    put("force_rmse_ev_per_angstrom", summary.force_rmse);
    put("force_reference_std_ev_per_angstrom", summary.force_reference_std);
    put("virial_rmse_per_atom_ev", summary.virial_rmse_per_atom);
    json["force_calibration"] = statistics_json(summary.force_calibration);
    json["energy_calibration"] = statistics_json(summary.energy_calibration);
    return json;
}

std::string cell(const std::optional<double>& value, double scale, const char* format = "{:>12.4f}") {
    return value ? fmt::format(fmt::runtime(format), *value * scale) : fmt::format("{:>12}", "-");
}

void print_summary(std::ostream& out, const training::TrainingReport& report) {
    const training::ErrorSummary* sets[] = {&report.train, &report.validation, &report.test};
    const auto row = [&](const std::string& name, auto value_of) {
        std::string line = fmt::format("{:<28}", name);
        for (const auto* set : sets) {
            line += value_of(*set);
        }
        fmt::print(out, "{}\n", line);
    };
    fmt::print(out, "\n{:<28}{:>12}{:>12}{:>12}\n", "", "train", "validation", "test");
    row("frames", [](const auto& s) { return fmt::format("{:>12}", s.frames); });
    row("E RMSE (meV/atom)", [](const auto& s) { return cell(s.energy_rmse_per_atom, 1e3); });
    row("F RMSE (eV/Å)", [](const auto& s) { return cell(s.force_rmse, 1.0); });
    row("F RMSE (% of F std)", [](const auto& s) {
        return s.force_rmse && s.force_reference_std && *s.force_reference_std > 0
                   ? fmt::format("{:>12.3f}", 100.0 * *s.force_rmse / *s.force_reference_std)
                   : fmt::format("{:>12}", "-");
    });
    row("virial RMSE (meV/atom)", [](const auto& s) { return cell(s.virial_rmse_per_atom, 1e3); });
    row("F within ±σ (%)",
        [](const auto& s) { return fmt::format("{:>12.1f}", 100.0 * s.force_calibration.within_one_sigma); });
    row("F within ±2σ (%)",
        [](const auto& s) { return fmt::format("{:>12.1f}", 100.0 * s.force_calibration.within_two_sigma); });
    row("F NLL (nats)", [](const auto& s) {
        return fmt::format("{:>12.3f}", s.force_calibration.mean_negative_log_likelihood);
    });
    row("E within ±σ (%)", [](const auto& s) {
        return fmt::format("{:>12.1f}", 100.0 * s.energy_calibration.within_one_sigma);
    });
    row("E within ±2σ (%)", [](const auto& s) {
        return fmt::format("{:>12.1f}", 100.0 * s.energy_calibration.within_two_sigma);
    });
    fmt::print(out, "alpha {:.4g}{} (alpha^2 {:.4g}, from {} validation samples); lambda {:.3g}{}\n",
               report.calibration.alpha, report.calibration.clamped ? " CLAMPED" : "",
               report.calibration.alpha_squared, report.calibration.before.count, report.selection.lambda,
               report.selection.at_grid_edge ? " (at the edge of the grid: widen it)" : "");
    fmt::print(out, "{} features per species, {} weights per member; rows {:.1f} s, solve {:.1f} s\n",
               report.feature_count, report.weight_count, report.design_seconds, report.solve_seconds);
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

int run_train(const TrainCommandSettings& command, std::ostream& out) {
    if (command.target == "dipole") {
        return run_dipole_train(command, out);
    }
    if (command.target != "energy") {
        throw ConfigError("--target " + command.target + " is not known; use energy or dipole");
    }
    if (command.data_paths.empty()) {
        throw ConfigError("no training data; give at least one --data FILE.xyz");
    }
    const int threads = command.threads > 0 ? command.threads : tbb::info::default_concurrency();
    const tbb::global_control parallelism(tbb::global_control::max_allowed_parallelism,
                                          static_cast<std::size_t>(threads));
    const training::TrainSettings settings = read_settings(command);
    fmt::print(out, "chorus train {}: settings ({}; species from the data when absent):\n{}\n",
               CHORUS_VERSION, command.config_path ? "from " + *command.config_path : "defaults",
               to_json(settings).dump(2));

    std::unique_ptr<engine::Model> baseline;
    nlohmann::json baseline_record;
    if (command.baseline_path) {
        baseline = models::load_model(*command.baseline_path);
        baseline_record = {{"path", *command.baseline_path},
                           {"sha256", models::sha256_file_hex(*command.baseline_path)},
                           {"description", baseline->description()}};
        fmt::print(out, "baseline: {} ({}); the committee learns labels minus its predictions\n",
                   *command.baseline_path, baseline->description());
    }

    std::vector<training::LabelledFrame> frames;
    nlohmann::json data = nlohmann::json::array();
    for (std::size_t file = 0; file < command.data_paths.size(); ++file) {
        const std::string& path = command.data_paths[file];
        std::vector<models::Frame> read = models::read_extxyz(path);
        const std::string hash = models::sha256_file_hex(path);
        fmt::print(out, "data: {} ({} frames, sha256 {})\n", path, read.size(), hash);
        data.push_back({{"path", path}, {"sha256", hash}, {"frames", read.size()}});
        if (baseline) {
            models::subtract_baseline(read, *baseline);
        }
        for (std::size_t i = 0; i < read.size(); ++i) {
            frames.push_back({std::move(read[i]), file, i});
        }
    }
    const training::DataSplit split = training::split_frames(frames, settings.split, settings.seed);
    fmt::print(out, "split: {} train, {} validation, {} test frames (seed {}, within each '{}' group)\n",
               split.train.size(), split.validation.size(), split.test.size(), settings.seed,
               settings.split.group_key);
    out.flush();

    training::TrainingResult result =
        training::train_linear_committee(frames, split, settings, [&out](std::string_view line) {
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
        {"date", training_date()},
        {"command_line", command.command_line},
        {"seed", settings.seed},
        {"threads", threads},
        {"settings", to_json(settings)},
        {"data", data},
        {"regulariser",
         {{"lambda", report.selection.lambda}, {"validation_loss", report.selection.validation_loss}}},
        {"calibration",
         {{"target", settings.calibrate_on == training::CalibrationTarget::forces ? "forces" : "energies"},
          {"alpha", report.calibration.alpha},
          {"alpha_squared", report.calibration.alpha_squared},
          {"clamped", report.calibration.clamped}}},
        {"errors",
         {{"train", summary_json(report.train)},
          {"validation", summary_json(report.validation)},
          {"test", summary_json(report.test)}}},
    };
    if (baseline) {
        result.parameters.training["baseline"] = baseline_record;
    }
    models::save_linear_committee(result.parameters, command.out_path);
    print_summary(out, report);
    fmt::print(out, "wrote {}\n", command.out_path);
    return 0;
}

}  // namespace chorus::server
