#pragma once
// The extras string of each answer: the committee contract of shared/protocol.md as JSON in
// atomic units, so that an unchanged i-PI <ffcommittee parse_json="True"> setup works.
//
// Keys: committee_pot (M energies, Ha), committee_force (M lists of 3N, Ha/Bohr),
// committee_virial (M lists of 9, Ha, row-major), committee_uncertainty (σ of the energy, ddof 1,
// Ha), chorus_alpha (calibration factor applied), chorus_bead (replica id of the last INIT, -1 if
// none); with --atomic-uncertainty also chorus_atomic_uncertainty (N values: the committee spread
// of each atom's energy, ddof 1, Ha). i-PI's <ffcommittee> renames every key k it does not consume to
// committee_<k>, and a clash is an error, so no key may be called pot, force, virial, uncertainty or raw.
#include <cstdint>
#include <string>

#include "chorus/engine/committee_result.hpp"

namespace chorus::server {

// --extras
enum class ExtrasMode {
    full,      // everything above
    energies,  // no committee_force / committee_virial (cheap: no per-member adjoint passes)
    none,      // zero-length extras (ASE 3.22 cannot read longer ones)
};

// What the model must compute for an answer with these extras: per-member forces and virials
// only in `full` mode.
engine::ComputeRequest compute_request_for(ExtrasMode mode);

struct ExtrasContext {
    double alpha = 1.0;            // calibration factor the model applied
    std::int32_t replica_id = -1;  // bead of the last INIT
    // --atomic-uncertainty: write chorus_atomic_uncertainty (needs per-atom energies in the result).
    bool atomic_uncertainty = false;
};

// The JSON text for `result` (already calibrated); empty for ExtrasMode::none. Doubles are written
// with enough digits to read back exactly.
std::string build_extras(const engine::CommitteeResult& result, ExtrasMode mode,
                         const ExtrasContext& context);

}  // namespace chorus::server
