// LinearCommittee: energies against forces and virial by finite differences, the mean against
// the members, per-atom energies, and thread-shared evaluation.
#include <cmath>
#include <random>
#include <thread>

#include <catch2/catch.hpp>

#include "chorus/error.hpp"
#include "linear_committee_support.hpp"

using chorus::engine::CommitteeResult;
using chorus::engine::ComputeRequest;
using chorus::engine::System;
using chorus::models::LinearCommittee;

namespace {

const ComputeRequest everything{
    .forces = true, .virial = true, .member_forces = true, .member_virials = true, .atomic_energies = true};

Eigen::VectorXd member_energies(const LinearCommittee& model, const System& system) {
    CommitteeResult result;
    model.evaluate(system, {.forces = false, .virial = false}, result);
    return result.member_energies;
}

}  // namespace

TEST_CASE("linear committee forces and virial are minus the derivatives of each member's energy",
          "[linear]") {
    std::mt19937_64 engine(11);
    const System system = chorus::test::random_water(2, engine);
    const LinearCommittee model(chorus::test::random_committee(4, 3));
    CommitteeResult result;
    model.evaluate(system, everything, result);
    REQUIRE(result.member_forces.size() == 4);

    // Central differences, h = 1e-4 Å: truncation error ~h² · E''' ≈ 1e-8, rounding ~1e-16 · |E| / h.
    const double h = 1e-4;
    for (const Eigen::Index atom : {0, 1, 5, 23}) {
        for (Eigen::Index d = 0; d < 3; ++d) {
            Eigen::Matrix3Xd plus = system.positions();
            Eigen::Matrix3Xd minus = system.positions();
            plus(d, atom) += h;
            minus(d, atom) -= h;
            const System up(system.atomic_numbers(), plus, system.cell(), true);
            const System down(system.atomic_numbers(), minus, system.cell(), true);
            const Eigen::VectorXd derivative =
                (member_energies(model, up) - member_energies(model, down)) / (2 * h);
            for (std::size_t k = 0; k < 4; ++k) {
                CAPTURE(atom, d, k);
                CHECK(result.member_forces[k](d, atom) ==
                      Approx(-derivative[static_cast<Eigen::Index>(k)]).margin(1e-6));
            }
            CHECK(result.forces(d, atom) == Approx(-derivative.mean()).margin(1e-6));
        }
    }

    // W = −∂E/∂ε: strain positions and cell together, r → (1 + ε) r.
    for (Eigen::Index a = 0; a < 3; ++a) {
        for (Eigen::Index b = 0; b < 3; ++b) {
            Eigen::Matrix3d strain = Eigen::Matrix3d::Identity();
            strain(a, b) += h;
            const System up(system.atomic_numbers(), strain * system.positions(), strain * system.cell(),
                            true);
            strain(a, b) -= 2 * h;
            const System down(system.atomic_numbers(), strain * system.positions(), strain * system.cell(),
                              true);
            const Eigen::VectorXd derivative =
                (member_energies(model, up) - member_energies(model, down)) / (2 * h);
            for (std::size_t k = 0; k < 4; ++k) {
                CAPTURE(a, b, k);
                CHECK(result.member_virials[k](a, b) ==
                      Approx(-derivative[static_cast<Eigen::Index>(k)]).margin(1e-6));
            }
        }
    }
}

TEST_CASE("linear committee mean, members and per-atom energies agree", "[linear]") {
    std::mt19937_64 engine(5);
    const System system = chorus::test::random_water(2, engine);
    const LinearCommittee model(chorus::test::random_committee(5, 8));

    CommitteeResult full;
    model.evaluate(system, everything, full);
    CommitteeResult fused;  // the single adjoint pass with the mean weights
    model.evaluate(system, {}, fused);

    CHECK(full.committee_size() == 5);
    CHECK(fused.member_forces.empty());
    CHECK(fused.energy == Approx(full.member_energies.mean()).epsilon(1e-13));
    CHECK((fused.member_energies - full.member_energies).norm() <= 1e-12 * full.member_energies.norm());
    Eigen::Matrix3Xd mean_forces = Eigen::Matrix3Xd::Zero(3, static_cast<Eigen::Index>(system.size()));
    Eigen::Matrix3d mean_virial = Eigen::Matrix3d::Zero();
    for (std::size_t k = 0; k < 5; ++k) {
        mean_forces += full.member_forces[k] / 5.0;
        mean_virial += full.member_virials[k] / 5.0;
    }
    CHECK((fused.forces - mean_forces).norm() <= 1e-10 * mean_forces.norm());
    CHECK((full.forces - mean_forces).norm() <= 1e-12 * mean_forces.norm());
    CHECK((fused.virial - mean_virial).norm() <= 1e-10 * mean_virial.norm());
    // Per-atom energies sum to each member's energy.
    const Eigen::VectorXd sums = full.member_atomic_energies.colwise().sum().transpose();
    CHECK((sums - full.member_energies).norm() <= 1e-12 * full.member_energies.norm());
    // Translating every atom changes nothing; the total force is zero.
    CHECK(fused.forces.rowwise().sum().norm() <= 1e-10 * fused.forces.norm());
}

TEST_CASE("linear committee applies alpha to every member quantity about the mean", "[linear]") {
    std::mt19937_64 engine(7);
    const System system = chorus::test::random_water(2, engine);
    const LinearCommittee plain(chorus::test::random_committee(4, 2, 1.0));
    const LinearCommittee scaled(chorus::test::random_committee(4, 2, 2.5));
    CommitteeResult a, b;
    plain.evaluate(system, everything, a);
    scaled.evaluate(system, everything, b);
    CHECK(b.energy == Approx(a.energy).epsilon(1e-14));
    CHECK(b.energy_spread() == Approx(2.5 * a.energy_spread()).epsilon(1e-10));
    CHECK(((b.member_forces[1] - b.forces) - 2.5 * (a.member_forces[1] - a.forces)).norm() <=
          1e-10 * a.member_forces[1].norm());
}

TEST_CASE("linear committee serves several threads at once with identical results", "[linear]") {
    std::mt19937_64 engine(9);
    const System system = chorus::test::random_water(2, engine);
    const LinearCommittee model(chorus::test::random_committee(4, 1));
    CommitteeResult reference;
    model.evaluate(system, everything, reference);
    std::vector<CommitteeResult> results(4);
    std::vector<std::thread> threads;
    for (auto& result : results) {
        threads.emplace_back([&] {
            for (int repeat = 0; repeat < 3; ++repeat) {
                model.evaluate(system, everything, result);
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    for (const auto& result : results) {
        CHECK(std::abs(result.energy - reference.energy) <= 1e-12 * std::abs(reference.energy));
        CHECK((result.forces - reference.forces).norm() <= 1e-12 * reference.forces.norm());
    }
}

TEST_CASE("linear committee rejects inconsistent parameters and unknown species", "[linear]") {
    auto parameters = chorus::test::random_committee(4, 1);
    parameters.weights[2].conservativeResize(2, parameters.weights[2].cols() - 1);
    CHECK_THROWS_AS(LinearCommittee(parameters), chorus::ConfigError);

    auto bad_alpha = chorus::test::random_committee(4, 1, -1.0);
    CHECK_THROWS_AS(LinearCommittee(bad_alpha), chorus::ConfigError);

    const LinearCommittee model(chorus::test::random_committee(4, 1));
    std::mt19937_64 engine(3);
    const System water = chorus::test::random_water(1, engine);
    std::vector<int> numbers = water.atomic_numbers();
    numbers[0] = 6;
    const System carbon(numbers, water.positions(), water.cell(), true);
    CommitteeResult result;
    CHECK_THROWS_WITH(model.evaluate(carbon, {}, result), Catch::Contains("atomic number 6"));
}
