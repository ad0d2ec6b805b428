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
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>

namespace chorus::server {

struct CommitteeLogContents {
    std::size_t members = 0;
    std::optional<double> temperature_kelvin;  // from the headers (all that give one must agree)
    // One entry per record, in file order.
    std::vector<int> blocks;  // which header block (run) the record belongs to: 0, 1, …
    std::vector<std::int32_t> beads;
    std::vector<std::string> connections;
    Eigen::MatrixXd member_energies;  // records × M, eV
    std::size_t truncated_lines = 0;  // cut records of a killed run, skipped
};

// Throws IoError (unreadable) and InputError (not a committee log, mixed member counts, bad
// numbers; the message names file and line).
CommitteeLogContents read_committee_log(const std::string& path);

struct SteppedPotentials {
    Eigen::MatrixXd potentials;  // steps × M: bead-averaged member energies, eV
    int beads = 1;
    std::size_t incomplete_steps = 0;  // dropped
};

// Groups the records into steps as described above; `beads` is --beads.
SteppedPotentials group_into_steps(const CommitteeLogContents& log, std::optional<int> beads);

}  // namespace chorus::server
