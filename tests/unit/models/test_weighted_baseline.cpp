// The weighted-baseline model (science.md §5) against its defining formula and its own derivatives:
// forces and virials include the gradient of σ², which only finite differences can vouch for.
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include <catch2/catch.hpp>

#include "chorus/error.hpp"
#include "chorus/models/lennard_jones.hpp"
#include "chorus/models/weighted_baseline.hpp"
#include "model_derivative_support.hpp"

using chorus::engine::CommitteeResult;
using chorus::engine::ComputeRequest;
using chorus::engine::Model;
using chorus::engine::System;
using chorus::models::LennardJones;
using chorus::models::LennardJonesCommittee;
using chorus::models::WeightedBaselineModel;
using chorus::test::strained;

namespace {

constexpr ComputeRequest everything{true, true, true, true, true};

// An argon-like cluster, every pair well inside the 12 Å cutoff, so the energy is smooth.
System cluster() {
    Eigen::Matrix3Xd positions(3, 6);
    positions << 0.0, 3.7, 0.2, -0.1, 1.9, 2.1,  //
        0.1, -0.2, 3.8, 0.3, 1.8, 2.0,           //
        -0.1, 0.2, 0.1, 3.6, 1.7, -1.9;
    return System(std::vector<int>(6, 18), positions, Eigen::Matrix3d::Zero(), false);
}

std::shared_ptr<const Model> baseline() { return std::make_shared<LennardJones>(0.0090, 3.30, 12.0); }

// A correction committee whose spread changes with the geometry (members differ in ε and σ).
std::shared_ptr<const Model> correction() {
    return std::make_shared<LennardJonesCommittee>(
        std::vector<chorus::models::LennardJonesParameters>{
            {0.0010, 3.35}, {0.0014, 3.40}, {0.0020, 3.45}, {0.0005, 3.38}},
        12.0, 1.5);
}

CommitteeResult evaluate(const Model& model, const System& system,
                         const ComputeRequest& request = everything) {
    return chorus::test::evaluate_model(model, system, request);
}

System moved(const System& system, Eigen::Index atom, Eigen::Index axis, double step) {
    Eigen::Matrix3Xd positions = system.positions();
    positions(axis, atom) += step;
    return System(system.atomic_numbers(), positions, system.cell(), system.periodic());
}

// s_b equal to the correction's spread at the test geometry: w ≈ 1/2, where both terms matter.
double matched_uncertainty() {
    const CommitteeResult c = evaluate(*correction(), cluster());
    return c.energy_spread();
}

}  // namespace

TEST_CASE("the energy is V_b + w ΔV̄ and the members spread by √w σ", "[weighted-baseline]") {
    const System system = cluster();
    const double s_b = 0.7 * matched_uncertainty();
    const WeightedBaselineModel model(baseline(), correction(), s_b);
    const CommitteeResult base = evaluate(*baseline(), system);
    const CommitteeResult corr = evaluate(*correction(), system);
    const CommitteeResult result = evaluate(model, system);

    const double variance = corr.energy_spread() * corr.energy_spread();
    const double weight = s_b * s_b / (s_b * s_b + variance);
    REQUIRE(weight > 0.2);
    REQUIRE(weight < 0.8);
    CHECK(result.energy == Approx(base.energy + weight * corr.energy).epsilon(1e-13));
    CHECK(result.member_energies.mean() == Approx(result.energy).epsilon(1e-13));
    CHECK(result.energy_spread() == Approx(std::sqrt(weight) * corr.energy_spread()).epsilon(1e-12));
    // The combined error of two independent estimates: 1/σ_wb² = 1/σ² + 1/s_b².
    CHECK(1.0 / (result.energy_spread() * result.energy_spread()) ==
          Approx(1.0 / variance + 1.0 / (s_b * s_b)).epsilon(1e-12));

    const Eigen::VectorXd atomic_sums = result.member_atomic_energies.colwise().sum();
    CHECK((atomic_sums - result.member_energies).cwiseAbs().maxCoeff() <= 1e-12 * std::abs(result.energy));
}

TEST_CASE("forces and member forces are minus finite-difference gradients, σ² term included",
          "[weighted-baseline]") {
    const System system = cluster();
    const WeightedBaselineModel model(baseline(), correction(), 0.7 * matched_uncertainty());
    const CommitteeResult result = evaluate(model, system);
    const double scale = result.forces.cwiseAbs().maxCoeff();
    const double step = 1e-5;
    double sigma_term = 0.0;  // how much the dσ²/dr term moves the forces: the test must see it
    const CommitteeResult naive = [&] {
        CommitteeResult n = evaluate(*correction(), system);
        const CommitteeResult b = evaluate(*baseline(), system);
        const double s2 = model.baseline_uncertainty() * model.baseline_uncertainty();
        n.forces = b.forces + s2 / (s2 + n.energy_spread() * n.energy_spread()) * n.forces;
        return n;
    }();
    sigma_term = (naive.forces - result.forces).cwiseAbs().maxCoeff();
    REQUIRE(sigma_term > 1e-3 * scale);

    for (Eigen::Index atom = 0; atom < 6; ++atom) {
        for (Eigen::Index axis = 0; axis < 3; ++axis) {
            const CommitteeResult plus = evaluate(model, moved(system, atom, axis, step));
            const CommitteeResult minus = evaluate(model, moved(system, atom, axis, -step));
            INFO("atom " << atom << " axis " << axis);
            CHECK(std::abs(-(plus.energy - minus.energy) / (2 * step) - result.forces(axis, atom)) <=
                  1e-7 * scale);
            for (std::size_t k = 0; k < result.committee_size(); ++k) {
                const auto member = static_cast<Eigen::Index>(k);
                const double gradient =
                    (plus.member_energies[member] - minus.member_energies[member]) / (2 * step);
                INFO("member " << k);
                CHECK(std::abs(-gradient - result.member_forces[k](axis, atom)) <= 1e-7 * scale);
            }
        }
    }
}

TEST_CASE("the virial and member virials are minus strain derivatives", "[weighted-baseline]") {
    const System system = cluster();
    const WeightedBaselineModel model(baseline(), correction(), 0.7 * matched_uncertainty());
    const CommitteeResult result = evaluate(model, system);
    const double scale = result.virial.cwiseAbs().maxCoeff();
    const double step = 1e-6;
    for (int a = 0; a < 3; ++a) {
        for (int b = 0; b < 3; ++b) {
            Eigen::Matrix3d strain = Eigen::Matrix3d::Zero();
            strain(a, b) = step;
            const CommitteeResult plus = evaluate(model, strained(system, strain));
            const CommitteeResult minus = evaluate(model, strained(system, -strain));
            INFO("component " << a << b);
            CHECK(std::abs(-(plus.energy - minus.energy) / (2 * step) - result.virial(a, b)) <= 1e-6 * scale);
            for (std::size_t k = 0; k < result.committee_size(); ++k) {
                const auto member = static_cast<Eigen::Index>(k);
                const double derivative =
                    (plus.member_energies[member] - minus.member_energies[member]) / (2 * step);
                CHECK(std::abs(-derivative - result.member_virials[k](a, b)) <= 1e-6 * scale);
            }
        }
    }
}

TEST_CASE("a certain baseline wins, an uncertain baseline leaves the committee", "[weighted-baseline]") {
    const System system = cluster();
    const CommitteeResult base = evaluate(*baseline(), system);
    const CommitteeResult corr = evaluate(*correction(), system);
    const double sigma = corr.energy_spread();

    const CommitteeResult trusted =
        evaluate(WeightedBaselineModel(baseline(), correction(), 1e-6 * sigma), system);
    CHECK(trusted.energy == Approx(base.energy).epsilon(1e-9));
    CHECK((trusted.forces - base.forces).cwiseAbs().maxCoeff() <= 1e-8 * base.forces.cwiseAbs().maxCoeff());

    const CommitteeResult doubted =
        evaluate(WeightedBaselineModel(baseline(), correction(), 1e6 * sigma), system);
    CHECK(doubted.energy == Approx(base.energy + corr.energy).epsilon(1e-10));
    CHECK((doubted.forces - base.forces - corr.forces).cwiseAbs().maxCoeff() <=
          1e-9 * corr.forces.cwiseAbs().maxCoeff());
}

TEST_CASE("only the requested parts are computed, and they agree with the full request",
          "[weighted-baseline]") {
    const System system = cluster();
    const WeightedBaselineModel model(baseline(), correction(), matched_uncertainty());
    const CommitteeResult full = evaluate(model, system);
    const CommitteeResult mean_only =
        evaluate(model, system, ComputeRequest{true, true, false, false, false});
    CHECK(mean_only.member_forces.empty());
    CHECK(mean_only.energy == full.energy);
    CHECK((mean_only.forces - full.forces).cwiseAbs().maxCoeff() == 0.0);
    CHECK((mean_only.virial - full.virial).cwiseAbs().maxCoeff() == 0.0);
}

TEST_CASE("a weighted baseline needs a positive uncertainty and a committee", "[weighted-baseline]") {
    CHECK_THROWS_AS(WeightedBaselineModel(baseline(), correction(), 0.0), chorus::ConfigError);
    CHECK_THROWS_AS(WeightedBaselineModel(baseline(), correction(), -1.0), chorus::ConfigError);
    CHECK_THROWS_AS(WeightedBaselineModel(baseline(), correction(), std::nan("")), chorus::ConfigError);
    CHECK_THROWS_WITH(WeightedBaselineModel(baseline(), baseline(), 0.1),
                      Catch::Contains("at least 2 members"));
}

TEST_CASE("an infinite baseline uncertainty is the plain sum baseline + correction", "[weighted-baseline]") {
    const System system = cluster();
    const CommitteeResult base = evaluate(*baseline(), system);
    const CommitteeResult corr = evaluate(*correction(), system);
    const CommitteeResult sum = evaluate(
        WeightedBaselineModel(baseline(), correction(), std::numeric_limits<double>::infinity()), system);
    CHECK(sum.energy == Approx(base.energy + corr.energy).epsilon(1e-14));
    for (std::size_t k = 0; k < sum.committee_size(); ++k) {
        const auto member = static_cast<Eigen::Index>(k);
        CHECK(sum.member_energies[member] ==
              Approx(base.energy + corr.member_energies[member]).epsilon(1e-14));
        CHECK((sum.member_forces[k] - base.forces - corr.member_forces[k]).cwiseAbs().maxCoeff() <=
              1e-14 * base.forces.cwiseAbs().maxCoeff());
    }
    CHECK((sum.virial - base.virial - corr.virial).cwiseAbs().maxCoeff() <=
          1e-14 * base.virial.cwiseAbs().maxCoeff());
}
