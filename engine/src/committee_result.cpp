#include "chorus/engine/committee_result.hpp"

#include <cmath>
#include <limits>

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
    if (request.atomic_energies) {
        member_atomic_energies.setConstant(n, m, std::numeric_limits<double>::quiet_NaN());
    } else {
        member_atomic_energies.resize(0, 0);
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

double member_spread(std::span<const double> members) {
    if (members.size() < 2) {
        return 0.0;
    }
    const Eigen::Map<const Eigen::ArrayXd> values(members.data(), static_cast<Eigen::Index>(members.size()));
    const double mean = values.mean();
    return std::sqrt((values - mean).square().sum() / static_cast<double>(members.size() - 1));
}

double CommitteeResult::energy_spread() const {
    return member_spread({member_energies.data(), static_cast<std::size_t>(member_energies.size())});
}

Eigen::VectorXd CommitteeResult::atomic_energy_spread() const {
    const Eigen::Index atoms = member_atomic_energies.rows();
    const Eigen::Index members = member_atomic_energies.cols();
    if (members < 2) {
        return Eigen::VectorXd::Zero(atoms);
    }
    const Eigen::VectorXd mean = member_atomic_energies.rowwise().mean();
    return ((member_atomic_energies.colwise() - mean).array().square().rowwise().sum() /
            static_cast<double>(members - 1))
        .sqrt()
        .matrix();
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
    if (member_atomic_energies.size() > 0) {
        // Per atom, about that atom's member mean: the calibrated per-atom energies still sum to
        // the calibrated member energies.
        const Eigen::VectorXd mean = member_atomic_energies.rowwise().mean();
        member_atomic_energies = ((member_atomic_energies.colwise() - mean) * alpha).colwise() + mean;
    }
    rescale_about_mean(member_forces, alpha);
    rescale_about_mean(member_virials, alpha);
}

}  // namespace chorus::engine
