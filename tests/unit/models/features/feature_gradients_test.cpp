// Forces and virials of the feature adjoint against finite differences of the energy of a random
// linear model, the forward-mode design matrix against the adjoint, and thread-count independence.
#include <tbb/global_control.h>
#include <catch2/catch.hpp>

#include "chorus/error.hpp"
#include "feature_test_support.hpp"

namespace {

using namespace chorus::test;
using chorus::models::features::StructureDesign;

void check_forces_and_virial(const FeatureSettings& settings, const System& system, unsigned seed) {
    const FeatureCalculator calculator(settings);
    const Eigen::MatrixXd w = random_weights(calculator, seed);
    auto workspace = calculator.workspace();
    Eigen::Matrix3Xd forces;
    Eigen::Matrix3d virial;
    const double energy = calculator.compute_linear(system, workspace, w, forces, virial);
    CHECK(energy == Approx(linear_energy(calculator, system, w)).epsilon(1e-12));

    const Eigen::Matrix3Xd expected =
        finite_difference_forces(system, [&](const System& s) { return linear_energy(calculator, s, w); });
    INFO("forces: adjoint vs central differences");
    CHECK(relative_difference(forces, expected) < 1e-6);
    // Newton's third law: the pair forces cancel exactly in the sum.
    CHECK(max_abs(forces.rowwise().sum()) < 1e-10 * max_abs(forces));

    const Eigen::Matrix3d expected_virial =
        finite_strain_virial(system, [&](const System& s) { return linear_energy(calculator, s, w); });
    INFO("virial: pair sum vs finite strain");
    CHECK(relative_difference(virial, expected_virial) < 1e-6);
}

}  // namespace

TEST_CASE("ν = 2 adjoint forces and virial match finite differences", "[features][gradients]") {
    SECTION("cluster") { check_forces_and_virial(only_nu2(), random_cluster(14, 3), 11); }
    SECTION("small periodic cell") { check_forces_and_virial(only_nu2(), random_periodic(7, 5), 12); }
}

TEST_CASE("ν = 3 adjoint forces and virial match finite differences", "[features][gradients]") {
    SECTION("cluster") { check_forces_and_virial(only_nu3(), random_cluster(14, 4), 13); }
    SECTION("small periodic cell") { check_forces_and_virial(only_nu3(), random_periodic(7, 6), 14); }
}

TEST_CASE("[1←1] adjoint forces and virial match finite differences", "[features][gradients]") {
    SECTION("cluster") { check_forces_and_virial(only_message_passing(), random_cluster(14, 7), 15); }
    SECTION("small periodic cell") {
        check_forces_and_virial(only_message_passing(), random_periodic(7, 8), 16);
    }
}

TEST_CASE("all orders together: adjoint forces and virial match finite differences",
          "[features][gradients]") {
    check_forces_and_virial(all_orders(), random_periodic(6, 9), 17);
}

TEST_CASE("radially scaled and contracted bases: adjoint forces and virial match finite differences",
          "[features][gradients][radial]") {
    auto scaled = all_orders();
    scaled.radial_basis = chorus::models::features::RadialBasisType::smeared_gto;
    scaled.smearing = 0.3;
    scaled.radial_scaling = chorus::models::features::RadialScaling{.r0 = 2.0, .exponent = 4.0};
    SECTION("scaling, cluster") { check_forces_and_virial(scaled, random_cluster(14, 18), 19); }
    SECTION("scaling, small periodic cell") { check_forces_and_virial(scaled, random_periodic(7, 20), 21); }
    // Contraction of 6 smeared eigenstates to the 4 the orders use, a fixed non-orthogonal mix.
    auto contracted = all_orders();
    contracted.radial_basis = chorus::models::features::RadialBasisType::smeared_laplacian_eigenstate;
    contracted.smearing = 0.3;
    contracted.primitive_n_max = 6;
    for (int l = 0; l <= contracted.density_l_max(); ++l) {
        std::vector<double> matrix;
        for (int n = 0; n < 6; ++n) {
            for (int q = 0; q < contracted.density_n_max(); ++q) {
                matrix.push_back(std::sin(1.0 + n + 2.3 * q + 0.7 * l));
            }
        }
        contracted.contraction.push_back(matrix);
    }
    SECTION("contraction, small periodic cell") {
        check_forces_and_virial(contracted, random_periodic(7, 22), 23);
    }
}

TEST_CASE("backward() with ∂E/∂X = w agrees with the fused linear path", "[features][gradients]") {
    // Local orders only: the fused path proper (ν = 3 features from the adjoint's couplings).
    FeatureSettings local_orders = all_orders();
    local_orders.message_passing.reset();
    for (const auto& settings : {only_nu2(), local_orders, all_orders()}) {
        const FeatureCalculator calculator(settings);
        const System system = random_periodic(7, 21);
        const Eigen::MatrixXd w = random_weights(calculator, 22);
        auto workspace = calculator.workspace();
        Eigen::Matrix3Xd fused_forces, forces;
        Eigen::Matrix3d fused_virial, virial;
        FeatureMatrix fused_features, features;
        calculator.compute_linear(system, workspace, w, fused_forces, fused_virial, &fused_features);

        calculator.compute(system, workspace, features);
        FeatureMatrix gradient(features.rows(), features.cols());
        for (Eigen::Index i = 0; i < gradient.rows(); ++i) {
            gradient.row(i) = w.row(settings.channel(system.atomic_numbers()[static_cast<std::size_t>(i)]));
        }
        calculator.backward(system, workspace, gradient, forces, virial);
        CHECK(relative_difference(features, fused_features) < 1e-14);
        CHECK(relative_difference(forces, fused_forces) < 1e-12);
        CHECK(relative_difference(virial, fused_virial) < 1e-12);
    }
}

TEST_CASE("the design matrix reproduces the adjoint for random weights", "[features][gradients]") {
    for (const auto& settings : {only_nu2(), all_orders()}) {
        const FeatureCalculator calculator(settings);
        const System system = random_periodic(6, 31);
        auto workspace = calculator.workspace();
        StructureDesign design;
        calculator.design(system, workspace, design);
        const auto f = static_cast<Eigen::Index>(calculator.size());
        REQUIRE(design.forces.rows() == 3 * static_cast<Eigen::Index>(system.size()));
        REQUIRE(design.forces.cols() == 2 * f);

        for (unsigned seed : {41u, 42u}) {
            const Eigen::MatrixXd w = random_weights(calculator, seed);
            Eigen::VectorXd stacked(2 * f);
            stacked << w.row(0).transpose(), w.row(1).transpose();
            Eigen::Matrix3Xd forces;
            Eigen::Matrix3d virial;
            const double energy = calculator.compute_linear(system, workspace, w, forces, virial);
            CHECK(design.energy.dot(stacked) == Approx(energy).epsilon(1e-12));
            const Eigen::VectorXd design_forces = design.forces * stacked;
            CHECK(relative_difference(
                      Eigen::Map<const Eigen::Matrix3Xd>(design_forces.data(), 3, forces.cols()), forces) <
                  1e-10);
            const Eigen::VectorXd design_virial = design.virial * stacked;
            CHECK(relative_difference(
                      Eigen::Map<const Eigen::Matrix<double, 3, 3, Eigen::RowMajor>>(design_virial.data()),
                      virial) < 1e-10);
        }
    }
}

TEST_CASE("features, forces and virials do not depend on the number of threads", "[features][threads]") {
    const FeatureCalculator calculator(all_orders());
    const System system = random_cluster(30, 51);
    const Eigen::MatrixXd w = random_weights(calculator, 52);
    auto run = [&](int threads, FeatureMatrix& x, Eigen::Matrix3Xd& forces, Eigen::Matrix3d& virial) {
        const tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                                        static_cast<std::size_t>(threads));
        auto workspace = calculator.workspace();
        return calculator.compute_linear(system, workspace, w, forces, virial, &x);
    };
    FeatureMatrix x1, x4;
    Eigen::Matrix3Xd f1, f4;
    Eigen::Matrix3d v1, v4;
    const double e1 = run(1, x1, f1, v1);
    const double e4 = run(4, x4, f4, v4);
    CHECK(e4 == Approx(e1).epsilon(1e-12));
    CHECK(relative_difference(x4, x1) < 1e-12);
    CHECK(relative_difference(f4, f1) < 1e-12);
    CHECK(relative_difference(v4, v1) < 1e-12);
}

TEST_CASE("the adjoint rejects inconsistent inputs", "[features]") {
    const FeatureCalculator calculator(only_nu2());
    const System system = random_cluster(6, 61);
    auto workspace = calculator.workspace();
    Eigen::Matrix3Xd forces;
    Eigen::Matrix3d virial;
    FeatureMatrix gradient = FeatureMatrix::Zero(6, static_cast<Eigen::Index>(calculator.size()));
    CHECK_THROWS_AS(calculator.backward(system, workspace, gradient, forces, virial), chorus::InputError);
    FeatureMatrix x;
    calculator.compute(system, workspace, x);
    gradient.resize(5, static_cast<Eigen::Index>(calculator.size()));
    CHECK_THROWS_AS(calculator.backward(system, workspace, gradient, forces, virial), chorus::InputError);
    CHECK_THROWS_AS(calculator.compute_linear(system, workspace, Eigen::MatrixXd::Zero(1, 3), forces, virial),
                    chorus::InputError);
    const System carbon({6, 1}, Eigen::Matrix3Xd::Random(3, 2), Eigen::Matrix3d::Zero(), false);
    CHECK_THROWS_AS(calculator.compute(carbon, workspace, x), chorus::InputError);
}
