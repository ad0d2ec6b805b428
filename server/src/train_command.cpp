#include "train_command.hpp"

#include <memory>
#include <ostream>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/info.h>
#include <nlohmann/json.hpp>

#include "chorus/error.hpp"
#include "chorus/models/model_file.hpp"
#include "chorus/models/sha256.hpp"
#include "chorus/models/training/train_committee.hpp"
#include "dipole_train_command.hpp"
#include "error_statistics_json.hpp"
#include "json_file.hpp"
#include "polarizability_train_command.hpp"
#include "training_data.hpp"
#include "training_record.hpp"

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
    print_alpha_and_lambda(out, report.calibration, report.selection, "samples");
    fmt::print(out,
               "{} features per species, {} weights per member; rows {:.1f} s, validation rows {:.1f} s, "
               "solve {:.1f} s\n",
               report.feature_count, report.weight_count, report.design_seconds, report.validation_seconds,
               report.solve_seconds);
}

}  // namespace

int run_train(const TrainCommandSettings& command, std::ostream& out) {
    if (command.target == "dipole") {
        return run_dipole_train(command, out);
    }
    if (command.target == "polarizability") {
        return run_polarizability_train(command, out);
    }
    if (command.target != "energy") {
        throw ConfigError("--target " + command.target +
                          " is not known; use energy, dipole or polarizability");
    }
    if (command.data_paths.empty()) {
        throw ConfigError("no training data; give at least one --data FILE.xyz");
    }
    const int threads = command.threads > 0 ? command.threads : tbb::info::default_concurrency();
    const tbb::global_control parallelism(tbb::global_control::max_allowed_parallelism,
                                          static_cast<std::size_t>(threads));
    const training::TrainSettings settings = read_settings(command);
    print_training_settings(out, "chorus train", "species from the data when absent", command, settings);

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

    TrainingData data = read_training_data(command.data_paths, baseline.get(), out);
    const training::DataSplit split = split_training_data(data, settings, out);
    training::TrainingResult result =
        training::train_linear_committee(data.frames, split, settings, progress_printer(out));

    record_split(data, split);
    const auto& report = result.report;
    result.parameters.training =
        training_record(command, settings, threads, data.files, report.selection,
                        settings.calibrate_on == training::CalibrationTarget::forces ? "forces" : "energies",
                        report.calibration);
    result.parameters.training["errors"] = {{"train", summary_json(report.train)},
                                            {"validation", summary_json(report.validation)},
                                            {"test", summary_json(report.test)}};
    if (baseline) {
        result.parameters.training["baseline"] = baseline_record;
    }
    models::save_linear_committee(result.parameters, command.out_path);
    print_summary(out, report);
    fmt::print(out, "wrote {}\n", command.out_path);
    return 0;
}

}  // namespace chorus::server
