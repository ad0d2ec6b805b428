#include "reweight_committee_log.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <fstream>
#include <string_view>

#include <fmt/format.h>

#include "chorus/error.hpp"
#include "committee_log.hpp"

namespace chorus::server {
namespace {

std::vector<std::string_view> split_fields(std::string_view text) {
    std::vector<std::string_view> fields;
    std::size_t at = 0;
    while ((at = text.find_first_not_of(" \t\r", at)) != std::string_view::npos) {
        const std::size_t end = std::min(text.find_first_of(" \t\r", at), text.size());
        fields.push_back(text.substr(at, end - at));
        at = end;
    }
    return fields;
}

template <typename Number>
bool parse(std::string_view field, Number& value) {
    const auto [stop, error] = std::from_chars(field.data(), field.data() + field.size(), value);
    return error == std::errc() && stop == field.data() + field.size();
}

// "# key: value" → value, for the header lines this reader needs.
std::optional<std::string_view> header_value(std::string_view line, std::string_view key) {
    const std::string prefix = fmt::format("# {}:", key);
    if (line.substr(0, prefix.size()) != prefix) {
        return std::nullopt;
    }
    std::string_view value = line.substr(prefix.size());
    value.remove_prefix(std::min(value.find_first_not_of(' '), value.size()));
    while (!value.empty() && (value.back() == ' ' || value.back() == '\r')) {
        value.remove_suffix(1);
    }
    return value;
}

// The columns before and after the member energies (committee_log.hpp).
constexpr std::size_t leading_columns = 6;   // time connection bead counter atoms energy_mean
constexpr std::size_t trailing_columns = 2;  // sigma_energy max_atomic_sigma

}  // namespace

CommitteeLogContents read_committee_log(const std::string& path) {
    std::ifstream file(path);
    if (!file) {
        throw IoError("cannot open the committee log '" + path + "' for reading; check the path");
    }
    const std::string magic = "# chorus-committee-log ";
    CommitteeLogContents log;
    std::vector<double> energies;
    std::vector<double> dipole_scalars;
    int block = -1;
    bool block_has_members = false;
    std::size_t block_dipole_members = 0;
    std::optional<std::size_t> log_dipole_members;  // set by the first record
    std::string line;
    for (int number = 1; std::getline(file, line); ++number) {
        const std::string_view text(line);
        const auto where = [&] { return fmt::format("{}:{}", path, number); };
        if (text.substr(0, magic.size()) == magic) {
            int version = 0;
            if (!parse(split_fields(text.substr(magic.size())).at(0), version) ||
                version != committee_log_format_version) {
                throw InputError(
                    fmt::format("{}: committee log format '{}' is not version {}, the one this chorus "
                                "reads; use the chorus that wrote it",
                                where(), text.substr(magic.size()), committee_log_format_version));
            }
            ++block;
            block_has_members = false;
            block_dipole_members = 0;
            continue;
        }
        if (!text.empty() && text.front() == '#') {
            if (block < 0) {
                continue;
            }
            if (const auto value = header_value(text, "members")) {
                std::size_t members = 0;
                if (!parse(*value, members) || members == 0) {
                    throw InputError(fmt::format("{}: '{}' is not a member count", where(), *value));
                }
                if (log.members != 0 && members != log.members) {
                    throw InputError(
                        fmt::format("{}: this run of chorus logged {} members, an earlier one {}; "
                                    "reweight the runs of one committee separately",
                                    where(), members, log.members));
                }
                log.members = members;
                block_has_members = true;
            } else if (const auto dipoles = header_value(text, "dipole_members")) {
                if (!parse(*dipoles, block_dipole_members) || block_dipole_members == 0) {
                    throw InputError(fmt::format("{}: '{}' is not a dipole member count", where(), *dipoles));
                }
            } else if (const auto reload = header_value(text, "reload")) {
                log.reloads.emplace_back(*reload);
            } else if (const auto temperature = header_value(text, "temperature_K")) {
                double kelvin = 0.0;
                if (!parse(*temperature, kelvin) || !(kelvin > 0.0) || !std::isfinite(kelvin)) {
                    throw InputError(
                        fmt::format("{}: '{}' is not a temperature in K", where(), *temperature));
                }
                if (log.temperature_kelvin && *log.temperature_kelvin != kelvin) {
                    throw InputError(
                        fmt::format("{}: temperature {} K differs from an earlier run's {} K; give the "
                                    "one to reweight at with --temperature",
                                    where(), kelvin, *log.temperature_kelvin));
                }
                log.temperature_kelvin = kelvin;
            }
            continue;
        }
        const auto fields = split_fields(text);
        if (fields.empty()) {
            continue;
        }
        if (block < 0 || !block_has_members) {
            throw InputError(
                fmt::format("{}: a record before any '# chorus-committee-log' header with '# members:'; "
                            "this is not a chorus committee log (for i-PI's files give them as "
                            "positional arguments or with --ipi-extras)",
                            where()));
        }
        if (!log_dipole_members) {
            log_dipole_members = block_dipole_members;
        } else if (*log_dipole_members != block_dipole_members) {
            throw InputError(
                fmt::format("{}: this run of chorus logged a dipole committee of {} members, an earlier one "
                            "of {} (0: no --dipole-model); reweight these runs separately",
                            where(), block_dipole_members, *log_dipole_members));
        }
        const std::size_t dipole_columns = block_dipole_members > 0 ? 3 * (1 + block_dipole_members) : 0;
        const std::size_t expected = leading_columns + log.members + trailing_columns + dipole_columns;
        if (fields.size() < expected) {
            // A record cut by a killed process or a failed write: the rest of the file is fine.
            ++log.truncated_lines;
            continue;
        }
        if (fields.size() > expected) {
            throw InputError(
                fmt::format("{}: {} columns where {} members make {}; is this file a mix of logs?", where(),
                            fields.size(), log.members, expected));
        }
        std::int32_t bead = 0;
        if (!parse(fields[2], bead) || bead < -1) {
            throw InputError(fmt::format("{}: bead '{}' is not −1 or a bead index", where(), fields[2]));
        }
        for (std::size_t k = 0; k < log.members; ++k) {
            double value = 0.0;
            const std::string_view field = fields[leading_columns + k];
            if (!parse(field, value) || !std::isfinite(value)) {
                throw InputError(
                    fmt::format("{}: member energy {} '{}' is not a finite number", where(), k + 1, field));
            }
            energies.push_back(value);
        }
        const std::size_t first_dipole = leading_columns + log.members + trailing_columns;
        for (std::size_t d = 0; d < dipole_columns; d += 3) {
            std::array<double, 3> dipole{};
            for (std::size_t c = 0; c < 3; ++c) {
                const std::string_view field = fields[first_dipole + d + c];
                if (!parse(field, dipole[c]) || !std::isfinite(dipole[c])) {
                    throw InputError(fmt::format("{}: dipole column {} '{}' is not a finite number (e·Å)",
                                                 where(), d + c + 1, field));
                }
            }
            const auto scalars = server::dipole_scalars(dipole[0], dipole[1], dipole[2]);
            dipole_scalars.insert(dipole_scalars.end(), scalars.begin(), scalars.end());
        }
        log.blocks.push_back(block);
        log.beads.push_back(bead);
        log.connections.emplace_back(fields[1]);
    }
    if (log.beads.empty()) {
        throw InputError("the committee log '" + path +
                         "' holds no records; was `chorus serve --committee-log` "
                         "answering any request?");
    }
    const auto records = static_cast<Eigen::Index>(log.beads.size());
    log.member_energies =
        Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
            energies.data(), records, static_cast<Eigen::Index>(log.members));
    log.dipole_members = log_dipole_members.value_or(0);
    if (log.dipole_members > 0) {
        log.dipole_scalars =
            Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
                dipole_scalars.data(), records,
                static_cast<Eigen::Index>(dipole_scalar_count * (1 + log.dipole_members)));
    }
    return log;
}

SteppedPotentials group_into_steps(const CommitteeLogContents& log, std::optional<int> beads) {
    if (beads && *beads < 1) {
        throw ConfigError(fmt::format("--beads {} is not a bead count; give P >= 1", *beads));
    }
    const bool tracked =
        std::any_of(log.beads.begin(), log.beads.end(), [](std::int32_t b) { return b >= 0; });
    const bool untracked =
        std::any_of(log.beads.begin(), log.beads.end(), [](std::int32_t b) { return b < 0; });
    if (tracked && untracked) {
        throw InputError(
            "the committee log mixes records with bead ids and without (-1); reweight runs with and "
            "without --track-beads separately");
    }
    SteppedPotentials result;
    result.beads = beads.value_or(1);
    if (tracked && !beads) {
        result.beads = *std::max_element(log.beads.begin(), log.beads.end()) + 1;
    }
    if (tracked) {
        const auto outside = std::find_if(log.beads.begin(), log.beads.end(),
                                          [&](std::int32_t b) { return b >= result.beads; });
        if (outside != log.beads.end()) {
            throw InputError(
                fmt::format("bead id {} in the committee log, but --beads {}; give the simulation's "
                            "number of beads",
                            *outside, result.beads));
        }
    }

    // The dipole scalars ride along as further columns, so that they are averaged by the same loop.
    const auto members = static_cast<Eigen::Index>(log.members);
    const bool dipoles = log.dipole_scalars.rows() == static_cast<Eigen::Index>(log.beads.size()) &&
                         log.dipole_scalars.cols() > 0;
    const Eigen::Index width = members + (dipoles ? log.dipole_scalars.cols() : 0);
    std::vector<double> steps;  // row-major steps × width
    Eigen::VectorXd sum = Eigen::VectorXd::Zero(width);
    std::vector<bool> seen(static_cast<std::size_t>(result.beads), false);
    int count = 0;
    int block = log.blocks.empty() ? 0 : log.blocks.front();
    const auto close_step = [&] {
        if (count == result.beads) {
            sum /= static_cast<double>(result.beads);
            steps.insert(steps.end(), sum.data(), sum.data() + width);
        } else if (count > 0) {
            ++result.incomplete_steps;
        }
        sum.setZero();
        std::fill(seen.begin(), seen.end(), false);
        count = 0;
    };
    for (std::size_t r = 0; r < log.beads.size(); ++r) {
        const auto bead = static_cast<std::size_t>(tracked ? log.beads[r] : 0);
        if (log.blocks[r] != block || (tracked && seen[bead])) {
            close_step();
            block = log.blocks[r];
        }
        if (tracked) {
            seen[bead] = true;
        }
        const auto row = static_cast<Eigen::Index>(r);
        sum.head(members) += log.member_energies.row(row).transpose();
        if (dipoles) {
            sum.tail(width - members) += log.dipole_scalars.row(row).transpose();
        }
        if (++count == result.beads) {
            close_step();
        }
    }
    close_step();
    const auto rows = static_cast<Eigen::Index>(steps.size()) / std::max<Eigen::Index>(width, 1);
    if (rows == 0) {
        throw InputError(
            fmt::format("no complete step of {} beads in the committee log ({} records); check --beads",
                        result.beads, log.beads.size()));
    }
    const Eigen::MatrixXd all =
        Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(steps.data(),
                                                                                                 rows, width);
    result.potentials = all.leftCols(members);
    if (dipoles) {
        result.dipole_scalars = all.rightCols(width - members);
    }
    return result;
}

engine::ReweightedAverages reweight_each_observable(const Eigen::MatrixXd& deviations,
                                                    const Eigen::MatrixXd& observables, double beta,
                                                    bool exact) {
    const Eigen::Index count = observables.cols();
    if (count == 0) {  // the engine's own error for no observables
        return exact ? engine::reweight_exact(deviations, observables, beta)
                     : engine::reweight_cumulant(deviations, observables, beta);
    }
    engine::ReweightedAverages result;
    result.sampled.resize(count);
    result.members.resize(count, deviations.cols());
    result.member_mean.resize(count);
    result.committee_spread.resize(count);
    for (Eigen::Index k = 0; k < count; ++k) {
        const Eigen::MatrixXd column = observables.col(k);
        const engine::ReweightedAverages one = exact ? engine::reweight_exact(deviations, column, beta)
                                                     : engine::reweight_cumulant(deviations, column, beta);
        result.sampled[k] = one.sampled[0];
        result.members.row(k) = one.members.row(0);
        result.member_mean[k] = one.member_mean[0];
        result.committee_spread[k] = one.committee_spread[0];
    }
    return result;
}

}  // namespace chorus::server
