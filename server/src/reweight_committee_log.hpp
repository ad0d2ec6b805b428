#pragma once
// Reads chorus's own committee log (committee_log.hpp, format version 1) for `chorus reweight
// --committee-log`, and groups its records into MD steps.
//
// How a step is recognised (path integrals, P beads):
// - With bead ids (`chorus serve --track-beads`): i-PI evaluates all P beads of a step before it
//   moves on, so the records of one step are consecutive in the file, with distinct bead ids
//   0 … P−1 in any order (several connections interleave them). A step ends when it holds P
//   records or when a bead id repeats; a step that ended with fewer than P beads (the start or end
//   of an interrupted run) is dropped and counted. P is `--beads` or, by default, the largest bead
//   id + 1 in the log.
// - Without bead ids (−1): the assumption is that every P consecutive records (`--beads P`,
//   default 1) are the P beads of one step, which holds for one connection serving all beads in
//   i-PI's order. A remainder at the end of a run is dropped and counted.
// A new header block (a restart of chorus) always starts a new step.
//
// Dipoles (`# dipole_members: M_d`): every record's mean and member dipoles become the scalars
// μ_x, μ_y, μ_z, |μ|² (dipole_scalars()) of the mean and of every member, and these are averaged
// over the beads of a step exactly like the member energies: the path-integral estimator of a
// position-dependent observable is its bead average, (1/P) Σ_k a(q_k) (so |μ|² is averaged, not
// the square of the averaged μ). All runs in one log must have the same dipole committee size (or
// none). `# reload:` lines (a model swapped mid-run) are collected, not interpreted.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "chorus/engine/reweighting.hpp"

namespace chorus::server {

struct CommitteeLogContents {
    std::size_t members = 0;
    std::optional<double> temperature_kelvin;  // from the headers (all that give one must agree)
    // One entry per record, in file order.
    std::vector<int> blocks;  // which header block (run) the record belongs to: 0, 1, …
    std::vector<std::int32_t> beads;
    std::vector<std::string> connections;
    Eigen::MatrixXd member_energies;  // records × M, eV
    std::size_t dipole_members = 0;   // M_d; 0: the log has no dipoles
    // records × 4·(1 + M_d): dipole_scalars() of the mean dipole, then of member 1, 2, …
    // (column 4·(1 + k) + s is member k's scalar s, k from 0). Empty without dipoles.
    Eigen::MatrixXd dipole_scalars;
    std::vector<std::string> reloads;  // the text after "# reload: " of every reload line
    std::size_t truncated_lines = 0;   // cut records of a killed run, skipped
};

// Throws IoError (unreadable) and InputError (not a committee log, mixed member counts, bad
// numbers; the message names file and line).
CommitteeLogContents read_committee_log(const std::string& path);

struct SteppedPotentials {
    Eigen::MatrixXd potentials;      // steps × M: bead-averaged member energies, eV
    Eigen::MatrixXd dipole_scalars;  // steps × 4·(1 + M_d), bead-averaged as the potentials; may be empty
    int beads = 1;
    std::size_t incomplete_steps = 0;  // dropped
};

// Groups the records into steps as described above; `beads` is --beads.
SteppedPotentials group_into_steps(const CommitteeLogContents& log, std::optional<int> beads);

// The engine's reweight_exact (`exact`) or reweight_cumulant, one observable column at a time:
// a matrix product over all columns at once may sum in another order depending on how many
// columns there are, and the live `reweight` (with volume and σ_E among its observables) must
// give the offline command's doubles whatever else either computes.
engine::ReweightedAverages reweight_each_observable(const Eigen::MatrixXd& deviations,
                                                    const Eigen::MatrixXd& observables, double beta,
                                                    bool exact);

}  // namespace chorus::server
