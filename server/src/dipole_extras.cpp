#include "dipole_extras.hpp"

#include <span>

#include "json_text.hpp"
#include "wire_conversion.hpp"

namespace chorus::server {
namespace {

void append_vector(std::string& out, const Eigen::Vector3d& dipole_e_angstrom) {
    append_json_array(out, dipole_to_wire(dipole_e_angstrom));
}

// Reopens the extras object to add `key` as its next member: false (and extras untouched) when
// there is no object to extend.
bool reopen_with_key(std::string& extras, const char* key) {
    if (extras.empty() || extras.back() != '}') {
        return false;
    }
    extras.pop_back();
    if (extras.size() > 1) {
        extras += ',';
    }
    extras += '"';
    extras += key;
    extras += "\":";
    return true;
}

}  // namespace

void append_dipole_extras(std::string& extras, const models::dipole::DipolePrediction& prediction,
                          double alpha) {
    if (!reopen_with_key(extras, "chorus_dipole")) {
        return;
    }
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
    if (!reopen_with_key(extras, "dipole")) {
        return;
    }
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
