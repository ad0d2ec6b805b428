#include "reweight_ipi_extras.hpp"

#include <charconv>
#include <cmath>
#include <fstream>
#include <regex>
#include <string_view>

#include <fmt/format.h>

#include "chorus/engine/reweighting.hpp"
#include "chorus/engine/units.hpp"
#include "chorus/error.hpp"

namespace chorus::server {
namespace {

// i-PI's own pattern (ipi/scripting/parsing.py), searched anywhere in the line as findall does.
const std::regex& step_header() {
    static const std::regex pattern(R"(#EXTRAS[^(]*\(([^)]+)\)# *Step:\s+(\d+))");
    return pattern;
}

// Appends the numbers of one data line; numpy.loadtxt would also skip text after '#'.
void append_numbers(std::string_view text, std::vector<double>& values, const std::string& where) {
    text = text.substr(0, text.find('#'));
    std::size_t at = 0;
    while ((at = text.find_first_not_of(" \t\r\v\f", at)) != std::string_view::npos) {
        const std::size_t end = std::min(text.find_first_of(" \t\r\v\f", at), text.size());
        const std::string_view field = text.substr(at, end - at);
        double value = 0.0;
        const auto [stop, error] = std::from_chars(field.data(), field.data() + field.size(), value);
        if (error != std::errc() || stop != field.data() + field.size() || !std::isfinite(value)) {
            throw InputError(
                fmt::format("{}: '{}' is not a finite number; committee_pot extras hold numbers only "
                            "(is this another extra_type, e.g. raw JSON?)",
                            where, field));
        }
        values.push_back(value);
        at = end;
    }
}

}  // namespace

IpiExtrasTrajectory read_ipi_extras(const std::string& path) {
    std::ifstream file(path);
    if (!file) {
        throw IoError("cannot open the i-PI extras file '" + path + "' for reading; check the path");
    }
    IpiExtrasTrajectory trajectory;
    std::vector<double> values;
    std::vector<double> frame;
    Eigen::Index width = -1;
    int header_line = 0;
    const auto close_frame = [&] {
        if (trajectory.steps.empty()) {
            return;
        }
        const auto count = static_cast<Eigen::Index>(frame.size());
        if (count == 0 || (width >= 0 && count != width)) {
            throw InputError(
                fmt::format("{}:{}: step {} has {} values, {}; every step of an extras file needs the "
                            "same number of values (one per committee member)",
                            path, header_line, trajectory.steps.back(), count,
                            width >= 0 ? fmt::format("the steps before {}", width) : "none"));
        }
        width = count;
        values.insert(values.end(), frame.begin(), frame.end());
        frame.clear();
    };
    std::string line;
    int number = 0;
    while (std::getline(file, line)) {
        ++number;
        std::smatch match;
        if (std::regex_search(line, match, step_header())) {
            close_frame();
            const std::string property = match[1].str();
            if (trajectory.property.empty()) {
                trajectory.property = property;
            } else if (property != trajectory.property) {
                throw InputError(
                    fmt::format("{}:{}: property '{}' in an extras file of '{}'; i-PI writes one "
                                "property per file",
                                path, number, property, trajectory.property));
            }
            trajectory.steps.push_back(std::stoll(match[2].str()));
            header_line = number;
            continue;
        }
        if (trajectory.steps.empty()) {
            if (line.find_first_not_of(" \t\r") == std::string::npos) {
                continue;
            }
            throw InputError(
                fmt::format("{}:{}: data before the first '#EXTRAS(...)# Step: N' line; this is not an "
                            "i-PI extras trajectory",
                            path, number));
        }
        append_numbers(line, frame, fmt::format("{}:{}", path, number));
    }
    close_frame();
    if (trajectory.steps.empty()) {
        throw InputError("'" + path +
                         "' has no '#EXTRAS(...)# Step: N' line; give the files i-PI writes for "
                         "<trajectory extra_type='committee_pot'>");
    }
    trajectory.values =
        Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
            values.data(), static_cast<Eigen::Index>(trajectory.steps.size()), width);
    return trajectory;
}

Eigen::MatrixXd bead_averaged_committee_potentials(std::span<const std::string> paths) {
    if (paths.empty()) {
        throw ConfigError("--ipi-extras needs at least one file (one per bead)");
    }
    std::vector<Eigen::MatrixXd> per_bead;
    std::vector<long long> steps;
    for (const std::string& path : paths) {
        IpiExtrasTrajectory trajectory = read_ipi_extras(path);
        if (trajectory.property != "committee_pot") {
            throw InputError(
                fmt::format("'{}' holds the extras '{}', not 'committee_pot'; pass the files written "
                            "with extra_type='committee_pot' (e.g. sim.committee_pot_*)",
                            path, trajectory.property));
        }
        if (per_bead.empty()) {
            steps = trajectory.steps;
        } else if (trajectory.steps != steps || trajectory.values.cols() != per_bead.front().cols()) {
            throw InputError(
                fmt::format("'{}' has {} steps of {} members, but '{}' has {} of {}; the files of the "
                            "beads of one run have the same steps",
                            path, trajectory.steps.size(), trajectory.values.cols(), paths.front(),
                            steps.size(), per_bead.front().cols()));
        }
        per_bead.push_back(std::move(trajectory.values));
    }
    return engine::bead_average(per_bead) * units::hartree_in_ev;
}

}  // namespace chorus::server
