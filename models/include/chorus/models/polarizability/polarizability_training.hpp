#pragma once
// Training and evaluating a polarizability committee (polarizability_committee.hpp) — what
// `chorus train --target polarizability` and `chorus eval` on such a model run:
//  1. Per structure the symmetric part of the extxyz `polarizability` is split into its isotropic
//     part a = tr α / 3 (one row against [atom counts, Σ X^{λ=0}]) and its five λ = 2 coordinates
//     c_m = ⟨T_m, α⟩_F (five rows against Σ X^{λ=2}_m).
//  2. The two parts are fitted as two committees with the same member subsets (same seed), each
//     with its own regulariser chosen on the validation structures: their scales differ, and an
//     isotropic part that is nearly additive wants much less freedom than the anisotropy.
//  3. α_iso by maximum likelihood on the validation isotropic parts, α on the pooled validation
//     λ = 2 coordinates c_m (as for the dipole components).
//  4. Errors and calibration for the tensor elements, the isotropic part and the λ = 2 part on
//     train / validation / test.
#include <cstddef>
#include <optional>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include "chorus/engine/calibration.hpp"
#include "chorus/models/extxyz.hpp"
#include "chorus/models/polarizability/polarizability_committee.hpp"
#include "chorus/models/training/ridge.hpp"
#include "chorus/models/training/train_committee.hpp"
#include "chorus/models/training/train_settings.hpp"
#include "chorus/models/training/train_split.hpp"

namespace chorus::models::polarizability {

// Defaults when train.json has no features.lambda_soap: the dipole's r_c 4 Å (switch 0.5 Å) and
// λ-SOAP n_max 6, l_max 3, here with λ = 2 (λ = 0 is always computed as well); members see 80 % of
// the structures, the penalty is per column — the dipole defaults, not yet measured on real
// polarizabilities (the shared data have none).
training::TrainSettings polarizability_train_settings_from_json(const nlohmann::json& document,
                                                                const std::string& origin);

// The configuration's feature settings with λ-SOAP λ = 2 enabled (n_max 6, l_max 3 when absent)
// and the invariant orders removed.
features::FeatureSettings polarizability_feature_settings(features::FeatureSettings settings);

struct PolarizabilityFramePrediction {
    std::size_t atoms = 0;
    std::optional<Eigen::Matrix3d> reference;  // symmetrised label
    PolarizabilityPrediction prediction;       // calibrated
};

struct PolarizabilityErrorSummary {
    std::size_t frames = 0;
    double element_rmse = 0.0;           // over all 9 elements of every frame
    double element_reference_std = 0.0;  // of the 9 reference elements, pooled
    double isotropic_rmse = 0.0;         // of tr α / 3
    double isotropic_reference_std = 0.0;
    double anisotropic_rmse = 0.0;  // of the five c_m, pooled
    double anisotropic_reference_std = 0.0;
    engine::UncertaintyStatistics element_calibration;      // the 6 distinct elements, pooled
    engine::UncertaintyStatistics isotropic_calibration;    // tr α / 3
    engine::UncertaintyStatistics anisotropic_calibration;  // the five c_m, pooled
};

// Symmetric part of the frame's label, or nullopt.
std::optional<Eigen::Matrix3d> reference_polarizability(const Frame& frame);

std::vector<PolarizabilityFramePrediction> predict_polarizabilities(const PolarizabilityCommittee& committee,
                                                                    const std::vector<const Frame*>& frames);

PolarizabilityErrorSummary summarise_polarizability_errors(
    const std::vector<PolarizabilityFramePrediction>& predictions, std::size_t calibration_bins = 10);

struct PolarizabilityTrainingReport {
    PolarizabilityFeatureCounts counts;
    training::RegulariserSelection isotropic_selection;
    training::RegulariserSelection anisotropic_selection;
    engine::CalibrationReport calibration;            // λ = 2: on the pooled validation c_m
    engine::CalibrationReport isotropic_calibration;  // on the validation tr α / 3
    PolarizabilityErrorSummary train;
    PolarizabilityErrorSummary validation;
    PolarizabilityErrorSummary test;
};

struct PolarizabilityTrainingResult {
    PolarizabilityCommitteeParameters parameters;  // training metadata left to the caller
    PolarizabilityTrainingReport report;
};

// Throws InputError for training or validation frames without a polarizability, unknown species,
// or an empty training or validation set; ConfigError for bad settings or M ≤ 3.
PolarizabilityTrainingResult train_polarizability_committee(
    const std::vector<training::LabelledFrame>& frames, const training::DataSplit& split,
    const training::TrainSettings& settings, const training::ProgressCallback& progress = {});

}  // namespace chorus::models::polarizability
