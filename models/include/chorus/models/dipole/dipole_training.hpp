#pragma once
// Training and evaluating a dipole committee (dipole_committee.hpp) — what `chorus train --target
// dipole` and `chorus eval` on a dipole model run:
//  1. Rows per structure: the 3 Cartesian components of the extxyz `dipole` (e·Å), weight 1, against
//     the λ = 1 design (dipole_design). No baseline columns: a constant vector cannot rotate.
//  2. Training structures into CommitteeNormalEquations (M members on random subsets, as for
//     energies).
//  3. λ chosen on the validation rows (regulariser_path, then a second pass scoring every λ on
//     the validation structures' rows: ValidationLosses, select_regulariser; one block per
//     species channel), every member solved at that λ.
//  4. α by maximum likelihood on the validation dipole components (engine/calibration.hpp).
//  5. Errors and calibration per component and for |μ| on train / validation / test.
// The split is TrainSettings::split, drawn within groups exactly as for energies (split_frames).
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include "chorus/engine/calibration.hpp"
#include "chorus/models/dipole/dipole_committee.hpp"
#include "chorus/models/extxyz.hpp"
#include "chorus/models/training/ridge.hpp"
#include "chorus/models/training/train_committee.hpp"
#include "chorus/models/training/train_settings.hpp"
#include "chorus/models/training/train_split.hpp"

namespace chorus::models::dipole {

// Dipole defaults, measured on the GFN2-xTB water clusters (README "Dipole models"): a shorter
// cutoff than for energies keeps the atomic contributions local, so that the committee spread
// grows with cluster size as the errors do (at r_c = 5 Å it grew much faster: monomers were
// over-confident, octamers under-confident, and no single α could fit both); members see 80 % of
// the structures and the penalty is per column (standardised features).
inline constexpr double default_dipole_cutoff = 4.0;  // Å
inline constexpr double default_dipole_member_fraction = 0.8;
// λ-SOAP n_max 6, l_max 3 (λ = 1 only).
features::OrderTruncation default_dipole_lambda_soap();

// train.json for a dipole: train_settings_from_json, then the dipole defaults for what the document
// leaves out — without features.lambda_soap the features are r_c 4 Å (switch width 0.5 Å) and
// default_dipole_lambda_soap(); without committee.fraction 0.8; without regulariser.scale
// "column". Throws what train_settings_from_json throws.
training::TrainSettings dipole_train_settings_from_json(const nlohmann::json& document,
                                                        const std::string& origin);

// The feature settings a dipole model stores: the configuration's, with λ-SOAP (λ = 1) enabled
// (default_dipole_lambda_soap() when absent) and the invariant orders removed, since the dipole
// model does not use them and they would only enlarge the density expansion.
features::FeatureSettings dipole_feature_settings(features::FeatureSettings settings);

struct DipoleFramePrediction {
    std::size_t atoms = 0;
    std::optional<Eigen::Vector3d> reference;  // e·Å
    DipolePrediction prediction;               // calibrated
};

struct DipoleErrorSummary {
    std::size_t frames = 0;                               // frames with a reference dipole
    double component_rmse = 0.0;                          // over all 3·frames components, e·Å
    std::array<double, 3> rmse_xyz{};                     // per Cartesian component
    double component_reference_std = 0.0;                 // std of the reference components (pooled), e·Å
    double norm_rmse = 0.0;                               // of |μ|
    double norm_reference_std = 0.0;                      // std of the reference |μ|
    engine::UncertaintyStatistics component_calibration;  // pooled components
    std::array<engine::UncertaintyStatistics, 3> calibration_xyz;  // per component
    engine::UncertaintyStatistics norm_calibration;                // |μ̄| against σ of the members' |μ_k|
};

// Predicts every frame (frames without a dipole get no reference). Throws what predict throws.
std::vector<DipoleFramePrediction> predict_dipoles(const DipoleCommittee& committee,
                                                   const std::vector<const Frame*>& frames);

DipoleErrorSummary summarise_dipole_errors(const std::vector<DipoleFramePrediction>& predictions,
                                           std::size_t calibration_bins = 10);

struct DipoleTrainingReport {
    std::size_t feature_count = 0;  // Q per species
    std::size_t weight_count = 0;   // S·Q
    training::RegulariserSelection selection;
    engine::CalibrationReport calibration;  // on the validation components
    DipoleErrorSummary train;
    DipoleErrorSummary validation;
    DipoleErrorSummary test;
};

struct DipoleTrainingResult {
    DipoleCommitteeParameters parameters;  // training metadata left to the caller
    DipoleTrainingReport report;
};

// Uses settings.features (through dipole_feature_settings; species from the frames when empty),
// members, member_fraction, grid, penalty_scale and seed. Throws InputError for training or
// validation frames without a dipole, unknown species, or an empty training or validation set;
// ConfigError for bad settings or M ≤ 3 (α needs M > 3).
DipoleTrainingResult train_dipole_committee(const std::vector<training::LabelledFrame>& frames,
                                            const training::DataSplit& split,
                                            const training::TrainSettings& settings,
                                            const training::ProgressCallback& progress = {});

}  // namespace chorus::models::dipole
