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

// The weights of the combination and their gradient factor (compute() says how they are made).
struct Weighting {
    const Eigen::VectorXd& deviations;  // δ_k = E_k − Ē of the correction members
    double correction_energy;           // Ē
    double weight;                      // w
    double root_weight;                 // √w
    double gradient_factor;             // ∂w/∂r = gradient_factor · U
};

// One derivative of the energy (forces, or virials: the same formula, another shape):
//   y = y_b + w ȳ − Ē ∂w, and with `members` y_k = y + √w (y_k − ȳ) − δ_k ∂w / (2√w),
// the minus-gradients of V_b + w Ē and of √w δ_k.
template <typename Value>
void combine_derivative(const Weighting& w, const Value& baseline,
                        const std::vector<Value>& correction_members, const Value& correction_mean,
                        bool members, Value& mean, std::vector<Value>& member_values) {
    const Value spread_gradient =
        w.gradient_factor * covariance_with_energy(w.deviations, correction_members, correction_mean);
    mean = baseline + w.weight * correction_mean - w.correction_energy * spread_gradient;
    if (members) {
        for (std::size_t k = 0; k < correction_members.size(); ++k) {
            const double delta = w.deviations[static_cast<Eigen::Index>(k)];
            // −∂(√w δ_k)/∂r = √w (F_k − F̄) − δ_k ∂w/∂r / (2√w)
            member_values[k] = mean + w.root_weight * (correction_members[k] - correction_mean) -
                               (delta / (2.0 * w.root_weight)) * spread_gradient;
        }
    }
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

    const Weighting weighting{deviations, corr.energy, weight, root_weight, gradient_factor};
    if (request.forces) {
        combine_derivative(weighting, base.forces, corr.member_forces, corr.forces, request.member_forces,
                           result.forces, result.member_forces);
    }
    if (request.virial) {
        combine_derivative(weighting, base.virial, corr.member_virials, corr.virial, request.member_virials,
                           result.virial, result.member_virials);
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
