#pragma once
// The polarizability error tables and JSON of `chorus train --target polarizability` and `chorus
// eval` (units of the labels; calibration for the tensor elements, the isotropic part and the
// λ = 2 part).
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "chorus/models/polarizability/polarizability_training.hpp"

namespace chorus::server {

nlohmann::json polarizability_summary_json(const models::polarizability::PolarizabilityErrorSummary& summary);

// One column per named set.
void print_polarizability_table(
    std::ostream& out,
    const std::vector<std::pair<std::string, const models::polarizability::PolarizabilityErrorSummary*>>&
        sets);

}  // namespace chorus::server
