#include "chorus/models/training/train_evaluation.hpp"

#include <cmath>

namespace chorus::models::training {

std::vector<FramePrediction> predict_frames(const engine::Model& model,
                                            const std::vector<const Frame*>& frames) {
    const engine::ComputeRequest request{.forces = true, .virial = true, .member_forces = true};
    engine::CommitteeResult result;
    std::vector<FramePrediction> predictions;
    predictions.reserve(frames.size());
    for (const Frame* frame : frames) {
        model.evaluate(frame->system, request, result);
        FramePrediction& p = predictions.emplace_back();
        p.atoms = frame->system.size();
        p.reference_energy = frame->energy;
        p.reference_forces = frame->forces;
        p.reference_virial = frame->virial;
        p.energy = result.energy;
        p.energy_sigma = result.energy_spread();
        p.forces = result.forces;
        p.virial = result.virial;
        const std::size_t members = result.committee_size();
        p.force_sigma.setZero(3, static_cast<Eigen::Index>(p.atoms));
        if (members > 1) {
            for (const auto& member : result.member_forces) {
                p.force_sigma += (member - result.forces).cwiseAbs2();
            }
            p.force_sigma = (p.force_sigma / static_cast<double>(members - 1)).cwiseSqrt();
        }
    }
    return predictions;
}

ErrorSummary summarise_errors(const std::vector<FramePrediction>& predictions, std::size_t calibration_bins) {
    ErrorSummary summary;
    summary.frames = predictions.size();
    std::vector<double> force_residuals, force_sigmas, energy_residuals, energy_sigmas;
    double energy_sq = 0.0, energy_abs = 0.0, virial_sq = 0.0, force_sum = 0.0, force_sum_sq = 0.0;
    std::size_t energies = 0, virials = 0;
    for (const FramePrediction& p : predictions) {
        const double atoms = static_cast<double>(p.atoms);
        if (p.reference_energy) {
            const double residual = *p.reference_energy - p.energy;
            energy_sq += (residual / atoms) * (residual / atoms);
            energy_abs += std::abs(residual / atoms);
            energy_residuals.push_back(residual);
            energy_sigmas.push_back(p.energy_sigma);
            ++energies;
        }
        if (p.reference_forces) {
            for (Eigen::Index j = 0; j < p.forces.cols(); ++j) {
                for (Eigen::Index d = 0; d < 3; ++d) {
                    const double reference = (*p.reference_forces)(d, j);
                    force_residuals.push_back(reference - p.forces(d, j));
                    force_sigmas.push_back(p.force_sigma(d, j));
                    force_sum += reference;
                    force_sum_sq += reference * reference;
                }
            }
        }
        if (p.reference_virial) {
            virial_sq += ((*p.reference_virial - p.virial) / atoms).squaredNorm();
            virials += 9;
        }
    }
    if (energies > 0) {
        summary.energy_rmse_per_atom = std::sqrt(energy_sq / static_cast<double>(energies));
        summary.energy_mae_per_atom = energy_abs / static_cast<double>(energies);
        summary.energy_calibration =
            engine::uncertainty_statistics(energy_residuals, energy_sigmas, calibration_bins);
    }
    summary.force_components = force_residuals.size();
    if (!force_residuals.empty()) {
        double squared = 0.0;
        for (const double r : force_residuals) {
            squared += r * r;
        }
        const double n = static_cast<double>(force_residuals.size());
        summary.force_rmse = std::sqrt(squared / n);
        const double mean = force_sum / n;
        summary.force_reference_std = std::sqrt(std::max(0.0, force_sum_sq / n - mean * mean));
        summary.force_calibration =
            engine::uncertainty_statistics(force_residuals, force_sigmas, calibration_bins);
    }
    if (virials > 0) {
        summary.virial_rmse_per_atom = std::sqrt(virial_sq / static_cast<double>(virials));
    }
    return summary;
}

}  // namespace chorus::models::training
