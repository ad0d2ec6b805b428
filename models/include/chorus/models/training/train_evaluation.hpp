#pragma once
// Errors of a committee on labelled frames, and how well its spread predicts them: the numbers
// of `chorus train`'s summary table and of `chorus eval`. Units: eV, eV/Å; energies per atom
// where the name says so.
#include <cstddef>
#include <optional>
#include <vector>

#include <Eigen/Core>

#include "chorus/engine/calibration.hpp"
#include "chorus/engine/model.hpp"
#include "chorus/models/extxyz.hpp"

namespace chorus::models::training {

// One frame's prediction next to its reference (absent references stay empty).
struct FramePrediction {
    std::size_t atoms = 0;
    std::optional<double> reference_energy;
    double energy = 0.0;        // committee mean, eV
    double energy_sigma = 0.0;  // calibrated member spread (ddof 1), eV
    std::optional<Eigen::Matrix3Xd> reference_forces;
    Eigen::Matrix3Xd forces;       // mean, eV/Å
    Eigen::Matrix3Xd force_sigma;  // calibrated member spread per component, eV/Å
    std::optional<Eigen::Matrix3d> reference_virial;
    Eigen::Matrix3d virial = Eigen::Matrix3d::Zero();
};

struct ErrorSummary {
    std::size_t frames = 0;
    std::size_t force_components = 0;
    std::optional<double> energy_rmse_per_atom;        // eV/atom
    std::optional<double> energy_mae_per_atom;         // eV/atom
    std::optional<double> force_rmse;                  // eV/Å
    std::optional<double> force_reference_std;         // std of the reference force components, eV/Å
    std::optional<double> virial_rmse_per_atom;        // eV/atom, over the 9 components
    engine::UncertaintyStatistics force_calibration;   // per force component
    engine::UncertaintyStatistics energy_calibration;  // per structure, eV
};

// Evaluates `model` (calibration applied) on every frame, member forces included. Throws what the
// model throws (InputError for species it does not know).
std::vector<FramePrediction> predict_frames(const engine::Model& model,
                                            const std::vector<const Frame*>& frames);

ErrorSummary summarise_errors(const std::vector<FramePrediction>& predictions,
                              std::size_t calibration_bins = 10);

}  // namespace chorus::models::training
