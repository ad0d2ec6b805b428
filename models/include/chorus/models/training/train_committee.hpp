#pragma once
// The training driver behind `chorus train` (science.md §4–5): labelled frames → feature rows →
// committee of ridge fits → calibration α → a LinearCommittee model.
//
//  1. Rows per structure (FeatureCalculator::design): the energy per atom, the 3N force
//     components and, where present, the 9 virial components per atom, each weighted 1/σ² with
//     σ from TrainSettings::expected_errors. Columns: one baseline per species (the fraction of
//     atoms of that species in the energy row), then the S·F species-resolved feature weights.
//  2. Training structures go into CommitteeNormalEquations (M members on random subsets plus the
//     fit on all of them).
//  3. The fit on all of them at every grid λ (regulariser_path, per-block λ_B by correlation
//     order); then a second pass builds the validation structures' rows one structure at a time
//     and scores every λ on them (ValidationLosses: from the residuals, never from a validation
//     Gram, whose cancellation made tiny λ look perfect); the best λ (select_regulariser), then
//     every member is solved at that λ.
//  4. α: maximum likelihood on the validation force components (or energies), engine/calibration.hpp.
//  5. Errors and calibration on train / validation / test with the calibrated model.
// Deterministic for a seed; bit for bit with one thread (the feature kernels' per-thread
// accumulators make the rounding depend on the thread count).
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "chorus/models/linear_committee.hpp"
#include "chorus/models/training/committee_training.hpp"
#include "chorus/models/training/train_evaluation.hpp"
#include "chorus/models/training/train_settings.hpp"
#include "chorus/models/training/train_split.hpp"

namespace chorus::models::training {

struct TrainingReport {
    std::size_t feature_count = 0;  // F (per species)
    std::size_t weight_count = 0;   // S·F + S
    RegulariserSelection selection;
    engine::CalibrationReport calibration;  // on the validation set, before and after α
    ErrorSummary train;
    ErrorSummary validation;
    ErrorSummary test;
    double design_seconds = 0.0;      // training rows into the normal equations
    double validation_seconds = 0.0;  // validation rows scored against every λ
    double solve_seconds = 0.0;       // the λ path, the selection and the committee solve
};

struct TrainingResult {
    LinearCommitteeParameters parameters;  // training metadata left to the caller (file hashes…)
    TrainingReport report;
};

// A line of progress (the caller decides where it goes and how often it is shown).
using ProgressCallback = std::function<void(std::string_view)>;

// Throws InputError for frames without energy or forces where they are needed, species the
// settings do not list, or an empty training or validation set; ConfigError for bad settings.
TrainingResult train_linear_committee(const std::vector<LabelledFrame>& frames, const DataSplit& split,
                                      const TrainSettings& settings, const ProgressCallback& progress = {});

// Atomic numbers present in the frames, ascending.
std::vector<int> species_in(const std::vector<LabelledFrame>& frames);

}  // namespace chorus::models::training
