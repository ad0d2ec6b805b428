#include "eval_command.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <ostream>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <nlohmann/json.hpp>

#include "chorus/error.hpp"
#include "chorus/models/dipole/dipole_committee.hpp"
#include "chorus/models/extxyz.hpp"
#include "chorus/models/linear_committee.hpp"
#include "chorus/models/model_file.hpp"
#include "chorus/models/polarizability/polarizability_committee.hpp"
#include "chorus/models/training/train_evaluation.hpp"
#include "dipole_eval_command.hpp"
#include "error_statistics_json.hpp"
#include "eval_frames.hpp"
#include "gnuplot.hpp"
#include "json_file.hpp"
#include "polarizability_eval_command.hpp"

namespace chorus::server {
namespace {

namespace training = models::training;

// Only linear committees record their training split; other kinds are refused with the reason.
std::vector<std::size_t> linear_committee_subset(const engine::Model& model, const std::string& subset,
                                                 const std::string& path, const std::string& hash) {
    const auto* committee = dynamic_cast<const models::LinearCommittee*>(&model);
    if (committee == nullptr) {
        throw ConfigError("--subset " + subset +
                          " needs a linear committee written by `chorus train`; this model is " +
                          std::string(model.kind()) + "; use --subset all");
    }
    return recorded_subset(committee->parameters().training, subset, path, hash, "model");
}

nlohmann::json matrix_json(const Eigen::MatrixXd& m) {
    nlohmann::json rows = nlohmann::json::array();
    for (Eigen::Index c = 0; c < m.cols(); ++c) {  // one row per atom (column of the 3 × N matrix)
        rows.push_back(std::vector<double>(m.col(c).data(), m.col(c).data() + m.rows()));
    }
    return rows;
}

void print_summary(std::ostream& out, const training::ErrorSummary& s) {
    fmt::print(out, "\nsummary over {} frames ({} force components)\n", s.frames, s.force_components);
    if (s.energy_rmse_per_atom) {
        fmt::print(out, "  energy RMSE {:.4f} meV/atom (MAE {:.4f})\n", *s.energy_rmse_per_atom * 1e3,
                   *s.energy_mae_per_atom * 1e3);
    }
    if (s.force_rmse) {
        fmt::print(out, "  force RMSE {:.5f} eV/Å = {:.3f} % of the reference std {:.4f} eV/Å\n",
                   *s.force_rmse, 100.0 * *s.force_rmse / *s.force_reference_std, *s.force_reference_std);
    }
    if (s.virial_rmse_per_atom) {
        fmt::print(out, "  virial RMSE {:.4f} meV/atom\n", *s.virial_rmse_per_atom * 1e3);
    }
    const auto calibration = [&out](const char* what, const engine::UncertaintyStatistics& c) {
        if (c.count == 0) {
            return;
        }
        fmt::print(out,
                   "  {} calibration: within ±σ {:.1f} %, ±2σ {:.1f} % (ideal 68.3 / 95.4), NLL {:.4f}, "
                   "RMS σ {:.4g} vs RMSE {:.4g}\n",
                   what, 100.0 * c.within_one_sigma, 100.0 * c.within_two_sigma,
                   c.mean_negative_log_likelihood, c.rms_sigma, c.rmse);
    };
    calibration("force", s.force_calibration);
    calibration("energy", s.energy_calibration);
}

// gnuplot is driven as an external tool: data files plus a script, one PNG per plot.
void write_plots(const std::filesystem::path& directory,
                 const std::vector<training::FramePrediction>& predictions,
                 const training::ErrorSummary& summary, std::ostream& out) {
    std::filesystem::create_directories(directory);
    {
        std::ofstream energies(directory / "energy.dat");
        std::ofstream forces(directory / "forces.dat");
        energies << "# reference_eV_per_atom predicted_eV_per_atom sigma_eV_per_atom\n";
        forces << "# reference_eV_per_A predicted_eV_per_A sigma_eV_per_A\n";
        for (const auto& p : predictions) {
            const double n = static_cast<double>(p.atoms);
            if (p.reference_energy) {
                fmt::print(energies, "{:.10g} {:.10g} {:.6g}\n", *p.reference_energy / n, p.energy / n,
                           p.energy_sigma / n);
            }
            if (p.reference_forces) {
                for (Eigen::Index i = 0; i < p.forces.size(); ++i) {
                    fmt::print(forces, "{:.8g} {:.8g} {:.6g}\n", p.reference_forces->data()[i],
                               p.forces.data()[i], p.force_sigma.data()[i]);
                }
            }
        }
        std::ofstream curve(directory / "force_calibration.dat");
        curve << "# rms_sigma_eV_per_A rms_error_eV_per_A count\n";
        for (const auto& bin : summary.force_calibration.curve) {
            fmt::print(curve, "{:.6g} {:.6g} {}\n", bin.rms_sigma, bin.rms_error, bin.count);
        }
    }
    std::ofstream script(directory / "plots.gnuplot");
    script
        << "set terminal pngcairo size 800,700 font ',12'\n"
           "set key top left\nset grid\n"
           "set output 'parity_energy.png'\n"
           "set title 'Energy parity'\nset xlabel 'reference energy (eV/atom)'\nset ylabel 'predicted energy "
           "(eV/atom)'\n"
           "plot 'energy.dat' using 1:2 with points pt 7 ps 0.6 title 'frames', x with lines lc rgb 'black' "
           "title 'y = x'\n"
           "set output 'parity_forces.png'\n"
           "set title 'Force parity (components)'\nset xlabel 'reference force (eV/Å)'\nset ylabel "
           "'predicted force (eV/Å)'\n"
           "plot 'forces.dat' using 1:2 with dots title 'components', x with lines lc rgb 'black' title 'y = "
           "x'\n"
           "set output 'calibration_forces.png'\n"
           "set title 'Force error vs committee σ (quantile bins)'\nset xlabel 'RMS predicted σ (eV/Å)'\n"
           "set ylabel 'RMS error (eV/Å)'\nset logscale xy\nset format xy '%g'\n"
           "plot 'forces.dat' using 3:(abs($1-$2)) with dots lc rgb '#bbbbbb' title '|error| per component', "
           "'force_calibration.dat' using 1:2 with linespoints pt 7 lw 2 title 'binned RMS error', "
           "x with lines lc rgb 'black' title 'calibrated: error = σ'\n";
    script.close();
    run_gnuplot(directory, "plots.gnuplot");
    fmt::print(out, "plots: {}/parity_energy.png, parity_forces.png, calibration_forces.png\n",
               directory.string());
}

}  // namespace

int run_eval(const EvalCommandSettings& settings, std::ostream& out) {
    if (settings.data_paths.empty()) {
        throw ConfigError("no data to evaluate; give one or more extxyz files");
    }
    const std::string kind = model_file_kind(settings.model_path);
    if (kind == models::dipole::dipole_committee_kind) {
        return run_dipole_eval(settings, out);
    }
    if (kind == models::polarizability::polarizability_committee_kind) {
        return run_polarizability_eval(settings, out);
    }
    if (settings.dipole_observable || settings.observables_out) {
        throw ConfigError("--dipole-observable and --observables-out apply to dipole models; '" +
                          settings.model_path + "' is not one");
    }
    // The file's own model knows its training split; the evaluated one may add a baseline to it.
    const std::shared_ptr<const engine::Model> file_model = models::load_model(settings.model_path);
    const std::shared_ptr<const engine::Model> model = with_baseline(file_model, settings.baseline);
    fmt::print(out, "model: {} ({})\n", settings.model_path, model->description());

    const EvalFrames selected = read_eval_frames(
        settings.data_paths, settings.subset, [&](const std::string& path, const std::string& hash) {
            return linear_committee_subset(*file_model, settings.subset, path, hash);
        });
    const std::vector<FrameOrigin>& origins = selected.origins;
    const std::vector<const models::Frame*> pointers = selected.pointers();
    const auto predictions = training::predict_frames(*model, pointers);
    const training::ErrorSummary summary = training::summarise_errors(predictions);

    fmt::print(out, "{:>5} {:>6} {:>6} {:>14} {:>12} {:>12} {:>12}\n", "file", "frame", "atoms", "E (eV)",
               "dE (meV/at)", "σE (meV/at)", "F RMSE");
    nlohmann::json frame_json = nlohmann::json::array();
    for (std::size_t f = 0; f < predictions.size(); ++f) {
        const auto& p = predictions[f];
        const double n = static_cast<double>(p.atoms);
        const std::optional<double> energy_error =
            p.reference_energy ? std::optional<double>((p.energy - *p.reference_energy) / n) : std::nullopt;
        const bool has_forces = p.reference_forces.has_value();
        const double force_rmse = has_forces ? std::sqrt((p.forces - *p.reference_forces).squaredNorm() /
                                                         static_cast<double>(p.forces.size()))
                                             : 0.0;
        fmt::print(out, "{:>5} {:>6} {:>6} {:>14.6f} {:>12} {:>12.4f} {:>12}\n", origins[f].file,
                   origins[f].index, p.atoms, p.energy,
                   energy_error ? fmt::format("{:.4f}", *energy_error * 1e3) : "-", p.energy_sigma / n * 1e3,
                   has_forces ? fmt::format("{:.5f}", force_rmse) : "-");
        nlohmann::json entry{{"file", origins[f].file},
                             {"index", origins[f].index},
                             {"atoms", p.atoms},
                             {"energy", p.energy},
                             {"energy_sigma", p.energy_sigma},
                             {"forces", matrix_json(p.forces)},
                             {"virial", matrix_json(p.virial)}};
        if (p.reference_energy) {
            entry["reference_energy"] = *p.reference_energy;
        }
        if (has_forces) {
            entry["force_rmse"] = force_rmse;
        }
        frame_json.push_back(entry);
    }
    print_summary(out, summary);

    if (settings.json_path) {
        nlohmann::json json{{"model", settings.model_path},
                            {"files", settings.data_paths},
                            {"subset", settings.subset},
                            {"frames", frame_json}};
        nlohmann::json s{{"frames", summary.frames}, {"force_components", summary.force_components}};
        if (summary.energy_rmse_per_atom) {
            s["energy_rmse_per_atom"] = *summary.energy_rmse_per_atom;
        }
        if (summary.force_rmse) {
            s["force_rmse"] = *summary.force_rmse;
            s["force_reference_std"] = *summary.force_reference_std;
        }
        if (summary.virial_rmse_per_atom) {
            s["virial_rmse_per_atom"] = *summary.virial_rmse_per_atom;
        }
        s["force_calibration"] = statistics_with_curve_json(summary.force_calibration);
        s["energy_calibration"] = statistics_with_curve_json(summary.energy_calibration);
        json["summary"] = s;
        write_json_file(*settings.json_path, json, 1, "the evaluation report");
    }
    if (settings.plot_directory) {
        write_plots(*settings.plot_directory, predictions, summary, out);
    }
    return 0;
}

}  // namespace chorus::server
