#include "dipole_extras.hpp"

#include <span>

#include "json_text.hpp"
#include "wire_conversion.hpp"

namespace chorus::server {
namespace {

void append_vector(std::string& out, const Eigen::Vector3d& dipole_e_angstrom) {
    append_json_array(out, dipole_to_wire(dipole_e_angstrom));
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
    append_json_number(extras, alpha);
    extras += '}';
}

void append_born_charges(std::string& extras, const models::dipole::DipolePrediction& prediction,
                         const Eigen::MatrixXd& derivative) {
    if (extras.empty() || extras.back() != '}') {
        return;
    }
    extras.pop_back();
    extras += extras.size() > 1 ? ",\"dipole\":" : "\"dipole\":";
    append_vector(extras, prediction.mean);
    // i-PI wants the transpose of our 3 × 3N Jacobian: one row of 3 per atomic coordinate.
    extras += ",\"BEC\":[";
    for (Eigen::Index column = 0; column < derivative.cols(); ++column) {
        if (column > 0) {
            extras += ',';
        }
        const Eigen::Vector3d row = derivative.col(column);
        append_json_array(extras, std::span<const double>(row.data(), 3));
    }
    extras += "]}";
}

}  // namespace chorus::server
