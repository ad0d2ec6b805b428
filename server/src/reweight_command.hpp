#pragma once
// `chorus reweight`: committee-reweighted averages of observables along a trajectory sampled with
// the committee mean, a drop-in for i-PI's `i-pi-committee-reweight` (same positional inputs and
// flags, same stdout layout) with statistical errors, effective sample sizes and warnings on top.
//
// The member potentials come from exactly one source:
// - i-PI's tool inputs: `pot_file obs_file` (Hartree; one row per frame);
// - `--committee-log FILE`, chorus's own log (`chorus serve --committee-log`), bead-averaged per
//   step as reweight_committee_log.hpp describes;
// - `--ipi-extras FILE…`, i-PI's committee_pot extras trajectories, one file per bead, averaged.
// With the last two, observable 0 is the bead-averaged committee-mean potential energy (eV) and
// the columns of `--observables FILE` (one row per step) follow (with --multi-obs: only those).
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace chorus::server {

struct ReweightSettings {
    std::string potentials_path;  // one row per frame, one column per member, Hartree (empty: another source)
    std::string observables_path;  // one row per frame, one column per observable (or observable model)
    std::optional<std::string> committee_log_path;      // --committee-log
    std::vector<std::string> ipi_extras_paths;          // --ipi-extras, one per bead
    std::optional<int> beads;                           // --beads (committee logs)
    std::optional<std::string> extra_observables_path;  // --observables (with a log or extras)
    // The temperature: at most one of these; with none, a committee log's header temperature.
    std::optional<double> kt_hartree;           // --kt
    std::optional<double> temperature_kelvin;   // --temperature
    std::optional<std::string> ipi_input_path;  // --input: the ensemble temperature of an i-PI input
    std::optional<std::string> plot_path;       // --plot FILE.png|FILE.svg
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
