#include "chorus/models/weighted_baseline.hpp"

#include <algorithm>
#include <cmath>

#include <sstream>

#include "chorus/error.hpp"

namespace chorus::models {
namespace {

// Per-thread scratch for the two inner evaluations: one shared model serves every connection, and
// evaluations must not allocate once warm.
struct Scratch {
    engine::CommitteeResult baseline;
    engine::CommitteeResult correction;
};

Scratch& scratch() {
    thread_local Scratch instance;
    return instance;
}

// Σ_k δ_k (y_k − ȳ) / (M − 1): minus half the gradient of σ² when y are forces (or virials).
template <typename Member, typename Mean>
auto covariance_with_energy(const Eigen::VectorXd& deviations, const std::vector<Member>& members,
                            const Mean& mean) {
    Mean sum = Mean::Zero(mean.rows(), mean.cols());
    for (Eigen::Index k = 0; k < deviations.size(); ++k) {
        sum += deviations[k] * (members[static_cast<std::size_t>(k)] - mean);
    }
    return Mean(sum / static_cast<double>(deviations.size() - 1));
}

}  // namespace

WeightedBaselineModel::WeightedBaselineModel(std::shared_ptr<const engine::Model> baseline,
                                             std::shared_ptr<const engine::Model> correction,
                                             double baseline_uncertainty)
    : baseline_(std::move(baseline)),
      correction_(std::move(correction)),
      baseline_uncertainty_(baseline_uncertainty) {
    if (!baseline_ || !correction_) {
        throw ConfigError("weighted baseline: both a baseline and a correction model are required");
    }
    if (!(baseline_uncertainty_ > 0.0)) {  // NaN fails too
        std::ostringstream message;
        message << "weighted baseline: the baseline uncertainty must be a positive energy in eV (or "
                   "infinity for a plain sum), got "
                << baseline_uncertainty_;
        throw ConfigError(message.str());
    }
    if (correction_->committee_size() < 2) {
        throw ConfigError("weighted baseline: the correction model '" + correction_->description() +
                          "' has 1 member; the weights need a committee spread, so give a committee of at "
                          "least 2 members");
    }
}

std::string WeightedBaselineModel::description() const {
    std::ostringstream text;
    if (std::isinf(baseline_uncertainty_)) {
        text << "baseline + correction";
    } else {
        text << "weighted baseline (s_b " << baseline_uncertainty_ << " eV)";
    }
    text << ": baseline [" << baseline_->description() << "] + correction [" << correction_->description()
         << "]";
    return text.str();
}

double WeightedBaselineModel::cutoff() const { return std::max(baseline_->cutoff(), correction_->cutoff()); }

void WeightedBaselineModel::compute(const engine::System& system, const engine::ComputeRequest& request,
                                    engine::CommitteeResult& result) const {
    Scratch& inner = scratch();
    engine::ComputeRequest baseline_request;
    baseline_request.forces = request.forces;
    baseline_request.virial = request.virial;
    baseline_request.atomic_energies = request.atomic_energies;
    baseline_->evaluate(system, baseline_request, inner.baseline);

    // Every member's forces and virial enter the gradient of σ², so they are needed even when the
    // caller asks only for the mean.
    engine::ComputeRequest correction_request = request;
    correction_request.member_forces = request.forces || request.member_forces;
    correction_request.member_virials = request.virial || request.member_virials;
    correction_->evaluate(system, correction_request, inner.correction);
    const engine::CommitteeResult& base = inner.baseline;
    const engine::CommitteeResult& corr = inner.correction;

    const std::size_t members = corr.committee_size();
    const std::size_t atoms = system.size();
    result.reset(members, atoms, request);

    const Eigen::VectorXd deviations = corr.member_energies.array() - corr.energy;
    const double variance = deviations.squaredNorm() / static_cast<double>(members - 1);
    const double s2 = baseline_uncertainty_ * baseline_uncertainty_;
    // s_b = ∞ is the plain sum V_b + ΔV: w = 1 and no σ² term.
    const bool plain_sum = std::isinf(s2);
    const double weight = plain_sum ? 1.0 : s2 / (s2 + variance);
    const double root_weight = std::sqrt(weight);
    // ∂w/∂r = gradient_factor · U with U = Σ δ_k (F_k − F̄)/(M−1), since ∂σ²/∂r = −2U.
    const double gradient_factor = plain_sum ? 0.0 : 2.0 * s2 / ((s2 + variance) * (s2 + variance));

    result.energy = base.energy + weight * corr.energy;
    result.member_energies = (root_weight * deviations.array() + result.energy).matrix();

    if (request.forces) {
        const Eigen::Matrix3Xd spread_gradient =
            gradient_factor * covariance_with_energy(deviations, corr.member_forces, corr.forces);
        result.forces = base.forces + weight * corr.forces - corr.energy * spread_gradient;
        if (request.member_forces) {
            for (std::size_t k = 0; k < members; ++k) {
                const double delta = deviations[static_cast<Eigen::Index>(k)];
                // −∂(√w δ_k)/∂r = √w (F_k − F̄) − δ_k ∂w/∂r / (2√w)
                result.member_forces[k] = result.forces +
                                          root_weight * (corr.member_forces[k] - corr.forces) -
                                          (delta / (2.0 * root_weight)) * spread_gradient;
            }
        }
    }
    if (request.virial) {
        const Eigen::Matrix3d spread_gradient =
            gradient_factor * covariance_with_energy(deviations, corr.member_virials, corr.virial);
        result.virial = base.virial + weight * corr.virial - corr.energy * spread_gradient;
        if (request.member_virials) {
            for (std::size_t k = 0; k < members; ++k) {
                const double delta = deviations[static_cast<Eigen::Index>(k)];
                result.member_virials[k] = result.virial +
                                           root_weight * (corr.member_virials[k] - corr.virial) -
                                           (delta / (2.0 * root_weight)) * spread_gradient;
            }
        }
    }
    if (request.atomic_energies) {
        // e_ik = e_b,i + w ē_i + √w (e_ik − ē_i): sums over atoms to the member energies above.
        const Eigen::VectorXd baseline_atomic = base.member_atomic_energies.rowwise().mean();
        const Eigen::VectorXd correction_mean = corr.member_atomic_energies.rowwise().mean();
        for (std::size_t k = 0; k < members; ++k) {
            const auto column = static_cast<Eigen::Index>(k);
            result.member_atomic_energies.col(column) =
                baseline_atomic + weight * correction_mean +
                root_weight * (corr.member_atomic_energies.col(column) - correction_mean);
        }
    }
}

}  // namespace chorus::models
