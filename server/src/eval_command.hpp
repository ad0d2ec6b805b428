#pragma once
// `chorus eval`: a model against labelled extxyz frames — per-frame and summary errors, the
// calibration of its committee spread (NLL, coverage of ±σ and ±2σ), optional JSON and plots
// (gnuplot, run as an external tool, PNG).
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "baseline_option.hpp"

namespace chorus::server {

struct EvalCommandSettings {
    std::string model_path;                     // --model
    std::vector<std::string> data_paths;        // positional
    std::optional<std::string> json_path;       // --json
    std::optional<std::string> plot_directory;  // --plot
    // --subset train|validation|test|all: with a linear committee trained by `chorus train` on
    // this very file (matched by SHA-256), only the frames of that part of its recorded split.
    std::string subset = "all";
    BaselineOption baseline;  // --baseline, --baseline-uncertainty
    // Dipole models only (dipole_eval_command.hpp): --dipole-observable x|y|z|norm2 and
    // --observables-out FILE write that scalar of every member's dipole, one row per frame, in the
    // layout of `chorus reweight --observables FILE --multi-obs`.
    std::optional<std::string> dipole_observable;
    std::optional<std::string> observables_out;
};

int run_eval(const EvalCommandSettings& settings, std::ostream& out);

}  // namespace chorus::server
