#pragma once
// `chorus eval --model polarizability.json data.xyz`: a polarizability committee (kind
// "linear-polarizability-committee") against the `polarizability` key of labelled extxyz frames —
// per-frame isotropic part and errors, RMSE and calibration (±σ, ±2σ, NLL) for the tensor elements,
// the isotropic part and the λ = 2 part, optional JSON.
#include <iosfwd>
#include <string>

#include "eval_command.hpp"

namespace chorus::server {

// --baseline, --plot and --observables-out are refused.
int run_polarizability_eval(const EvalCommandSettings& settings, std::ostream& out);

}  // namespace chorus::server
