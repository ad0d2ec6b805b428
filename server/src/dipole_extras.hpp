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

// --born-charges: the two keys i-PI's driven dynamics (<driven_dynamics mode="eda-nve|eda-nvt">
// with <bec mode="driver"/>) reads from every bead's extras, under the names it looks for:
//   dipole  [3]        the committee-mean dipole, e·Bohr (the same numbers as chorus_dipole)
//   BEC     3N × [3]   BEC[3j+β][α] = ∂μ_α/∂R_{jβ}, atom j's Born effective charge in e; i-PI
//                      multiplies it by E (EDAforces: Z @ E) and checks Σ_j BEC[3j+β] = 0.
// `derivative` is DipoleCommittee::derivatives(…).mean (3 × 3N, e·Å/Å = e, so the numbers need no
// unit conversion). Same contract on `extras` as append_dipole_extras.
void append_born_charges(std::string& extras, const models::dipole::DipolePrediction& prediction,
                         const Eigen::MatrixXd& derivative);

}  // namespace chorus::server
