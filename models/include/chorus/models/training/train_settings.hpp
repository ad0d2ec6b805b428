#pragma once
// What `chorus train` does, as one value: features, committee, data split, row weights,
// regulariser grid and calibration target. Read from an optional train.json; every key optional,
// the defaults below are what `chorus train` prints at start.
//
//   {
//     "features":  {…FeatureSettings JSON (feature_settings.hpp); "species" may be omitted: taken from the
//     data…}, "committee": {"members": 8, "fraction": 0.5}, "split":     {"test_fraction": 0.2,
//     "validation_fraction": 0.2, "group_key": "source"}, "expected_errors": {"energy_per_atom": 0.0005,
//     "force": 0.03, "virial_per_atom": 0.005}, "regulariser": {"smallest": 1e-10, "largest": 1.0, "points":
//     21,
//                     "order_lambdas": {"nu1": 1.0, "ps": 1.0, "bs": 1.0, "mp": 1.0},
//                     "scale": "block"},
//     "calibrate_on": "forces"
//   }
//
// validation_fraction is a fraction of the frames left after the test frames are taken out.
// expected_errors are the σ of each kind of row: rows are weighted 1/σ² (eV/atom, eV/Å, eV/atom),
// so that energies, forces and virials enter the loss on a common footing. A non-positive value
// drops that kind of row. order_lambdas are the relative ridge strengths λ_B of the feature blocks
// by correlation order (the prefix of the feature names), the same for every species. `scale`
// sizes the penalty by each block's mean diagonal ("block", the default) or by each column's own
// diagonal ("column": ridge on standardised features, ridge.hpp).
#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "chorus/models/features/feature_settings.hpp"
#include "chorus/models/training/ridge.hpp"

namespace chorus::models::training {

struct SplitSettings {
    double test_fraction = 0.2;
    double validation_fraction = 0.2;
    std::string group_key = "source";  // frames are drawn within each group of equal value (per file)
};

struct ExpectedErrors {
    double energy_per_atom = 5e-4;  // eV/atom
    double force = 0.03;            // eV/Å
    double virial_per_atom = 5e-3;  // eV/atom
};

enum class CalibrationTarget { forces, energies };

struct TrainSettings {
    features::FeatureSettings features;
    std::size_t members = 8;
    double member_fraction = 0.5;
    SplitSettings split;
    ExpectedErrors expected_errors;
    LambdaGrid grid;
    std::map<std::string, double> order_lambdas;  // feature-name prefix → λ_B; absent means 1
    // "block" (mean diagonal of each block) or "column" (standardised features), ridge.hpp.
    PenaltyScale penalty_scale = PenaltyScale::block;
    CalibrationTarget calibrate_on = CalibrationTarget::forces;
    std::uint64_t seed = 0;
};

// r_c 5 Å, ν = 1 with n_max 8, ν = 2 with n_max 8 and l_max 6, M = 8 (liquids and molecules alike).
TrainSettings default_train_settings();

// Starts from the defaults and overrides what the document gives. Throws ConfigError naming the
// key for unknown keys, wrong types and out-of-range values; `origin` names the file.
TrainSettings train_settings_from_json(const nlohmann::json& document, const std::string& origin);
nlohmann::json to_json(const TrainSettings& settings);

}  // namespace chorus::models::training
