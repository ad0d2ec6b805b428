#pragma once
// The dipole keys that `chorus serve --dipole-model FILE` adds to each answer's extras JSON
// (e·Bohr, atomic units as on the rest of the wire; converted in wire_conversion only):
//   chorus_dipole              [3]     committee-mean dipole
//   chorus_dipole_members      M × [3] every member's dipole (calibrated by the dipole model's α)
//   chorus_dipole_uncertainty  [3]     σ of the members per component (ddof 1)
//   chorus_dipole_alpha        α of the dipole model (already applied)
// Under i-PI's <ffcommittee> every key k arrives as committee_<k> (a list over clients):
// committee_chorus_dipole, committee_chorus_dipole_members, …; with a plain <ffsocket> unchanged.
#include <string>

#include "chorus/models/dipole/dipole_committee.hpp"

namespace chorus::server {

// Inserts the keys above into `extras`, a JSON object written by build_extras (non-empty, ending
// with '}'). An empty `extras` (--extras none) stays empty.
void append_dipole_extras(std::string& extras, const models::dipole::DipolePrediction& prediction,
                          double alpha);

}  // namespace chorus::server
