// The separable smeared GTO basis R_nl = R̃_n0 A_l (radial_basis.hpp): the factor A_l against the
// standard library's Bessel functions, the product and its derivatives, the spline that tabulates
// P_n and A_l and forms the products afterwards (against the exact basis, and compute() against
// compute_tabulated_components()), radial scaling on top, the settings round trip, and the feature oracles
// (rotation, forces and virial by finite differences).
#include <catch2/catch.hpp>
#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <numbers>
#include <random>
#include <vector>

#include "chorus/error.hpp"
#include "chorus/models/features/radial_basis.hpp"
#include "feature_test_support.hpp"

namespace {

using namespace chorus::models::features;
using namespace chorus::test;

constexpr double sigma = 0.3;
const LaplacianEigenstateSettings small_basis{.cutoff = 5.0, .max_angular = 4, .max_radial = 6};

// i_l(z)/i_0(z) from std::cyl_bessel_i (i_l(z) = √(π/2z) I_{l+½}(z)).
double reference_factor(int l, double r) {
    const double z = r * r / (sigma * sigma);
    return std::cyl_bessel_i(l + 0.5, z) / std::cyl_bessel_i(0.5, z);
}

FeatureSettings separable(FeatureSettings settings) {
    settings.radial_basis = RadialBasisType::separable_smeared_gto;
    settings.smearing = sigma;
    return settings;
}

}  // namespace

TEST_CASE("separable smeared GTOs: A_l, the l = 0 block and the products", "[features][radial]") {
    const SeparableSmearedBasis basis(small_basis, sigma);
    const GaussianSmearedBasis full(std::make_unique<GaussianTypeOrbitalBasis>(small_basis), sigma);
    REQUIRE(basis.separable());
    REQUIRE_FALSE(full.separable());
    std::vector<double> p(6), dp(6), a(4), da(4), v(30), dv(30), w(30), dw(30);
    for (const double r : {0.3, 0.96, 1.8, 3.0, 4.7}) {
        INFO("r = " << r);
        basis.evaluate_separable(r, p, dp, a, da);
        for (int l = 1; l <= 4; ++l) {
            CHECK(a[static_cast<std::size_t>(l - 1)] == Approx(reference_factor(l, r)).epsilon(1e-11));
        }
        basis.evaluate(r, v, dv);
        full.evaluate(r, w, dw);
        for (std::size_t k = 0; k < 6; ++k) {
            // l = 0 is the smeared GTO itself (A_0 = 1)
            CHECK(v[k] == Approx(w[k]).epsilon(1e-13));
            CHECK(dv[k] == Approx(dw[k]).epsilon(1e-13));
            for (std::size_t l = 1; l <= 4; ++l) {
                CHECK(v[l * 6 + k] == Approx(p[k] * a[l - 1]).epsilon(1e-15));
            }
        }
        // the full basis damps high l at short range too, but not by the same factor everywhere:
        // the separable basis is a different basis, not an approximation checked to a tolerance
        if (r < 1.0) {
            CHECK(std::abs(v[4 * 6] - w[4 * 6]) > 1e-6 * std::abs(w[4 * 6]));
        }
    }
    SECTION("derivatives match central differences") {
        std::vector<double> plus(30), minus(30), unused(30);
        constexpr double h = 1e-5;
        for (const double r : {0.2, 0.96, 2.2, 4.9}) {
            basis.evaluate(r, v, dv);
            basis.evaluate(r + h, plus, unused);
            basis.evaluate(r - h, minus, unused);
            for (std::size_t f = 0; f < 30; ++f) {
                INFO("r = " << r << ", f = " << f);
                CHECK(std::abs(dv[f] - (plus[f] - minus[f]) / (2 * h)) < 1e-8);
            }
        }
    }
    SECTION("A_l → 0 as r → 0 for l ≥ 1, → 1 far out; even in r") {
        // A_1 ≈ z/3 for z = r²/σ² → 0, higher l vanish faster
        basis.evaluate_separable(1e-3, p, dp, a, da);
        CHECK(a[0] == Approx(1e-6 / (3 * sigma * sigma)).epsilon(1e-4));
        for (std::size_t l = 1; l < 4; ++l) {
            CHECK(std::abs(a[l]) < 1e-10);
        }
        basis.evaluate_separable(4.9, p, dp, a, da);
        CHECK(a[0] == Approx(1.0).epsilon(1e-2));
        std::vector<double> b(4), db(4);
        basis.evaluate_separable(-0.7, p, dp, b, db);
        basis.evaluate_separable(0.7, p, dp, a, da);
        for (std::size_t l = 0; l < 4; ++l) {
            CHECK(b[l] == a[l]);
            CHECK(db[l] == -da[l]);
        }
    }
}

TEST_CASE("the separable spline forms the products after interpolating P_n and A_l", "[features][radial]") {
    const CosineCutoff cutoff(5.0, 0.5);
    for (const bool scaled : {false, true}) {
        INFO("radial scaling: " << scaled);
        std::unique_ptr<RadialFunctions> basis = std::make_unique<SeparableSmearedBasis>(small_basis, sigma);
        if (scaled) {
            basis = std::make_unique<ScaledRadialFunctions>(std::move(basis), RadialScaling{1.5, 4.0, 1.0});
        }
        REQUIRE(basis->separable());
        const SplinedRadialBasis spline(*basis, cutoff);
        REQUIRE(spline.size() == 30);
        CHECK(spline.tabulated() == 6 + 4);
        for (int l = 0; l <= 4; ++l) {
            CHECK(spline.offset(l) == static_cast<std::size_t>(6 * l));
        }
        // the spline against the exact products g = R f_c, relative to each function's largest value
        std::vector<double> v(30), dv(30), exact(30), exact_d(30), largest(30, 0.0), worst(30, 0.0);
        for (int i = 1; i < 500; ++i) {
            const double r = 0.01 * i;
            basis->evaluate(r, exact, exact_d);
            spline.compute(r, v, dv);
            for (std::size_t f = 0; f < 30; ++f) {
                const double g = exact[f] * cutoff.value(r);
                largest[f] = std::max(largest[f], std::abs(g));
                worst[f] = std::max(worst[f], std::abs(v[f] - g));
            }
        }
        for (std::size_t f = 0; f < 30; ++f) {
            INFO("f = " << f);
            CHECK(worst[f] <= 1e-7 * largest[f]);
        }
        // compute_tabulated_components' P_n and A_l rows give compute()'s products, for lengths that
        // are not multiples of the SIMD width
        std::mt19937_64 engine(5);
        std::uniform_real_distribution<double> distance(0.5, 5.2);
        for (const std::size_t n : {1, 3, 4, 7, 13, 52}) {
            std::vector<double> r(n), rows(10 * n), rows_d(10 * n);  // 6 P_n, then A_1 … A_4
            for (double& x : r) {
                x = distance(engine);
            }
            spline.compute_tabulated_components(r, rows, rows_d);
            for (std::size_t i = 0; i < n; ++i) {
                spline.compute(r[i], v, dv);
                for (std::size_t f = 0; f < 30; ++f) {
                    INFO("n = " << n << ", i = " << i << ", f = " << f);
                    const std::size_t l = f / 6;
                    const double p = rows[(f % 6) * n + i];
                    const double dp = rows_d[(f % 6) * n + i];
                    const double a = l == 0 ? 1.0 : rows[(5 + l) * n + i];
                    const double da = l == 0 ? 0.0 : rows_d[(5 + l) * n + i];
                    // the same operations, contracted into FMAs differently by the SIMD clones
                    CHECK(p * a == Approx(v[f]).margin(1e-14));
                    CHECK(dp * a + p * da == Approx(dv[f]).margin(1e-13));
                }
            }
        }
    }
}

TEST_CASE("separable-smeared-gto settings round-trip and need a smearing", "[features][settings]") {
    FeatureSettings settings = separable(FeatureSettings{});
    settings.species = {1, 8};
    settings.nu2 = OrderTruncation{4, 3};
    const nlohmann::json json = to_json(settings);
    CHECK(json.at("radial_basis").at("type") == "separable-smeared-gto");
    const FeatureSettings back = feature_settings_from_json(json);
    CHECK(back.radial_basis == RadialBasisType::separable_smeared_gto);
    CHECK(back.smearing == sigma);
    nlohmann::json missing = json;
    missing["radial_basis"].erase("smearing");
    CHECK_THROWS_WITH(feature_settings_from_json(missing), Catch::Contains("radial_basis.smearing"));
}

TEST_CASE("separable-basis features: invariance, forces and virial by finite differences",
          "[features][gradients][radial]") {
    // All orders take the generic per-pair path; ν = 1 + ν = 2 alone (the shipped kind of model)
    // takes the component-major kernels, which read the spline's P_n and A_l rows and apply A_l.
    FeatureSettings nu12 = separable(all_orders());
    nu12.nu3.reset();
    nu12.message_passing.reset();
    nu12.lambda_soap.reset();
    nu12.lambda_soap_lambdas.clear();
    for (FeatureSettings settings : {separable(all_orders()), nu12}) {
        settings.radial_scaling = RadialScaling{1.5, 4.0, 1.0};
        INFO("ν = 3 present: " << settings.nu3.has_value());
        const FeatureCalculator calculator(settings);
        std::mt19937_64 engine(3);
        const System cluster = random_cluster(14, 41);
        const FeatureMatrix reference = features_of(calculator, cluster);
        CHECK(columnwise_relative(features_of(calculator, transformed(cluster, random_rotation(engine))),
                                  reference) < 1e-12);

        const Eigen::MatrixXd w = random_weights(calculator, 43);
        const System system = random_periodic(7, 44);
        auto workspace = calculator.workspace();
        Eigen::Matrix3Xd forces;
        Eigen::Matrix3d virial;
        const double energy = calculator.compute_linear(system, workspace, w, forces, virial);
        const auto model = [&](const System& s) { return linear_energy(calculator, s, w); };
        CHECK(energy == Approx(model(system)).epsilon(1e-12));
        CHECK(relative_difference(forces, finite_difference_forces(system, model)) < 1e-6);
        CHECK(relative_difference(virial, finite_strain_virial(system, model)) < 1e-6);
    }
}
