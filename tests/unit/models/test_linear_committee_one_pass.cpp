// The one-pass committee path (FeatureCalculator::compute_linear_committee, used by LinearCommittee
// for member forces and virials) against one adjoint pass per member: same energies, forces and
// virials to 1e-12 relative, for every kind of feature (ν ≤ 2 through the weight matrices, ν = 3
// through its dense-weight kernel, [1←1] through one pass per member), odd and even member counts.
#include <algorithm>
#include <random>
#include <vector>

#include <tbb/task_arena.h>
#include <catch2/catch.hpp>

#include "chorus/error.hpp"
#include "linear_committee_support.hpp"

using chorus::engine::CommitteeResult;
using chorus::engine::ComputeRequest;
using chorus::engine::System;
using chorus::models::LinearCommittee;
using chorus::models::features::FeatureCalculator;
using chorus::models::features::FeatureMatrix;
using chorus::models::features::FeatureSettings;
using chorus::models::features::OrderTruncation;

namespace {

// Largest |a − b| relative to the largest |b| (so near-zero entries do not dominate).
double relative_difference(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
    return (a - b).cwiseAbs().maxCoeff() / std::max(b.cwiseAbs().maxCoeff(), 1e-300);
}

std::vector<Eigen::MatrixXd> random_weights(const FeatureCalculator& calculator, std::size_t members,
                                            std::uint64_t seed) {
    std::mt19937_64 engine(seed);
    std::normal_distribution<double> normal(0.0, 0.05);
    std::vector<Eigen::MatrixXd> weights;
    for (std::size_t k = 0; k < members; ++k) {
        Eigen::MatrixXd w(static_cast<Eigen::Index>(calculator.species()),
                          static_cast<Eigen::Index>(calculator.size()));
        w = w.unaryExpr([&](double) { return normal(engine); });
        weights.push_back(w);
    }
    return weights;
}

FeatureSettings with_orders(bool nu3, bool message_passing, OrderTruncation nu3_truncation = {2, 2}) {
    FeatureSettings s = chorus::test::small_water_features();
    if (nu3) {
        s.nu3 = nu3_truncation;
    }
    if (message_passing) {
        s.message_passing = OrderTruncation{2, 1};
    }
    return s;
}

// The shipped kind of basis: the component-major kernels read P_n and A_l and apply A_l themselves,
// while compute() and backward() take the generic per-pair path through the products.
FeatureSettings separable_basis(FeatureSettings s) {
    s.radial_basis = chorus::models::features::RadialBasisType::separable_smeared_gto;
    s.smearing = 0.3;
    s.radial_scaling = chorus::models::features::RadialScaling{1.5, 4.0, 1.0};
    return s;
}

void check_against_member_passes(const FeatureSettings& settings, std::size_t members) {
    std::mt19937_64 engine(5);
    const System system = chorus::test::random_water(2, engine);
    const FeatureCalculator calculator(settings);
    const auto weights = random_weights(calculator, members, 17);

    auto workspace = calculator.workspace();
    Eigen::VectorXd energies;
    std::vector<Eigen::Matrix3Xd> forces;
    std::vector<Eigen::Matrix3d> virials;
    FeatureMatrix features;
    calculator.compute_linear_committee(system, workspace, weights, energies, forces, virials, &features);
    REQUIRE(energies.size() == static_cast<Eigen::Index>(members));
    REQUIRE(forces.size() == members);
    REQUIRE(virials.size() == members);

    // The reference: features by compute(), then one backward() per member.
    auto reference_workspace = calculator.workspace();
    FeatureMatrix reference_features;
    calculator.compute(system, reference_workspace, reference_features);
    CHECK(relative_difference(features, reference_features) < 1e-12);
    for (std::size_t k = 0; k < members; ++k) {
        CAPTURE(k);
        FeatureMatrix gradient(reference_features.rows(), reference_features.cols());
        double energy = 0.0;
        for (Eigen::Index i = 0; i < gradient.rows(); ++i) {
            const int channel = settings.channel(system.atomic_numbers()[static_cast<std::size_t>(i)]);
            gradient.row(i) = weights[k].row(channel);
            energy += gradient.row(i).dot(reference_features.row(i));
        }
        Eigen::Matrix3Xd member_forces;
        Eigen::Matrix3d member_virial;
        calculator.backward(system, reference_workspace, gradient, member_forces, member_virial);
        CHECK(energies[static_cast<Eigen::Index>(k)] == Approx(energy).epsilon(1e-12));
        CHECK(relative_difference(forces[k], member_forces) < 1e-12);
        CHECK(relative_difference(virials[k], member_virial) < 1e-12);
        // The fused single-model path agrees too.
        Eigen::Matrix3Xd fused_forces;
        Eigen::Matrix3d fused_virial;
        const double fused_energy =
            calculator.compute_linear(system, workspace, weights[k], fused_forces, fused_virial);
        CHECK(fused_energy == Approx(energy).epsilon(1e-12));
        CHECK(relative_difference(forces[k], fused_forces) < 1e-12);
        CHECK(relative_difference(virials[k], fused_virial) < 1e-12);
    }
}

}  // namespace

TEST_CASE("one-pass committee adjoint equals one adjoint pass per member", "[linear][one-pass]") {
    SECTION("ν ≤ 2, weight-matrix adjoint, even M") {
        check_against_member_passes(with_orders(false, false), 4);
    }
    SECTION("ν ≤ 2, odd M (the last member has no partner)") {
        check_against_member_passes(with_orders(false, false), 3);
    }
    SECTION("M = 1") { check_against_member_passes(with_orders(false, false), 1); }
    SECTION("ν ≤ 2, separable basis, even and odd M") {
        check_against_member_passes(separable_basis(with_orders(false, false)), 4);
        check_against_member_passes(separable_basis(with_orders(false, false)), 3);
    }
    SECTION("with ν = 3: weight matrices, then the bispectrum kernels per member") {
        check_against_member_passes(with_orders(true, false), 5);
    }
    // The ν = 3 kernel packs the K = 2·n_max channels into whole lanes of four and takes them in
    // chunks of up to four lanes: K = 6 (padding), K = 10 (three lanes) and K = 18 (a chunk of
    // four lanes, then one of one), l_max 3 for triples with l1 = 1 < l2 < l3.
    SECTION("with ν = 3, channels that do not fill whole lanes or one chunk") {
        check_against_member_passes(with_orders(true, false, {3, 3}), 3);
        check_against_member_passes(with_orders(true, false, {5, 2}), 2);
        check_against_member_passes(with_orders(true, false, {9, 2}), 1);
    }
    SECTION("with [1←1], one pass per member") { check_against_member_passes(with_orders(false, true), 2); }
}

TEST_CASE("one-pass committee path rejects weights of the wrong shape", "[linear][one-pass]") {
    std::mt19937_64 engine(5);
    const System system = chorus::test::random_water(1, engine);
    const FeatureCalculator calculator(chorus::test::small_water_features());
    auto workspace = calculator.workspace();
    Eigen::VectorXd energies;
    std::vector<Eigen::Matrix3Xd> forces;
    std::vector<Eigen::Matrix3d> virials;
    std::vector<Eigen::MatrixXd> weights = random_weights(calculator, 2, 1);
    weights[1].resize(2, 3);
    CHECK_THROWS_AS(
        calculator.compute_linear_committee(system, workspace, weights, energies, forces, virials),
        chorus::InputError);
    CHECK_THROWS_AS(calculator.compute_linear_committee(system, workspace, {}, energies, forces, virials),
                    chorus::InputError);
}

TEST_CASE("linear committee member forces equal each member's own fused model", "[linear][one-pass]") {
    std::mt19937_64 engine(21);
    const System system = chorus::test::random_water(2, engine);
    const auto parameters = chorus::test::random_committee(5, 9);
    const LinearCommittee model(parameters);
    CommitteeResult everything;
    model.evaluate(system, {.forces = true, .virial = true, .member_forces = true, .member_virials = true},
                   everything);
    CommitteeResult mean_only;
    model.evaluate(system, {.forces = true, .virial = true}, mean_only);
    // Member energies do not depend on what else was requested (both come from the channel sums;
    // the threads' partial sums may be added in another order, hence not bitwise).
    CHECK(relative_difference(everything.member_energies, mean_only.member_energies) < 1e-12);
    CHECK(relative_difference(everything.forces, mean_only.forces) < 1e-12);
    CHECK(relative_difference(everything.virial, mean_only.virial) < 1e-12);

    for (std::size_t k = 0; k < 5; ++k) {
        CAPTURE(k);
        auto single = parameters;
        single.weights = {parameters.weights[k]};
        single.baselines = parameters.baselines.col(static_cast<Eigen::Index>(k));
        const LinearCommittee member(single);
        CommitteeResult alone;
        member.evaluate(system, {.forces = true, .virial = true}, alone);
        CHECK(relative_difference(everything.member_forces[k], alone.forces) < 1e-12);
        CHECK(relative_difference(everything.member_virials[k], alone.virial) < 1e-12);
        CHECK(everything.member_energies[static_cast<Eigen::Index>(k)] ==
              Approx(alone.energy).epsilon(1e-12));
    }

    // Only the virials asked for: the forces still come out as the mean.
    CommitteeResult virials_only;
    model.evaluate(system, {.forces = true, .virial = true, .member_virials = true}, virials_only);
    CHECK(virials_only.member_forces.empty());
    CHECK(relative_difference(virials_only.forces, mean_only.forces) < 1e-12);
}

TEST_CASE("one-pass committee path agrees between one and two threads", "[linear][one-pass]") {
    std::mt19937_64 engine(3);
    const System system = chorus::test::random_water(3, engine);
    const LinearCommittee model(chorus::test::random_committee(4, 2));
    const ComputeRequest request{
        .forces = true, .virial = true, .member_forces = true, .member_virials = true};
    CommitteeResult one, two;
    tbb::task_arena(1).execute([&] { model.evaluate(system, request, one); });
    tbb::task_arena(2).execute([&] { model.evaluate(system, request, two); });
    for (std::size_t k = 0; k < 4; ++k) {
        CAPTURE(k);
        CHECK(relative_difference(two.member_forces[k], one.member_forces[k]) < 1e-12);
        CHECK(relative_difference(two.member_virials[k], one.member_virials[k]) < 1e-12);
    }
    CHECK(relative_difference(two.member_energies, one.member_energies) < 1e-12);
}

TEST_CASE("channel sums equal the per-species sums of the features", "[linear][one-pass]") {
    std::mt19937_64 engine(8);
    const System system = chorus::test::random_water(2, engine);
    for (const bool nu3 : {false, true}) {
        CAPTURE(nu3);
        const FeatureSettings settings = with_orders(nu3, false);
        const FeatureCalculator calculator(settings);
        const auto weights = random_weights(calculator, 3, 4);
        auto workspace = calculator.workspace();
        FeatureMatrix features;
        calculator.compute(system, workspace, features);
        Eigen::MatrixXd expected = Eigen::MatrixXd::Zero(2, features.cols());
        for (Eigen::Index i = 0; i < features.rows(); ++i) {
            expected.row(settings.channel(system.atomic_numbers()[static_cast<std::size_t>(i)])) +=
                features.row(i);
        }
        Eigen::Matrix3Xd forces;
        Eigen::Matrix3d virial;
        Eigen::MatrixXd sums;
        calculator.compute_linear(system, workspace, weights[0], forces, virial, nullptr, &sums);
        CHECK(relative_difference(sums, expected) < 1e-12);
        Eigen::VectorXd energies;
        std::vector<Eigen::Matrix3Xd> member_forces;
        std::vector<Eigen::Matrix3d> member_virials;
        Eigen::MatrixXd committee_sums;
        calculator.compute_linear_committee(system, workspace, weights, energies, member_forces,
                                            member_virials, nullptr, &committee_sums);
        CHECK(relative_difference(committee_sums, expected) < 1e-12);
        // Energies from the sums agree with the committee's own.
        for (std::size_t k = 0; k < 3; ++k) {
            const double from_sums = (committee_sums.array() * weights[k].array()).sum();
            CHECK(energies[static_cast<Eigen::Index>(k)] == Approx(from_sums).epsilon(1e-12));
        }
    }
}
