// The adjoint of the λ-SOAP blocks (backward_equivariant): forces and virial of a random linear
// functional L = Σ G ∘ B of the λ = 1 and λ = 2 blocks against central differences of L, the
// batched call against single calls, and the checks on what the workspace holds.
#include <catch2/catch.hpp>

#include "chorus/error.hpp"
#include "feature_test_support.hpp"

namespace {

using namespace chorus::test;

FeatureSettings lambda_soap_only() {
    FeatureSettings s;
    s.cutoff = test_cutoff;
    s.cutoff_width = 1.0;
    s.species = {8, 1};
    s.lambda_soap = OrderTruncation{3, 3};
    s.lambda_soap_lambdas = {1, 2};
    return s;
}

FeatureMatrix blocks_of(const FeatureCalculator& calculator, const System& system, int lambda) {
    auto workspace = calculator.workspace();
    FeatureMatrix blocks;
    calculator.compute_equivariant(system, workspace, lambda, blocks);
    return blocks;
}

FeatureMatrix random_gradient(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
    std::mt19937_64 engine(seed);
    std::uniform_real_distribution<double> uniform(-1.0, 1.0);
    FeatureMatrix g(rows, cols);
    for (Eigen::Index i = 0; i < g.size(); ++i) {
        g.data()[i] = uniform(engine);
    }
    return g;
}

double functional(const FeatureCalculator& calculator, const System& system, int lambda,
                  const FeatureMatrix& g) {
    return blocks_of(calculator, system, lambda).cwiseProduct(g).sum();
}

void check_against_finite_differences(const FeatureSettings& settings, const System& system, int lambda,
                                      unsigned seed) {
    const FeatureCalculator calculator(settings);
    auto workspace = calculator.workspace();
    FeatureMatrix blocks;
    calculator.compute_equivariant(system, workspace, lambda, blocks);
    REQUIRE(blocks.rows() == static_cast<Eigen::Index>(system.size()) * (2 * lambda + 1));
    const FeatureMatrix g = random_gradient(blocks.rows(), blocks.cols(), seed);
    Eigen::Matrix3Xd forces;
    Eigen::Matrix3d virial;
    calculator.backward_equivariant(system, workspace, lambda, g, forces, virial);
    REQUIRE(forces.cols() == static_cast<Eigen::Index>(system.size()));
    REQUIRE(max_abs(forces) > 1e-3);

    const Eigen::Matrix3Xd expected = finite_difference_forces(
        system, [&](const System& s) { return functional(calculator, s, lambda, g); });
    INFO("λ = " << lambda << ": forces vs central differences, relative "
                << relative_difference(forces, expected));
    CHECK(relative_difference(forces, expected) < 1e-6);
    // L depends on relative positions only: the pair forces cancel in the sum.
    CHECK(max_abs(forces.rowwise().sum()) < 1e-10 * max_abs(forces));

    const Eigen::Matrix3d expected_virial =
        finite_strain_virial(system, [&](const System& s) { return functional(calculator, s, lambda, g); });
    INFO("virial vs finite strain, relative " << relative_difference(virial, expected_virial));
    CHECK(relative_difference(virial, expected_virial) < 1e-6);

    // A second call on the same workspace (warm scratch) gives the same answer.
    Eigen::Matrix3Xd again;
    Eigen::Matrix3d virial_again;
    calculator.backward_equivariant(system, workspace, lambda, g, again, virial_again);
    CHECK(relative_difference(again, forces) < 1e-13);
    CHECK(relative_difference(virial_again, virial) < 1e-13);
}

}  // namespace

TEST_CASE("λ-SOAP adjoint forces and virial match finite differences", "[features][gradients][lambda-soap]") {
    SECTION("λ = 1, cluster") {
        check_against_finite_differences(lambda_soap_only(), random_cluster(12, 21), 1, 31);
    }
    SECTION("λ = 1, small periodic cell") {
        check_against_finite_differences(lambda_soap_only(), random_periodic(7, 22), 1, 32);
    }
    SECTION("λ = 2, cluster") {
        check_against_finite_differences(lambda_soap_only(), random_cluster(12, 23), 2, 33);
    }
    SECTION("λ = 2, small periodic cell") {
        check_against_finite_differences(lambda_soap_only(), random_periodic(7, 24), 2, 34);
    }
    SECTION("λ = 3 beside every invariant order ([1←1] included), small periodic cell") {
        check_against_finite_differences(all_orders(), random_periodic(6, 25), 3, 35);
    }
}

TEST_CASE("batched λ-SOAP adjoint equals single calls", "[features][gradients][lambda-soap]") {
    const FeatureCalculator calculator(lambda_soap_only());
    const System system = random_periodic(8, 41);
    auto workspace = calculator.workspace();
    FeatureMatrix blocks;
    calculator.compute_equivariant(system, workspace, 2, blocks);
    std::vector<FeatureMatrix> gradients;
    for (unsigned k = 0; k < 4; ++k) {
        gradients.push_back(random_gradient(blocks.rows(), blocks.cols(), 50 + k));
    }
    std::vector<Eigen::Matrix3Xd> forces;
    std::vector<Eigen::Matrix3d> virials;
    calculator.backward_equivariant(system, workspace, 2, gradients, forces, virials);
    REQUIRE(forces.size() == gradients.size());
    for (std::size_t k = 0; k < gradients.size(); ++k) {
        Eigen::Matrix3Xd single;
        Eigen::Matrix3d virial;
        calculator.backward_equivariant(system, workspace, 2, gradients[k], single, virial);
        CHECK(relative_difference(forces[k], single) < 1e-12);
        CHECK(relative_difference(virials[k], virial) < 1e-12);
    }
}

TEST_CASE("λ-SOAP adjoint refuses a workspace without the matching block",
          "[features][gradients][lambda-soap]") {
    using Catch::Matchers::Contains;
    const FeatureCalculator calculator(lambda_soap_only());
    const System system = random_cluster(9, 61);
    auto workspace = calculator.workspace();
    Eigen::Matrix3Xd forces;
    Eigen::Matrix3d virial;
    const FeatureMatrix g1 = FeatureMatrix::Ones(
        9 * 3, static_cast<Eigen::Index>(
                   chorus::models::features::equivariant_feature_names(calculator.settings(), 1).size()));
    CHECK_THROWS_WITH(calculator.backward_equivariant(system, workspace, 1, g1, forces, virial),
                      Contains("call compute_equivariant first"));

    FeatureMatrix blocks;
    calculator.compute_equivariant(system, workspace, 2, blocks);
    CHECK_THROWS_AS(calculator.backward_equivariant(system, workspace, 1, g1, forces, virial),
                    chorus::InputError);
    CHECK_THROWS_WITH(calculator.backward_equivariant(system, workspace, 2, g1, forces, virial),
                      Contains("atoms·(2λ+1) × features"));
    CHECK_THROWS_AS(
        calculator.backward_equivariant(random_cluster(10, 62), workspace, 2,
                                        FeatureMatrix::Ones(blocks.rows(), blocks.cols()), forces, virial),
        chorus::InputError);
    std::vector<Eigen::Matrix3Xd> many;
    std::vector<Eigen::Matrix3d> virials;
    CHECK_THROWS_AS(calculator.backward_equivariant(system, workspace, 2, std::span<const FeatureMatrix>{},
                                                    many, virials),
                    chorus::InputError);

    calculator.compute_equivariant(system, workspace, 1, blocks);
    CHECK_NOTHROW(calculator.backward_equivariant(system, workspace, 1, g1, forces, virial));
    // Any other call on the workspace replaces the block's state.
    FeatureMatrix x;
    const FeatureCalculator invariants(all_orders());
    auto other = invariants.workspace();
    invariants.compute_equivariant(system, other, 1, blocks);
    invariants.compute(system, other, x);
    CHECK_THROWS_AS(invariants.backward_equivariant(
                        system, other, 1, FeatureMatrix::Ones(blocks.rows(), blocks.cols()), forces, virial),
                    chorus::InputError);
}
