#include "chorus/engine/committee_result.hpp"

#include <cmath>

namespace chorus::engine {

void CommitteeResult::reset(std::size_t members, std::size_t atoms, const ComputeRequest& request) {
    const auto m = static_cast<Eigen::Index>(members);
    const auto n = static_cast<Eigen::Index>(atoms);
    energy = 0.0;
    virial.setZero();
    member_energies.setZero(m);
    forces.setZero(3, request.forces ? n : 0);

    // resize() on the vectors keeps the matrices (and their buffers) that are already there.
    member_forces.resize(request.member_forces ? members : 0);
    for (auto& member : member_forces) {
        member.setZero(3, n);
    }
    member_virials.resize(request.member_virials ? members : 0);
    for (auto& member : member_virials) {
        member.setZero();
    }
}

void CommitteeResult::set_mean_from_members() {
    const std::size_t members = committee_size();
    if (members == 0) {
        return;
    }
    const double inverse = 1.0 / static_cast<double>(members);
    energy = member_energies.mean();
    if (member_forces.size() == members && forces.size() > 0) {
        forces.setZero();
        for (const auto& member : member_forces) {
            forces += member;
        }
        forces *= inverse;
    }
    if (member_virials.size() == members) {
        virial.setZero();
        for (const auto& member : member_virials) {
            virial += member;
        }
        virial *= inverse;
    }
}

double CommitteeResult::energy_spread() const {
    const Eigen::Index members = member_energies.size();
    if (members < 2) {
        return 0.0;
    }
    const double mean = member_energies.mean();
    return std::sqrt((member_energies.array() - mean).square().sum() / static_cast<double>(members - 1));
}

namespace {

// y_k ← ȳ + α (y_k − ȳ) with ȳ the mean of the members themselves.
template <typename Value>
void rescale_about_mean(std::vector<Value>& members, double alpha) {
    if (members.empty()) {
        return;
    }
    Value mean = members.front();
    for (std::size_t k = 1; k < members.size(); ++k) {
        mean += members[k];
    }
    mean /= static_cast<double>(members.size());
    for (auto& member : members) {
        member = mean + alpha * (member - mean);
    }
}

}  // namespace

void CommitteeResult::apply_calibration(double alpha) {
    if (member_energies.size() > 0) {
        const double mean = member_energies.mean();
        member_energies = (mean + alpha * (member_energies.array() - mean)).matrix();
    }
    rescale_about_mean(member_forces, alpha);
    rescale_about_mean(member_virials, alpha);
}

}  // namespace chorus::engine
