#pragma once
// The live `reweight` of the control API: the numbers `chorus reweight --committee-log` computes
// offline (cumulant expansion, effective sample sizes, block-averaged statistical errors), from the
// records the daemon has evaluated so far, per group of connections (one i-PI address = one
// simulation). It goes through the same code as the offline command — group_into_steps() for the
// bead averaging, the engine's reweighting and blocking — so that the same frames give the same
// numbers.
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "live_store.hpp"

namespace chorus::server {

struct LiveObservable {
    // "potential_energy" (eV), "volume" (Å³), "sigma_energy" (eV), and with a dipole model the mean
    // dipole's "mu_x", "mu_y", "mu_z" (e·Å) and "mu2" (|μ|², (e·Å)²)
    std::string name;
    double sampled = 0.0;            // plain average under the committee mean
    double statistical_error = 0.0;  // block averaging
    std::size_t block_size = 1;
    std::size_t blocks = 0;
    bool reliable = false;
    double member_mean = 0.0;       // mean over members of the CEA estimates
    double committee_spread = 0.0;  // their spread, ddof 1
    std::vector<double> member_averages;
};

struct LiveGroupReweight {
    std::string group;  // the i-PI address
    std::size_t records = 0;
    std::size_t steps = 0;
    int beads = 1;
    std::size_t incomplete_steps = 0;
    std::vector<double> effective_sample_sizes;  // per member
    std::vector<LiveObservable> observables;
    std::optional<std::string> error;  // why this group has no estimate yet (e.g. too few steps)
};

struct LiveReweight {
    double kt_ev = 0.0;
    std::size_t members = 0;
    bool truncated = false;
    std::vector<LiveGroupReweight> groups;
};

// `beads` as `chorus reweight --beads`. Volume is reported only when every record was periodic.
LiveReweight compute_live_reweight(const ReweightInput& input, double kt_ev, std::optional<int> beads);

}  // namespace chorus::server
