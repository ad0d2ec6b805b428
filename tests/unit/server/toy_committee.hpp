#pragma once
// A committee model small enough to check by hand, for the server tests: member k is a harmonic
// spring of stiffness c_k (eV/Å²) between every pair of atoms, E_k = ½ c_k Σ_{i<j} |r_ij|², with
// no cutoff and no periodic images. Its members differ, so the committee has a spread.
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chorus/engine/model.hpp"

namespace chorus::server::test {

class ToyCommittee final : public engine::Model {
public:
    explicit ToyCommittee(std::vector<double> stiffness, double alpha = 1.0, std::vector<int> species = {})
        : stiffness_(std::move(stiffness)), alpha_(alpha), species_(std::move(species)) {}

    std::string_view kind() const override { return "toy-spring-committee"; }
    std::string description() const override {
        return "toy spring committee of " + std::to_string(stiffness_.size()) + " members";
    }
    std::span<const int> species() const override { return species_; }
    double cutoff() const override { return 1e9; }
    std::size_t committee_size() const override { return stiffness_.size(); }
    double calibration_alpha() const override { return alpha_; }

protected:
    void compute(const engine::System& system, const engine::ComputeRequest& request,
                 engine::CommitteeResult& result) const override {
        const auto atoms = static_cast<Eigen::Index>(system.size());
        const auto& r = system.positions();
        // Everything of member k is c_k times the same unit-stiffness quantities.
        double unit_energy = 0.0;
        Eigen::Matrix3Xd unit_forces = Eigen::Matrix3Xd::Zero(3, atoms);
        Eigen::Matrix3d unit_virial = Eigen::Matrix3d::Zero();
        for (Eigen::Index i = 0; i < atoms; ++i) {
            for (Eigen::Index j = i + 1; j < atoms; ++j) {
                const Eigen::Vector3d r_ij = r.col(j) - r.col(i);
                unit_energy += 0.5 * r_ij.squaredNorm();
                const Eigen::Vector3d f_ij = -r_ij;  // −∂E/∂r_ij
                unit_forces.col(j) += f_ij;
                unit_forces.col(i) -= f_ij;
                unit_virial += r_ij * f_ij.transpose();
            }
        }
        const std::size_t members = stiffness_.size();
        result.reset(members, system.size(), request);
        double mean_stiffness = 0.0;
        for (std::size_t k = 0; k < members; ++k) {
            const double c = stiffness_[k];
            mean_stiffness += c / static_cast<double>(members);
            result.member_energies[static_cast<Eigen::Index>(k)] = c * unit_energy;
            if (request.member_forces) {
                result.member_forces[k] = c * unit_forces;
            }
            if (request.member_virials) {
                result.member_virials[k] = c * unit_virial;
            }
        }
        result.energy = mean_stiffness * unit_energy;
        if (request.forces) {
            result.forces = mean_stiffness * unit_forces;
        }
        if (request.virial) {
            result.virial = mean_stiffness * unit_virial;
        }
    }

private:
    std::vector<double> stiffness_;
    double alpha_;
    std::vector<int> species_;
};

}  // namespace chorus::server::test
