#include "dipole_eval_command.hpp"

#include <filesystem>
#include <fstream>
#include <ostream>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <nlohmann/json.hpp>

#include "chorus/error.hpp"
#include "chorus/models/dipole/dipole_training.hpp"
#include "chorus/models/extxyz.hpp"
#include "dipole_report.hpp"
#include "eval_frames.hpp"
#include "gnuplot.hpp"
#include "json_file.hpp"

namespace chorus::server {
namespace {

namespace dipole = models::dipole;

void write_plots(const std::filesystem::path& directory,
                 const std::vector<dipole::DipoleFramePrediction>& predictions,
                 const dipole::DipoleErrorSummary& summary, std::ostream& out) {
    std::filesystem::create_directories(directory);
    {
        std::ofstream components(directory / "dipole.dat");
        components << "# axis(0=x,1=y,2=z) reference_e_A predicted_e_A sigma_e_A\n";
        std::ofstream norms(directory / "dipole_norm.dat");
        norms << "# reference_norm_e_A predicted_norm_e_A sigma_norm_e_A\n";
        for (const auto& p : predictions) {
            if (!p.reference) {
                continue;
            }
            for (int d = 0; d < 3; ++d) {
                fmt::print(components, "{} {:.10g} {:.10g} {:.6g}\n", d, (*p.reference)[d],
                           p.prediction.mean[d], p.prediction.sigma[d]);
            }
            fmt::print(norms, "{:.10g} {:.10g} {:.6g}\n", p.reference->norm(), p.prediction.norm,
                       p.prediction.norm_sigma);
        }
        std::ofstream curve(directory / "dipole_calibration.dat");
        curve << "# rms_sigma_e_A rms_error_e_A count\n";
        for (const auto& bin : summary.component_calibration.curve) {
            fmt::print(curve, "{:.6g} {:.6g} {}\n", bin.rms_sigma, bin.rms_error, bin.count);
        }
    }
    std::ofstream script(directory / "dipole_plots.gnuplot");
    script << "set terminal pngcairo size 800,700 font ',12'\n"
              "set key top left\nset grid\n"
              "set output 'parity_dipole.png'\n"
              "set title 'Dipole parity (components)'\nset xlabel 'reference μ (e·Å)'\n"
              "set ylabel 'predicted μ (e·Å)'\n"
              "plot 'dipole.dat' using ($1==0?$2:1/0):3 with points pt 7 ps 0.5 title 'x', "
              "'dipole.dat' using ($1==1?$2:1/0):3 with points pt 7 ps 0.5 title 'y', "
              "'dipole.dat' using ($1==2?$2:1/0):3 with points pt 7 ps 0.5 title 'z', "
              "x with lines lc rgb 'black' title 'y = x'\n"
              "set output 'parity_dipole_norm.png'\n"
              "set title 'Dipole magnitude parity'\nset xlabel 'reference |μ| (e·Å)'\n"
              "set ylabel 'predicted |μ| (e·Å)'\n"
              "plot 'dipole_norm.dat' using 1:2:3 with yerrorbars pt 7 ps 0.5 title 'frames (±σ)', "
              "x with lines lc rgb 'black' title 'y = x'\n"
              "set output 'calibration_dipole.png'\n"
              "set title 'Dipole error vs committee σ (quantile bins)'\nset xlabel 'RMS predicted σ (e·Å)'\n"
              "set ylabel 'RMS error (e·Å)'\nset logscale xy\nset format xy '%g'\n"
              "plot 'dipole.dat' using 4:(abs($2-$3)) with points pt 7 ps 0.3 lc rgb '#bbbbbb' "
              "title '|error| per component', "
              "'dipole_calibration.dat' using 1:2 with linespoints pt 7 lw 2 title 'binned RMS error', "
              "x with lines lc rgb 'black' title 'calibrated: error = σ'\n";
    script.close();
    run_gnuplot(directory, "dipole_plots.gnuplot");
    fmt::print(out, "plots: {}/parity_dipole.png, parity_dipole_norm.png, calibration_dipole.png\n",
               directory.string());
}

double member_scalar(const Eigen::Matrix3Xd& members, Eigen::Index k, const std::string& observable) {
    if (observable == "norm2") {
        return members.col(k).squaredNorm();
    }
    return members(observable == "x" ? 0 : observable == "y" ? 1 : 2, k);
}

// One row per frame (averaged over the files, which must be equally long: one per bead), one
// column per member, numpy.savetxt-like so that `chorus reweight --observables FILE --multi-obs`
// and i-PI's own tool read it.
void write_observables(const EvalCommandSettings& settings,
                       const std::vector<dipole::DipoleFramePrediction>& predictions,
                       const std::vector<FrameOrigin>& origins, std::ostream& out) {
    if (!settings.dipole_observable) {
        throw ConfigError(
            "--observables-out needs --dipole-observable x|y|z|norm2 (which scalar of the dipole)");
    }
    if (settings.subset != "all") {
        throw ConfigError(
            "--observables-out writes one row per frame of a trajectory; use it with --subset all");
    }
    const std::size_t files = settings.data_paths.size();
    const std::size_t frames = predictions.size() / files;
    for (std::size_t f = 0; f < predictions.size(); ++f) {
        if (origins[f].file != f / std::max<std::size_t>(frames, 1) || predictions.size() % files != 0) {
            throw InputError(
                "--observables-out averages several files frame by frame (one per bead), so they must "
                "have the same number of frames; '" +
                settings.data_paths[origins[f].file] + "' differs from '" + settings.data_paths[0] + "'");
        }
    }
    const Eigen::Index members = predictions.empty() ? 0 : predictions.front().prediction.members.cols();
    std::ofstream table(*settings.observables_out);
    fmt::print(table, "# {} of each of the {} dipole members ({}), one row per frame{}\n",
               *settings.dipole_observable, members,
               *settings.dipole_observable == "norm2" ? "(e*angstrom)^2" : "e*angstrom",
               files > 1 ? fmt::format(", averaged over {} files (beads)", files) : "");
    for (std::size_t frame = 0; frame < frames; ++frame) {
        std::string line;
        for (Eigen::Index k = 0; k < members; ++k) {
            double sum = 0.0;
            for (std::size_t file = 0; file < files; ++file) {
                sum += member_scalar(predictions[file * frames + frame].prediction.members, k,
                                     *settings.dipole_observable);
            }
            line += fmt::format("{}{: .10e}", k == 0 ? "" : " ", sum / static_cast<double>(files));
        }
        table << line << '\n';
    }
    if (!table.flush()) {
        throw IoError("cannot write '" + *settings.observables_out + "'; check that its directory exists");
    }
    fmt::print(out, "observables: {} ({} rows × {} members of {})\n", *settings.observables_out, frames,
               members, *settings.dipole_observable);
}

}  // namespace

int run_dipole_eval(const EvalCommandSettings& settings, std::ostream& out) {
    if (settings.data_paths.empty()) {
        throw ConfigError("no data to evaluate; give one or more extxyz files");
    }
    if (settings.baseline.path) {
        throw ConfigError("--baseline applies to energy models; '" + settings.model_path +
                          "' is a dipole model");
    }
    const auto model = dipole::load_dipole_committee(settings.model_path);
    fmt::print(out, "model: {} ({})\n", settings.model_path, model->description());

    const EvalFrames selected = read_eval_frames(
        settings.data_paths, settings.subset, [&](const std::string& path, const std::string& hash) {
            return recorded_subset(model->parameters().training, settings.subset, path, hash, "dipole model");
        });
    const std::vector<FrameOrigin>& origins = selected.origins;
    const std::vector<const models::Frame*> pointers = selected.pointers();
    const auto predictions = dipole::predict_dipoles(*model, pointers);
    const dipole::DipoleErrorSummary summary = dipole::summarise_dipole_errors(predictions);

    fmt::print(out, "{:>5} {:>6} {:>6} {:>30} {:>26} {:>10}\n", "file", "frame", "atoms", "μ (e·Å)",
               "σ (e·Å)", "|Δμ|");
    nlohmann::json frame_json = nlohmann::json::array();
    for (std::size_t f = 0; f < predictions.size(); ++f) {
        const auto& p = predictions[f];
        const auto& m = p.prediction;
        fmt::print(out, "{:>5} {:>6} {:>6} {:>30} {:>26} {:>10}\n", origins[f].file, origins[f].index,
                   p.atoms, fmt::format("{:.4f} {:.4f} {:.4f}", m.mean[0], m.mean[1], m.mean[2]),
                   fmt::format("{:.4f} {:.4f} {:.4f}", m.sigma[0], m.sigma[1], m.sigma[2]),
                   p.reference ? fmt::format("{:.4f}", (*p.reference - m.mean).norm()) : "-");
        nlohmann::json entry{{"file", origins[f].file},
                             {"index", origins[f].index},
                             {"atoms", p.atoms},
                             {"dipole", {m.mean[0], m.mean[1], m.mean[2]}},
                             {"dipole_sigma", {m.sigma[0], m.sigma[1], m.sigma[2]}},
                             {"dipole_norm", m.norm},
                             {"dipole_norm_sigma", m.norm_sigma},
                             {"dipole_members", nlohmann::json::array()}};
        for (Eigen::Index k = 0; k < m.members.cols(); ++k) {
            entry["dipole_members"].push_back({m.members(0, k), m.members(1, k), m.members(2, k)});
        }
        if (p.reference) {
            entry["reference_dipole"] = {(*p.reference)[0], (*p.reference)[1], (*p.reference)[2]};
        }
        frame_json.push_back(entry);
    }
    print_dipole_table(out, {{settings.subset, &summary}});

    if (settings.json_path) {
        const nlohmann::json json{{"model", settings.model_path},
                                  {"kind", dipole::dipole_committee_kind},
                                  {"units", "e*angstrom"},
                                  {"files", settings.data_paths},
                                  {"subset", settings.subset},
                                  {"frames", frame_json},
                                  {"summary", dipole_summary_json(summary)}};
        write_json_file(*settings.json_path, json, 1, "the evaluation report");
    }
    if (settings.plot_directory) {
        write_plots(*settings.plot_directory, predictions, summary, out);
    }
    if (settings.observables_out) {
        write_observables(settings, predictions, origins, out);
    } else if (settings.dipole_observable) {
        throw ConfigError("--dipole-observable goes with --observables-out FILE (where to write the table)");
    }
    return 0;
}

}  // namespace chorus::server
