#pragma once
// `chorus reweight`: committee-reweighted averages of observables along a trajectory sampled with
// the committee mean, a drop-in for i-PI's `i-pi-committee-reweight` (same positional inputs and
// flags, same stdout layout) with statistical errors, effective sample sizes and warnings on top.
#include <iosfwd>
#include <optional>
#include <string>

namespace chorus::server {

struct ReweightSettings {
    std::string potentials_path;   // one row per frame, one column per member, Hartree
    std::string observables_path;  // one row per frame, one column per observable (or observable model)
    std::optional<double> kt_hartree;          // --kt
    std::optional<double> temperature_kelvin;  // --temperature (exactly one of the two)
    // > 0: keep every stride-th potential row (potentials printed more often);
    // < 0: keep every |stride|-th observable row (observables printed more often). Never 0.
    int stride = 1;
    std::optional<int> index;  // 0-based observable column; all columns when empty
    bool direct = false;       // exact reweighting instead of the cumulant expansion
    bool multi_obs = false;    // the observable columns are a committee of models of one observable
    bool table = false;        // a readable table on stdout instead of i-PI's layout
    std::optional<std::string> json_path;  // also write JSON here; "-": to stdout instead of i-PI's layout
};

// Runs the command; `out` gets the results (i-PI's layout by default), `err` the extra
// information and warnings. Throws InputError/IoError/ConfigError for bad files and flags.
int run_reweight(const ReweightSettings& settings, std::ostream& out, std::ostream& err);

}  // namespace chorus::server
