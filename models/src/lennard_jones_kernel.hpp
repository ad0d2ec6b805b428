#pragma once
// The pair loop shared by LennardJones and LennardJonesCommittee: every member in one pass over
// the neighbour list, so a committee costs one list and one 1/r⁶ per pair.
#include <span>

#include "chorus/engine/committee_result.hpp"
#include "chorus/engine/system.hpp"
#include "chorus/models/lennard_jones.hpp"

namespace chorus::models::detail {

// Fills member energies (always), the mean forces and virial, and member forces, virials and
// per-atom energies (half of each pair energy to each atom) as
// requested. Parameters must already be validated.
void evaluate_lennard_jones(const engine::System& system, std::span<const LennardJonesParameters> members,
                            double cutoff, const engine::ComputeRequest& request,
                            engine::CommitteeResult& result);

// Throws ConfigError unless ε, σ and the cutoff are positive and finite.
void check_lennard_jones_parameters(const LennardJonesParameters& parameters, double cutoff);

}  // namespace chorus::models::detail
