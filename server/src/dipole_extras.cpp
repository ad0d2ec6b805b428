#include "dipole_extras.hpp"

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

}  // namespace chorus::server
