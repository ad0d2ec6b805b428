#include "polarizability_eval_command.hpp"

#include <filesystem>
#include <fstream>
#include <ostream>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <nlohmann/json.hpp>

#include "chorus/error.hpp"
#include "chorus/models/extxyz.hpp"
#include "chorus/models/polarizability/polarizability_training.hpp"
#include "eval_frames.hpp"
#include "json_file.hpp"
#include "polarizability_report.hpp"

namespace chorus::server {
namespace {

namespace polarizability = models::polarizability;

nlohmann::json rows_of(const Eigen::Matrix3d& tensor) {
    nlohmann::json rows = nlohmann::json::array();
    for (int a = 0; a < 3; ++a) {
        rows.push_back({tensor(a, 0), tensor(a, 1), tensor(a, 2)});
    }
    return rows;
}

}  // namespace

int run_polarizability_eval(const EvalCommandSettings& settings, std::ostream& out) {
    if (settings.data_paths.empty()) {
        throw ConfigError("no data to evaluate; give one or more extxyz files");
    }
    if (settings.baseline.path) {
        throw ConfigError("--baseline applies to energy models; '" + settings.model_path +
                          "' is a polarizability model");
    }
    if (settings.plot_directory || settings.observables_out || settings.dipole_observable) {
        throw ConfigError(
            "--plot, --observables-out and --dipole-observable are not available for the "
            "polarizability model '" +
            settings.model_path + "'; use --json for the per-frame tensors");
    }
    const auto model = polarizability::load_polarizability_committee(settings.model_path);
    fmt::print(out, "model: {} ({})\n", settings.model_path, model->description());

    const EvalFrames selected = read_eval_frames(
        settings.data_paths, settings.subset, [&](const std::string& path, const std::string& hash) {
            return recorded_subset(model->parameters().training, settings.subset, path, hash,
                                   "polarizability model");
        });
    const std::vector<FrameOrigin>& origins = selected.origins;
    const auto predictions = polarizability::predict_polarizabilities(*model, selected.pointers());
    const polarizability::PolarizabilityErrorSummary summary =
        polarizability::summarise_polarizability_errors(predictions);

    fmt::print(out, "{:>5} {:>6} {:>6} {:>14} {:>12} {:>14}\n", "file", "frame", "atoms", "tr α/3",
               "σ(tr α/3)", "‖Δα‖_F");
    nlohmann::json frame_json = nlohmann::json::array();
    for (std::size_t f = 0; f < predictions.size(); ++f) {
        const auto& p = predictions[f];
        const auto& m = p.prediction;
        const double sqrt3 = std::sqrt(3.0);
        fmt::print(out, "{:>5} {:>6} {:>6} {:>14.5g} {:>12.4g} {:>14}\n", origins[f].file, origins[f].index,
                   p.atoms, m.coordinates[0] / sqrt3, m.coordinate_sigma[0] / sqrt3,
                   p.reference ? fmt::format("{:.4g}", (*p.reference - m.mean).norm()) : "-");
        nlohmann::json entry{{"file", origins[f].file},
                             {"index", origins[f].index},
                             {"atoms", p.atoms},
                             {"polarizability", rows_of(m.mean)},
                             {"polarizability_sigma", rows_of(m.sigma)},
                             {"isotropic", m.coordinates[0] / sqrt3},
                             {"isotropic_sigma", m.coordinate_sigma[0] / sqrt3},
                             {"polarizability_members", nlohmann::json::array()}};
        for (const auto& member : m.members) {
            entry["polarizability_members"].push_back(rows_of(member));
        }
        if (p.reference) {
            entry["reference_polarizability"] = rows_of(*p.reference);
        }
        frame_json.push_back(entry);
    }
    print_polarizability_table(out, {{settings.subset, &summary}});

    if (settings.json_path) {
        const nlohmann::json json{{"model", settings.model_path},
                                  {"kind", polarizability::polarizability_committee_kind},
                                  {"units", polarizability::polarizability_unit},
                                  {"files", settings.data_paths},
                                  {"subset", settings.subset},
                                  {"frames", frame_json},
                                  {"summary", polarizability_summary_json(summary)}};
        write_json_file(*settings.json_path, json, 1, "the evaluation report");
    }
    return 0;
}

}  // namespace chorus::server
