#include "chorus/models/lennard_jones.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <utility>

#include "chorus/error.hpp"
#include "lennard_jones_kernel.hpp"

namespace chorus::models {

LennardJones::LennardJones(double epsilon, double sigma, std::optional<double> cutoff)
    : parameters_{epsilon, sigma}, cutoff_(cutoff.value_or(3.0 * sigma)) {
    detail::check_lennard_jones_parameters(parameters_, cutoff_);
}

std::string LennardJones::description() const {
    std::ostringstream text;
    text << "lennard-jones: epsilon " << parameters_.epsilon << " eV, sigma " << parameters_.sigma
         << " Å, cutoff " << cutoff_ << " Å, any species";
    return text.str();
}

void LennardJones::compute(const engine::System& system, const engine::ComputeRequest& request,
                           engine::CommitteeResult& result) const {
    detail::evaluate_lennard_jones(system, std::span(&parameters_, 1), cutoff_, request, result);
}

LennardJonesCommittee::LennardJonesCommittee(std::vector<LennardJonesParameters> members, double cutoff,
                                             double alpha)
    : members_(std::move(members)), cutoff_(cutoff), alpha_(alpha) {
    if (members_.empty()) {
        throw ConfigError("a Lennard-Jones committee needs at least one member");
    }
    for (const LennardJonesParameters& member : members_) {
        detail::check_lennard_jones_parameters(member, cutoff_);
    }
    if (!std::isfinite(alpha_) || !(alpha_ > 0.0)) {
        throw ConfigError("committee calibration alpha must be a positive finite number, got " +
                          std::to_string(alpha_));
    }
}

std::string LennardJonesCommittee::description() const {
    const auto [min_epsilon, max_epsilon] = std::minmax_element(
        members_.begin(), members_.end(), [](const auto& a, const auto& b) { return a.epsilon < b.epsilon; });
    const auto [min_sigma, max_sigma] = std::minmax_element(
        members_.begin(), members_.end(), [](const auto& a, const auto& b) { return a.sigma < b.sigma; });
    std::ostringstream text;
    text << "lennard-jones-committee: " << members_.size() << " members, epsilon " << min_epsilon->epsilon
         << "–" << max_epsilon->epsilon << " eV, sigma " << min_sigma->sigma << "–" << max_sigma->sigma
         << " Å, cutoff " << cutoff_ << " Å, alpha " << alpha_ << ", any species";
    return text.str();
}

void LennardJonesCommittee::compute(const engine::System& system, const engine::ComputeRequest& request,
                                    engine::CommitteeResult& result) const {
    detail::evaluate_lennard_jones(system, members_, cutoff_, request, result);
}

}  // namespace chorus::models
