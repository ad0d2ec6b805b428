#include "dipole_extras.hpp"

#include <array>
#include <charconv>
#include <cmath>

#include "wire_conversion.hpp"

namespace chorus::server {
namespace {

void append_number(std::string& out, double value) {
    if (!std::isfinite(value)) {
        out += "null";  // JSON has no NaN
        return;
    }
    std::array<char, 32> text{};
    const auto [end, error] = std::to_chars(text.data(), text.data() + text.size(), value);
    out.append(text.data(), end);
}

void append_vector(std::string& out, const Eigen::Vector3d& dipole_e_angstrom) {
    const std::array<double, 3> wire = dipole_to_wire(dipole_e_angstrom);
    out += '[';
    for (std::size_t d = 0; d < 3; ++d) {
        if (d > 0) {
            out += ',';
        }
        append_number(out, wire[d]);
    }
    out += ']';
}

}  // namespace

void append_dipole_extras(std::string& extras, const models::dipole::DipolePrediction& prediction,
                          double alpha) {
    if (extras.empty() || extras.back() != '}') {
        return;
    }
    extras.pop_back();
    extras += extras.size() > 1 ? ",\"chorus_dipole\":" : "\"chorus_dipole\":";
    append_vector(extras, prediction.mean);
    extras += ",\"chorus_dipole_members\":[";
    for (Eigen::Index k = 0; k < prediction.members.cols(); ++k) {
        if (k > 0) {
            extras += ',';
        }
        append_vector(extras, prediction.members.col(k));
    }
    extras += "],\"chorus_dipole_uncertainty\":";
    append_vector(extras, prediction.sigma);
    extras += ",\"chorus_dipole_alpha\":";
    append_number(extras, alpha);
    extras += '}';
}

}  // namespace chorus::server
