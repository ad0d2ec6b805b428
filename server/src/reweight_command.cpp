#include "reweight_command.hpp"

#include <charconv>
#include <cmath>
#include <fstream>
#include <ostream>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include "chorus/engine/block_average.hpp"
#include "chorus/engine/reweighting.hpp"
#include "chorus/engine/units.hpp"
#include "chorus/error.hpp"
#include "committee_log.hpp"
#include "reweight_committee_log.hpp"
#include "reweight_ipi_extras.hpp"
#include "reweight_ipi_input.hpp"
#include "reweight_plot.hpp"

namespace chorus::server {
namespace {

// Below this fraction of the frames, an exact estimate rests on too few frames to be trusted.
constexpr double low_effective_sample_fraction = 0.1;

// Whitespace-separated numbers, one row per line, read as numpy.loadtxt reads them (which is how
// i-PI's tool reads its inputs): text after '#' is a comment, so i-PI's output headers and
// `#EXTRAS(...)# Step: N` lines are skipped, and blank lines too.
Eigen::MatrixXd read_table(const std::string& path) {
    std::ifstream file(path);
    if (!file) {
        throw IoError("cannot open '" + path + "' for reading; check the path");
    }
    std::vector<double> values;
    Eigen::Index columns = 0;
    Eigen::Index rows = 0;
    std::string line;
    for (int number = 1; std::getline(file, line); ++number) {
        const std::string_view text = std::string_view(line).substr(0, line.find('#'));
        Eigen::Index count = 0;
        std::size_t at = 0;
        while (true) {
            at = text.find_first_not_of(" \t\r\v\f", at);
            if (at == std::string_view::npos) {
                break;
            }
            const std::size_t end = std::min(text.find_first_of(" \t\r\v\f", at), text.size());
            const std::string_view field = text.substr(at, end - at);
            double value = 0.0;
            const auto [stop, error] = std::from_chars(field.data(), field.data() + field.size(), value);
            if (error != std::errc() || stop != field.data() + field.size() || !std::isfinite(value)) {
                throw InputError(
                    fmt::format("{}:{}: '{}' is not a finite number; the file must hold numbers only "
                                "(comments after '#')",
                                path, number, field));
            }
            values.push_back(value);
            ++count;
            at = end;
        }
        if (count == 0) {
            continue;
        }
        if (rows > 0 && count != columns) {
            throw InputError(
                fmt::format("{}:{}: {} columns, but the rows before have {}; every row needs the same "
                            "number of columns",
                            path, number, count, columns));
        }
        columns = count;
        ++rows;
    }
    if (rows == 0) {
        throw InputError("'" + path + "' holds no data rows; give a file with one row per frame");
    }
    // Row-major on disk, column-major in Eigen.
    return Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
        values.data(), rows, columns);
}

Eigen::MatrixXd every_nth_row(const Eigen::MatrixXd& table, int n) {
    const Eigen::Index kept = (table.rows() + n - 1) / n;
    Eigen::MatrixXd result(kept, table.cols());
    for (Eigen::Index r = 0; r < kept; ++r) {
        result.row(r) = table.row(r * n);
    }
    return result;
}

// --multi-obs: one observable predicted by several models (frames × N_a), named for the output.
struct ObservableCommittee {
    std::string name;
    Eigen::MatrixXd models;
};

struct Inputs {
    Eigen::MatrixXd potentials;                   // frames × M, eV
    Eigen::MatrixXd observables;                  // frames × K (--multi-obs: the first committee's models)
    std::vector<std::string> observable_names;    // K, for plots
    std::vector<ObservableCommittee> committees;  // --multi-obs only
    double kt_ev = 0.0;
    std::vector<std::string> notes;     // how the inputs were read (beads, dropped records), for the summary
    std::vector<std::string> warnings;  // about the inputs (a model reloaded mid-log)
};

// k_B T from exactly one of --kt, --temperature, --input, or else from the committee log's header.
double thermal_energy_ev(const ReweightSettings& settings,
                         const std::optional<double>& log_temperature_kelvin,
                         std::vector<std::string>& notes) {
    const int given = static_cast<int>(settings.kt_hartree.has_value()) +
                      static_cast<int>(settings.temperature_kelvin.has_value()) +
                      static_cast<int>(settings.ipi_input_path.has_value());
    if (given > 1) {
        throw ConfigError(
            "give the temperature once: --kt (Hartree), --temperature (K) or --input (i-PI input)");
    }
    double kt_ev = 0.0;
    if (settings.kt_hartree) {
        kt_ev = units::hartree_to_ev(*settings.kt_hartree);
    } else if (settings.temperature_kelvin) {
        kt_ev = units::kelvin_to_ev(*settings.temperature_kelvin);
    } else if (settings.ipi_input_path) {
        kt_ev = ipi_input_thermal_energy_ev(*settings.ipi_input_path);
        notes.push_back(
            fmt::format("kT from '{}' (CODATA 2018 k_B; i-PI's 3.1668152e-6 Ha/K differs by ~1e-6)",
                        *settings.ipi_input_path));
    } else if (log_temperature_kelvin) {
        kt_ev = units::kelvin_to_ev(*log_temperature_kelvin);
        notes.push_back(fmt::format("kT from the committee log's header: {} K", *log_temperature_kelvin));
    } else {
        throw ConfigError(
            "no temperature: give --kt (Hartree), --temperature (K) or --input (i-PI input), or "
            "start `chorus serve --committee-log` with --temperature");
    }
    if (!(kt_ev > 0.0) || !std::isfinite(kt_ev)) {
        throw ConfigError(
            fmt::format("the thermal energy must be positive, got kT = {} eV; check --kt or "
                        "--temperature",
                        kt_ev));
    }
    return kt_ev;
}

// i-PI's tool thins the potentials for a positive stride; for a negative one it thins the
// observables and then fails (the potentials are never read). Here both directions work.
void apply_stride(const ReweightSettings& settings, Eigen::MatrixXd& potentials, Eigen::MatrixXd& observables,
                  const std::string& potentials_name, const std::string& observables_name) {
    if (settings.stride > 0) {
        potentials = every_nth_row(potentials, settings.stride);
    } else {
        observables = every_nth_row(observables, -settings.stride);
    }
    if (potentials.rows() != observables.rows()) {
        throw InputError(fmt::format(
            "after --stride {}: {} frames of potentials ({}) but {} of observables ({}); "
            "the stride is the ratio of the two printing periods (positive when the "
            "potentials were printed more often, negative otherwise)",
            settings.stride, potentials.rows(), potentials_name, observables.rows(), observables_name));
    }
}

void select_index(const ReweightSettings& settings, Inputs& inputs, const std::string& source) {
    if (!settings.index) {
        return;
    }
    if (*settings.index < 0 || *settings.index >= inputs.observables.cols()) {
        throw InputError(
            fmt::format("--index {} is out of range: {} has {} columns (0-based indices 0 to {})",
                        *settings.index, source, inputs.observables.cols(), inputs.observables.cols() - 1));
    }
    inputs.observables = Eigen::MatrixXd(inputs.observables.col(*settings.index));
    inputs.observable_names = {inputs.observable_names[static_cast<std::size_t>(*settings.index)]};
}

// i-PI's tool inputs: potentials in Hartree, observables, one row per frame each.
Inputs read_tool_inputs(const ReweightSettings& settings) {
    if (settings.observables_path.empty()) {
        throw ConfigError("give the observables file after the potentials file (as i-PI's tool takes them)");
    }
    Inputs inputs;
    inputs.kt_ev = thermal_energy_ev(settings, std::nullopt, inputs.notes);
    Eigen::MatrixXd potentials = read_table(settings.potentials_path);
    inputs.observables = read_table(settings.observables_path);
    for (Eigen::Index k = 0; k < inputs.observables.cols(); ++k) {
        inputs.observable_names.push_back(fmt::format("column {} of {}", k, settings.observables_path));
    }
    select_index(settings, inputs, "'" + settings.observables_path + "'");
    apply_stride(settings, potentials, inputs.observables, "'" + settings.potentials_path + "'",
                 "'" + settings.observables_path + "'");
    inputs.potentials = potentials * units::hartree_in_ev;
    if (settings.multi_obs) {
        inputs.committees.push_back({"column(s) of '" + settings.observables_path + "'", inputs.observables});
    }
    return inputs;
}

// A committee log or i-PI extras: bead-averaged potentials per step (eV). Observable 0 is their
// committee mean, the potential energy; --observables adds columns.
Inputs read_trajectory_inputs(const ReweightSettings& settings) {
    Inputs inputs;
    Eigen::MatrixXd potentials;
    Eigen::MatrixXd dipole_scalars;  // steps × 4·(1 + M_d), from a log with dipoles
    std::size_t dipole_members = 0;
    std::optional<double> log_temperature;
    std::string source;
    if (settings.committee_log_path) {
        source = "'" + *settings.committee_log_path + "'";
        const CommitteeLogContents log = read_committee_log(*settings.committee_log_path);
        SteppedPotentials stepped = group_into_steps(log, settings.beads);
        potentials = std::move(stepped.potentials);
        dipole_scalars = std::move(stepped.dipole_scalars);
        dipole_members = log.dipole_members;
        log_temperature = log.temperature_kelvin;
        if (!log.reloads.empty()) {
            inputs.warnings.push_back(fmt::format(
                "the model changed mid-log ({} reload(s), the last: {}); the member energies before and "
                "after come from different committees, so reweight the parts separately unless the "
                "change is known to be harmless",
                log.reloads.size(), log.reloads.back()));
        }
        if (dipole_members > 0) {
            inputs.notes.push_back(fmt::format(
                "committee log: dipole committee of {} members (observables mu_x, mu_y, mu_z in e·Å, "
                "mu2 = |mu|^2 in (e·Å)^2)",
                dipole_members));
        }
        inputs.notes.push_back(fmt::format(
            "committee log: {} records, {} beads per step{}, {} steps", log.beads.size(), stepped.beads,
            log.beads.front() >= 0 ? " (by bead id)" : " (consecutive records)", potentials.rows()));
        if (stepped.incomplete_steps > 0 || log.truncated_lines > 0) {
            inputs.notes.push_back(
                fmt::format("committee log: skipped {} incomplete step(s) and {} cut line(s) "
                            "(interrupted runs)",
                            stepped.incomplete_steps, log.truncated_lines));
        }
    } else {
        if (settings.beads) {
            throw ConfigError("--beads applies to --committee-log; with --ipi-extras give one file per bead");
        }
        source = fmt::format("'{}'", settings.ipi_extras_paths.front());
        potentials = bead_averaged_committee_potentials(settings.ipi_extras_paths);
        inputs.notes.push_back(fmt::format("i-PI extras: {} bead file(s), {} steps",
                                           settings.ipi_extras_paths.size(), potentials.rows()));
    }
    inputs.kt_ev = thermal_energy_ev(settings, log_temperature, inputs.notes);

    Eigen::MatrixXd extra;
    if (settings.extra_observables_path) {
        extra = read_table(*settings.extra_observables_path);
    } else if (settings.multi_obs && dipole_members == 0) {
        throw ConfigError(
            "--multi-obs needs --observables FILE with one column per observable model, or a committee "
            "log written with --dipole-model (its dipole committee is then the observable committee)");
    } else {
        extra.resize(potentials.rows(), 0);
    }
    const std::string extra_name =
        settings.extra_observables_path ? "'" + *settings.extra_observables_path + "'" : "the potentials";
    // The dipole scalars are rows of the log, like the potentials: thinned with them.
    if (settings.stride > 0 && dipole_scalars.size() > 0) {
        dipole_scalars = every_nth_row(dipole_scalars, settings.stride);
    }
    apply_stride(settings, potentials, extra, source, extra_name);
    const auto scalars = static_cast<Eigen::Index>(dipole_scalar_count);
    if (settings.multi_obs) {
        if (extra.cols() > 0) {
            inputs.observables = std::move(extra);
            for (Eigen::Index k = 0; k < inputs.observables.cols(); ++k) {
                inputs.observable_names.push_back(fmt::format("column {} of {}", k, extra_name));
            }
            select_index(settings, inputs, extra_name);
            inputs.committees.push_back({"column(s) of " + extra_name, inputs.observables});
        } else if (settings.index) {
            throw ConfigError(
                "--index with --multi-obs picks a column of --observables FILE; the dipole scalars of the "
                "committee log are all reported");
        }
        // Imbalzano et al.'s two committees are independent: every member dipole is reweighted to
        // every potential member (N_a × M averages), whatever the two sizes are; no member pairing.
        for (Eigen::Index s = 0; s < scalars && dipole_members > 0; ++s) {
            Eigen::MatrixXd models(dipole_scalars.rows(), static_cast<Eigen::Index>(dipole_members));
            for (Eigen::Index k = 0; k < models.cols(); ++k) {
                models.col(k) = dipole_scalars.col(scalars * (1 + k) + s);
            }
            inputs.committees.push_back(
                {dipole_scalar_names[static_cast<std::size_t>(s)], std::move(models)});
        }
        if (inputs.observables.cols() == 0) {
            inputs.observables = inputs.committees.front().models;
        }
    } else {
        const Eigen::Index dipole_columns = dipole_members > 0 ? scalars : 0;
        inputs.observables.resize(potentials.rows(), 1 + dipole_columns + extra.cols());
        inputs.observables.col(0) = potentials.rowwise().mean();
        if (dipole_columns > 0) {
            // Without dipoles the scalar matrix has no rows either: nothing to copy.
            inputs.observables.middleCols(1, dipole_columns) = dipole_scalars.leftCols(dipole_columns);
        }
        inputs.observables.rightCols(extra.cols()) = extra;
        inputs.observable_names.push_back("potential energy (eV)");
        for (Eigen::Index s = 0; s < dipole_columns; ++s) {
            inputs.observable_names.push_back(fmt::format("{} of the mean dipole ({})",
                                                          dipole_scalar_names[static_cast<std::size_t>(s)],
                                                          s + 1 < scalars ? "e·Å" : "(e·Å)²"));
        }
        for (Eigen::Index k = 0; k < extra.cols(); ++k) {
            inputs.observable_names.push_back(fmt::format("column {} of {}", k, extra_name));
        }
        select_index(
            settings, inputs,
            dipole_columns > 0
                ? "the observables (0: potential energy, 1-4: mu_x, mu_y, mu_z, mu2, then " + extra_name + ")"
                : "the observables (0: potential energy, then " + extra_name + ")");
    }
    inputs.potentials = std::move(potentials);
    return inputs;
}

Inputs read_inputs(const ReweightSettings& settings) {
    const int sources = static_cast<int>(!settings.potentials_path.empty()) +
                        static_cast<int>(settings.committee_log_path.has_value()) +
                        static_cast<int>(!settings.ipi_extras_paths.empty());
    if (sources != 1) {
        throw ConfigError(
            "give the member potentials once: a potentials file and an observables file (i-PI's "
            "tool inputs), --committee-log FILE, or --ipi-extras FILE...");
    }
    if (settings.stride == 0) {
        throw ConfigError(
            "--stride 0 is meaningless; give a positive stride to thin the potentials or a negative "
            "one to thin the observables");
    }
    if (!settings.potentials_path.empty()) {
        if (settings.beads || settings.extra_observables_path) {
            throw ConfigError(
                "--beads and --observables go with --committee-log or --ipi-extras; i-PI's tool "
                "inputs take the observables file as the second argument");
        }
        return read_tool_inputs(settings);
    }
    if (!settings.observables_path.empty()) {
        throw ConfigError(
            fmt::format("'{}': with --committee-log or --ipi-extras, give observables with "
                        "--observables FILE",
                        settings.observables_path));
    }
    return read_trajectory_inputs(settings);
}

// --multi-obs: the decomposition for one observable committee.
struct CommitteeReport {
    std::string name;
    engine::ReweightedAverages averages;  // N_a rows: every model reweighted to every member
    engine::ObservableCommitteeUncertainty uncertainty;
    engine::BlockAverage sampling;  // of the per-frame model mean
};

struct Report {
    engine::ReweightedAverages averages;         // --multi-obs: the first committee's
    std::vector<engine::BlockAverage> sampling;  // per observable (--multi-obs: one per committee)
    Eigen::VectorXd effective_sample_sizes;
    std::vector<CommitteeReport> committees;  // --multi-obs
    std::vector<std::string> warnings;
};

Report compute(const ReweightSettings& settings, const Inputs& inputs) {
    const double beta = 1.0 / inputs.kt_ev;
    const Eigen::MatrixXd deviations = engine::potential_deviations(inputs.potentials);
    Report report;
    const auto reweight = [&](const Eigen::MatrixXd& observables) {
        return reweight_each_observable(deviations, observables, beta, settings.direct);
    };
    report.averages = reweight(inputs.observables);
    report.effective_sample_sizes = engine::effective_sample_sizes(deviations, beta);
    report.warnings = inputs.warnings;
    const auto frames = static_cast<double>(deviations.rows());
    if (settings.multi_obs) {
        for (const ObservableCommittee& committee : inputs.committees) {
            CommitteeReport entry;
            entry.name = committee.name;
            entry.averages = reweight(committee.models);
            entry.uncertainty = engine::observable_committee_uncertainty(entry.averages);
            entry.sampling = engine::block_average(committee.models.rowwise().mean());
            report.sampling.push_back(entry.sampling);
            report.committees.push_back(std::move(entry));
        }
    } else {
        for (Eigen::Index k = 0; k < inputs.observables.cols(); ++k) {
            report.sampling.push_back(engine::block_average(inputs.observables.col(k)));
        }
    }
    if (settings.direct) {
        for (Eigen::Index i = 0; i < report.effective_sample_sizes.size(); ++i) {
            const double ess = report.effective_sample_sizes[i];
            if (ess < low_effective_sample_fraction * frames) {
                report.warnings.push_back(
                    fmt::format("member {}: effective sample size {:.1f} is below 10 % of the {} frames; its "
                                "exact average is "
                                "unreliable (prefer the cumulant expansion, drop --direct, or sample longer)",
                                i, ess, deviations.rows()));
            }
        }
    }
    for (std::size_t k = 0; k < report.sampling.size(); ++k) {
        if (!report.sampling[k].reliable) {
            report.warnings.push_back(
                fmt::format("observable {}: only {} blocks of {} frames at the blocking plateau; the "
                            "statistical error is itself "
                            "uncertain by more than 13 % (sample longer)",
                            k, report.sampling[k].blocks, report.sampling[k].block_size));
        }
    }
    return report;
}

// i-PI's layout, byte for byte: numpy.savetxt with fmt "% 15.8e " (the value, a space, and the
// delimiter space between columns), or its format string for --multi-obs. The error column is
// the committee spread with ddof 1, where i-PI's tool prints numpy's default ddof 0 (smaller by
// sqrt((M−1)/M)): the spread of M members estimates the population's with ddof 1.
void write_ipi_layout(const Report& report, std::ostream& out) {
    if (!report.committees.empty()) {
        out << "#     Mean            Error         sigma_a        sigma_aV\n";
        if (report.committees.size() > 1) {
            // Several committees (a log's dipole scalars): one row each, named in this comment.
            std::string names = "# rows:";
            for (const auto& committee : report.committees) {
                names += " " + committee.name;
            }
            out << names << '\n';
        }
        for (const auto& committee : report.committees) {
            const auto& c = committee.uncertainty;
            fmt::print(out, "{:.8e}  {:.8e}  {:.8e}  {:.8e}\n", c.mean, c.total, c.sigma_a, c.sigma_av);
        }
        return;
    }
    out << "#     Mean            Error        <committee_1>         ....         <committee_N>\n";
    const auto& a = report.averages;
    for (Eigen::Index k = 0; k < a.members.rows(); ++k) {
        std::string row = fmt::format("{: 15.8e} ", a.member_mean[k]);
        row += fmt::format(" {: 15.8e} ", a.committee_spread[k]);
        for (Eigen::Index i = 0; i < a.members.cols(); ++i) {
            row += fmt::format(" {: 15.8e} ", a.members(k, i));
        }
        out << row << '\n';
    }
}

std::string method_name(const ReweightSettings& settings) {
    return settings.direct ? "exact reweighting" : "cumulant expansion (CEA)";
}

// The readable form, for --table (stdout) and, without it, for stderr.
void write_summary(const ReweightSettings& settings, const Inputs& inputs, const Report& report,
                   std::ostream& out) {
    const auto& a = report.averages;
    fmt::print(out, "chorus reweight: {} frames, {} members, kT = {:.6e} eV ({:.6e} Ha), {}\n",
               inputs.potentials.rows(), inputs.potentials.cols(), inputs.kt_ev,
               units::ev_to_hartree(inputs.kt_ev), method_name(settings));
    for (const auto& note : inputs.notes) {
        fmt::print(out, "{}\n", note);
    }
    if (!report.committees.empty()) {
        for (const auto& committee : report.committees) {
            const auto& c = committee.uncertainty;
            const auto& s = committee.sampling;
            fmt::print(out,
                       "{}: {} observable models: mean {:.8e}, total {:.3e} from sigma_a {:.3e} (models) and "
                       "sigma_aV {:.3e} "
                       "(potentials), Eqs. 26-28\n",
                       committee.name, committee.averages.members.rows(), c.mean, c.total, c.sigma_a,
                       c.sigma_av);
            fmt::print(out, "statistical error of the mean {:.3e} (block size {}, {} blocks)\n",
                       s.standard_error, s.block_size, s.blocks);
        }
    } else {
        fmt::print(out, "{:>4} {:>16} {:>11} {:>11} {:>7} {:>16} {:>11}\n", "obs", "sampled <a>", "stat. err",
                   "block size", "blocks", "member mean", "spread(dd1)");
        for (Eigen::Index k = 0; k < a.members.rows(); ++k) {
            const auto& s = report.sampling[static_cast<std::size_t>(k)];
            fmt::print(out, "{:>4} {:>16.8e} {:>11.3e} {:>11} {:>7} {:>16.8e} {:>11.3e}\n", k, a.sampled[k],
                       s.standard_error, s.block_size, s.blocks, a.member_mean[k], a.committee_spread[k]);
        }
        fmt::print(out, "member averages <a>_i (one row per observable):\n");
        for (Eigen::Index k = 0; k < a.members.rows(); ++k) {
            std::string row = fmt::format("{:>4}", k);
            for (Eigen::Index i = 0; i < a.members.cols(); ++i) {
                row += fmt::format(" {:>16.8e}", a.members(k, i));
            }
            fmt::print(out, "{}\n", row);
        }
    }
    std::string ess = "effective sample size per member:";
    for (Eigen::Index i = 0; i < report.effective_sample_sizes.size(); ++i) {
        ess += fmt::format(" {:.1f}", report.effective_sample_sizes[i]);
    }
    fmt::print(out, "{} (of {} frames)\n", ess, inputs.potentials.rows());
}

nlohmann::json to_json(const ReweightSettings& settings, const Inputs& inputs, const Report& report) {
    const auto& a = report.averages;
    nlohmann::json json;
    json["method"] = settings.direct ? "exact" : "cea";
    json["frames"] = inputs.potentials.rows();
    json["members"] = inputs.potentials.cols();
    json["kt_ev"] = inputs.kt_ev;
    json["kt_hartree"] = units::ev_to_hartree(inputs.kt_ev);
    json["stride"] = settings.stride;
    json["spread_ddof"] = 1;
    std::vector<double> ess(report.effective_sample_sizes.data(),
                            report.effective_sample_sizes.data() + report.effective_sample_sizes.size());
    json["effective_sample_size"] = ess;
    auto sampling_json = [](const engine::BlockAverage& s) {
        return nlohmann::json{{"statistical_error", s.standard_error},
                              {"block_size", s.block_size},
                              {"blocks", s.blocks},
                              {"reliable", s.reliable}};
    };
    nlohmann::json observables = nlohmann::json::array();
    for (Eigen::Index k = 0; k < a.members.rows(); ++k) {
        std::vector<double> members;
        for (Eigen::Index i = 0; i < a.members.cols(); ++i) {
            members.push_back(a.members(k, i));
        }
        nlohmann::json entry{{"sampled_average", a.sampled[k]},
                             {"member_mean", a.member_mean[k]},
                             {"committee_spread", a.committee_spread[k]},
                             {"member_averages", members}};
        if (report.committees.empty()) {
            entry.update(sampling_json(report.sampling[static_cast<std::size_t>(k)]));
        }
        observables.push_back(entry);
    }
    json["observables"] = observables;
    json["observable_names"] = inputs.observable_names;
    json["notes"] = inputs.notes;
    if (!report.committees.empty()) {
        nlohmann::json committees = nlohmann::json::array();
        for (const auto& committee : report.committees) {
            const auto& c = committee.uncertainty;
            nlohmann::json entry = {{"name", committee.name}, {"models", committee.averages.members.rows()},
                                    {"mean", c.mean},         {"total", c.total},
                                    {"sigma_a", c.sigma_a},   {"sigma_av", c.sigma_av}};
            entry.update(sampling_json(committee.sampling));
            committees.push_back(entry);
        }
        // The first one as before (i-PI-compatible inputs have exactly one); all of them by name.
        json["observable_committee"] = committees.front();
        json["observable_committees"] = committees;
    }
    json["warnings"] = report.warnings;
    return json;
}

}  // namespace

int run_reweight(const ReweightSettings& settings, std::ostream& out, std::ostream& err) {
    const Inputs inputs = read_inputs(settings);
    const Report report = compute(settings, inputs);
    if (settings.plot_path) {
        const RunningAverages running =
            running_averages(engine::potential_deviations(inputs.potentials), inputs.observables.col(0),
                             1.0 / inputs.kt_ev, settings.direct);
        plot_running_averages(running, inputs.observable_names.front(), *settings.plot_path);
    }

    const bool json_to_stdout = settings.json_path && *settings.json_path == "-";
    if (settings.table) {
        write_summary(settings, inputs, report, out);
    } else if (!json_to_stdout) {
        write_ipi_layout(report, out);
    }
    if (settings.json_path) {
        const std::string text = to_json(settings, inputs, report).dump(2) + "\n";
        if (json_to_stdout) {
            out << text;
        } else {
            std::ofstream file(*settings.json_path);
            if (!(file << text)) {
                throw IoError("cannot write '" + *settings.json_path + "'; check that its directory exists");
            }
        }
    }
    // Scripts written for i-PI's tool read stdout; what it does not print goes to stderr.
    if (!settings.table && !settings.json_path) {
        write_summary(settings, inputs, report, err);
    }
    for (const auto& warning : report.warnings) {
        err << "chorus reweight: warning: " << warning << '\n';
    }
    return 0;
}

}  // namespace chorus::server
