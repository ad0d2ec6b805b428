#pragma once
// The dipole error tables and JSON shared by `chorus train --target dipole` and `chorus eval`
// (units e·Å; calibration per component, pooled, and for |μ|).
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "chorus/models/dipole/dipole_training.hpp"

namespace chorus::server {

nlohmann::json dipole_summary_json(const models::dipole::DipoleErrorSummary& summary);

// One column per named set.
void print_dipole_table(
    std::ostream& out,
    const std::vector<std::pair<std::string, const models::dipole::DipoleErrorSummary*>>& sets);

}  // namespace chorus::server
