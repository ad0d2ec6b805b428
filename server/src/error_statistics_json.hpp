#pragma once
// How the calibration statistics of a committee's spread (engine/calibration.hpp) appear in the
// JSON that `chorus train` records and `chorus eval --json` writes, for every target.
#include <nlohmann/json.hpp>

#include "chorus/engine/calibration.hpp"

namespace chorus::server {

// count, rmse, rms_sigma, mean_negative_log_likelihood, within_one_sigma, within_two_sigma.
nlohmann::json statistics_json(const engine::UncertaintyStatistics& statistics);

// The same plus "curve": the binned RMS error against RMS σ, for plots and reliability checks.
nlohmann::json statistics_with_curve_json(const engine::UncertaintyStatistics& statistics);

}  // namespace chorus::server
