#pragma once
// `chorus eval --model dipole.json data.xyz`: a dipole committee (kind "linear-dipole-committee")
// against the `dipole` key of labelled extxyz frames — per-frame errors, RMSE per component and for
// |μ|, calibration (±σ, ±2σ, NLL), optional JSON and gnuplot parity/calibration plots.
#include <iosfwd>
#include <string>

#include "eval_command.hpp"

namespace chorus::server {

// --baseline is refused (it applies to energy models).
int run_dipole_eval(const EvalCommandSettings& settings, std::ostream& out);

}  // namespace chorus::server
