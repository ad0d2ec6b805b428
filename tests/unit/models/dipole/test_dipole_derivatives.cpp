// ∂μ/∂r of the dipole committee (DipoleCommittee::derivatives): against central differences of
// predict()'s mean and members, the acoustic sum rule of a charge-free, translation-invariant model,
// and rotation covariance of the atomic polar tensors.
#include <cmath>
#include <random>

#include <Eigen/Geometry>
#include <catch2/catch.hpp>

#include "../linear_committee_support.hpp"
#include "chorus/error.hpp"
#include "chorus/models/dipole/dipole_committee.hpp"
#include "random_dipole_committee.hpp"

using chorus::engine::System;
using namespace chorus::models::dipole;
namespace features = chorus::models::features;

namespace {

DipoleCommitteeParameters random_dipole_model(std::size_t members, std::uint64_t seed) {
    return chorus::test::random_dipole_parameters(members, seed, 1.7);
}

System water(bool periodic, std::uint64_t seed) {
    std::mt19937_64 engine(seed);
    return chorus::test::random_water(2, engine, periodic);
}

System with_positions(const System& system, const Eigen::Matrix3Xd& positions) {
    return System(system.atomic_numbers(), positions, system.cell(), system.periodic());
}

double relative(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
    return (a - b).cwiseAbs().maxCoeff() / b.cwiseAbs().maxCoeff();
}

// Central differences of predict(): mean (3 × 3N) and every calibrated member.
void finite_differences(const DipoleCommittee& committee, const System& system, Eigen::MatrixXd& mean,
                        std::vector<Eigen::MatrixXd>& members) {
    constexpr double h = 1e-5;
    const auto atoms = static_cast<Eigen::Index>(system.size());
    mean.setZero(3, 3 * atoms);
    members.assign(committee.committee_size(), Eigen::MatrixXd::Zero(3, 3 * atoms));
    for (Eigen::Index j = 0; j < atoms; ++j) {
        for (int beta = 0; beta < 3; ++beta) {
            Eigen::Matrix3Xd plus = system.positions();
            Eigen::Matrix3Xd minus = system.positions();
            plus(beta, j) += h;
            minus(beta, j) -= h;
            const DipolePrediction up = committee.predict(with_positions(system, plus));
            const DipolePrediction down = committee.predict(with_positions(system, minus));
            mean.col(3 * j + beta) = (up.mean - down.mean) / (2 * h);
            for (std::size_t k = 0; k < members.size(); ++k) {
                const auto column = static_cast<Eigen::Index>(k);
                members[k].col(3 * j + beta) = (up.members.col(column) - down.members.col(column)) / (2 * h);
            }
        }
    }
}

// Atom j's 3 × 3 tensor Z_j[α][β] = ∂μ_α/∂r_{jβ}.
Eigen::Matrix3d tensor(const Eigen::MatrixXd& derivatives, Eigen::Index j) {
    return derivatives.middleCols(3 * j, 3);
}

}  // namespace

TEST_CASE("dipole derivatives match finite differences of predict()", "[dipole][gradients]") {
    const DipoleCommittee committee(random_dipole_model(3, 7));
    for (const bool periodic : {false, true}) {
        INFO((periodic ? "periodic water" : "water cluster"));
        const System system = water(periodic, periodic ? 12 : 13);
        const DipoleDerivatives exact = committee.derivatives(system, true);
        REQUIRE(exact.mean.rows() == 3);
        REQUIRE(exact.mean.cols() == 3 * static_cast<Eigen::Index>(system.size()));
        REQUIRE(exact.members.size() == committee.committee_size());
        Eigen::MatrixXd mean;
        std::vector<Eigen::MatrixXd> members;
        finite_differences(committee, system, mean, members);
        REQUIRE(mean.cwiseAbs().maxCoeff() > 1e-2);
        CHECK(relative(exact.mean, mean) < 1e-6);
        for (std::size_t k = 0; k < members.size(); ++k) {
            INFO("member " << k);
            CHECK(relative(exact.members[k], members[k]) < 1e-6);
        }
        // The mean alone (mean weights, one pass) agrees with the average of the members.
        const DipoleDerivatives mean_only = committee.derivatives(system);
        CHECK(mean_only.members.empty());
        CHECK(relative(mean_only.mean, exact.mean) < 1e-12);
        // The dipole that comes with the derivatives is predict()'s, members and spread included.
        const DipolePrediction predicted = committee.predict(system);
        for (const DipoleDerivatives* d : {&exact, &mean_only}) {
            CHECK(relative(d->prediction.mean, predicted.mean) < 1e-14);
            CHECK(relative(d->prediction.members, predicted.members) < 1e-14);
            CHECK(relative(d->prediction.sigma, predicted.sigma) < 1e-14);
            CHECK(d->prediction.norm_sigma == Approx(predicted.norm_sigma).epsilon(1e-14));
        }
    }
}

TEST_CASE("dipole derivatives obey the acoustic sum rule of a charge-free model", "[dipole][gradients]") {
    // μ = Σ_i w · X^{λ=1}(i) with features of relative positions only: translating every atom leaves μ
    // unchanged, so Σ_j ∂μ_α/∂r_{jβ} = 0 (no total-charge term), with or without a periodic cell.
    const DipoleCommittee committee(random_dipole_model(2, 8));
    for (const bool periodic : {false, true}) {
        INFO((periodic ? "periodic water" : "water cluster"));
        const DipoleDerivatives d = committee.derivatives(water(periodic, 21), true);
        Eigen::Matrix3d sum = Eigen::Matrix3d::Zero();
        for (Eigen::Index j = 0; j < d.mean.cols() / 3; ++j) {
            sum += tensor(d.mean, j);
        }
        const double scale = d.mean.cwiseAbs().maxCoeff();
        REQUIRE(scale > 1e-2);
        CHECK(sum.cwiseAbs().maxCoeff() < 1e-10 * scale);
    }
}

TEST_CASE("atomic polar tensors rotate as R Z Rᵀ", "[dipole][gradients]") {
    const DipoleCommittee committee(random_dipole_model(2, 9));
    const System system = water(false, 31);
    const Eigen::Matrix3d rotation =
        Eigen::AngleAxisd(2.3, Eigen::Vector3d(-0.4, 0.9, 0.2).normalized()).toRotationMatrix();
    const Eigen::Vector3d shift(0.7, -1.1, 2.5);
    const System rotated(system.atomic_numbers(), (rotation * system.positions()).colwise() + shift,
                         Eigen::Matrix3d::Zero(), false);
    const DipoleDerivatives before = committee.derivatives(system, true);
    const DipoleDerivatives after = committee.derivatives(rotated, true);
    const double scale = before.mean.cwiseAbs().maxCoeff();
    double worst = 0.0;
    for (Eigen::Index j = 0; j < before.mean.cols() / 3; ++j) {
        const Eigen::Matrix3d expected = rotation * tensor(before.mean, j) * rotation.transpose();
        worst = std::max(worst, (tensor(after.mean, j) - expected).cwiseAbs().maxCoeff());
        for (std::size_t k = 0; k < before.members.size(); ++k) {
            const Eigen::Matrix3d member = rotation * tensor(before.members[k], j) * rotation.transpose();
            worst = std::max(worst, (tensor(after.members[k], j) - member).cwiseAbs().maxCoeff());
        }
    }
    CHECK(worst < 1e-10 * scale);
}

TEST_CASE("dipole derivatives refuse unknown species", "[dipole][gradients]") {
    const DipoleCommittee committee(random_dipole_model(2, 10));
    const System system({1, 6}, Eigen::Matrix3Xd::Random(3, 2), Eigen::Matrix3d::Zero(), false);
    CHECK_THROWS_AS(committee.derivatives(system), chorus::InputError);
    // The committee's scratch is still usable afterwards.
    CHECK_NOTHROW(committee.derivatives(water(false, 41)));
}
