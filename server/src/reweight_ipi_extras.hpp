#pragma once
// Reads i-PI's extras trajectories, as written by
//   <trajectory filename='committee_pot' extra_type='committee_pot'> extras </trajectory>
// one file per bead (sim.committee_pot_0, sim.committee_pot_1, …): a line
// `#EXTRAS(committee_pot)# Step: N` before each step's values, which are the member potentials in
// Hartree, whitespace separated, possibly over several lines. Read the way i-PI reads them
// (ipi/scripting/parsing.py, read_trajectory with format "extras"): a header line matches
// `#EXTRAS[^(]*\(([^)]+)\)# *Step:\s+(\d+)`, every other line up to the next header is data of
// that step, and one file holds one property only.
#include <span>
#include <string>
#include <vector>

#include <Eigen/Core>

namespace chorus::server {

struct IpiExtrasTrajectory {
    std::string property;          // e.g. "committee_pot"
    std::vector<long long> steps;  // one per frame
    Eigen::MatrixXd values;        // frames × values per step, as in the file (committee_pot: Hartree)
};

// Throws IoError (unreadable) or InputError (no step header, values of uneven count, not numbers,
// a second property), naming file and line.
IpiExtrasTrajectory read_ipi_extras(const std::string& path);

// committee_pot of P beads (one file each, the same steps) → steps × M bead-averaged member
// potentials in eV (science.md §6). Throws InputError for another property, different steps or
// member counts between the files.
Eigen::MatrixXd bead_averaged_committee_potentials(std::span<const std::string> paths);

}  // namespace chorus::server
