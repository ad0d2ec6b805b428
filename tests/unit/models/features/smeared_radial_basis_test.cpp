// The Gaussian-smeared Laplacian-eigenstate basis (radial_basis.hpp): the scaled modified
// spherical Bessel functions against the standard library, the heat-kernel identity that the
// smeared eigenstates obey exactly, derivatives against finite differences, the σ → 0 limit, the
// settings round trip, and the feature oracles (rotation, permutation, forces and virial by finite
// differences) run on the smeared basis.
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
#include "quadrature.hpp"

namespace {

using namespace chorus::models::features;
using namespace chorus::test;

double reference_scaled_bessel(int l, double z) {
    return std::sqrt(std::numbers::pi / (2.0 * z)) * std::cyl_bessel_i(l + 0.5, z) * std::exp(-z);
}

FeatureSettings smeared(FeatureSettings settings, double sigma,
                        RadialBasisType type = RadialBasisType::smeared_laplacian_eigenstate) {
    settings.radial_basis = type;
    settings.smearing = sigma;
    return settings;
}

}  // namespace

TEST_CASE("scaled modified spherical Bessel functions match the standard library", "[features][radial]") {
    constexpr int orders = 14;
    std::vector<double> s(orders), t(orders), s_plus(orders), s_minus(orders), unused(orders);
    // 29.9 and 30.1 straddle the switch from the power series to the closed form.
    for (const double z : {1e-3, 0.1, 1.0, 5.0, 17.0, 29.9, 30.1, 55.0, 300.0}) {
        scaled_modified_spherical_bessel(z, s, t);
        const double h = 1e-5 * z;
        scaled_modified_spherical_bessel(z + h, s_plus, unused);
        scaled_modified_spherical_bessel(z - h, s_minus, unused);
        for (int l = 0; l < orders; ++l) {
            const auto u = static_cast<std::size_t>(l);
            INFO("l = " << l << ", z = " << z);
            const double expected = reference_scaled_bessel(l, z);
            CHECK(std::abs(s[u] - expected) <= 1e-12 * std::abs(expected) + 1e-300);
            // t = e^{-z} i_l'(z) and d(e^{-z} i_l)/dz = t − s
            const double slope = (s_plus[u] - s_minus[u]) / (2 * h);
            CHECK(std::abs((t[u] - s[u]) - slope) <= 1e-7 * (std::abs(t[u]) + std::abs(s[u])) + 1e-300);
        }
    }
    scaled_modified_spherical_bessel(0.0, s, t);
    CHECK(s[0] == 1.0);
    CHECK(s[1] == 0.0);
    CHECK(t[1] == Approx(1.0 / 3.0).epsilon(1e-15));
    // e^{-z} i_0(z) → 1/(2z) without overflow far beyond e^709
    scaled_modified_spherical_bessel(1e6, s, t);
    CHECK(s[0] == Approx(0.5e-6).epsilon(1e-12));
}

TEST_CASE("smeared eigenstates are damped eigenstates away from r_c (heat kernel)", "[features][radial]") {
    // −∇² (j_l(kr) Y_lm) = k² j_l(kr) Y_lm, so Gaussian smearing multiplies it by exp(−k²σ²/2)
    // wherever the truncation of the integral at r_c is invisible (r ≤ r_c − 9σ: tail e^{−40}).
    const LaplacianEigenstateSettings settings{.cutoff = 5.0, .max_angular = 6, .max_radial = 8};
    const LaplacianEigenstateBasis plain(settings);
    for (const double sigma : {0.1, 0.3, 0.5}) {
        const GaussianSmearedBasis smeared_basis(std::make_unique<LaplacianEigenstateBasis>(settings), sigma);
        std::vector<double> v(56), dv(56), w(56), dw(56);
        for (const double r : {1e-3, 0.05, 0.4, 1.0, 1.7, 2.5, 3.5, 5.0 - 9.0 * sigma}) {
            if (r > 5.0 - 9.0 * sigma) {
                continue;
            }
            plain.evaluate(r, v, dv);
            smeared_basis.evaluate(r, w, dw);
            std::size_t f = 0;
            for (int l = 0; l <= 6; ++l) {
                for (int n = 0; n < 8; ++n, ++f) {
                    const double k = plain.zero(n, l) / settings.cutoff;
                    const double damping = std::exp(-0.5 * k * k * sigma * sigma);
                    INFO("σ = " << sigma << ", r = " << r << ", l = " << l << ", n = " << n);
                    // scale: the largest |R_nl| is O(r_c^{-3/2}) ≈ 0.1
                    CHECK(std::abs(w[f] - damping * v[f]) < 1e-10);
                    CHECK(std::abs(dw[f] - damping * dv[f]) < 1e-9);
                }
            }
        }
    }
}

TEST_CASE("smeared eigenstates: derivative, parity, σ → 0 limit and bad σ", "[features][radial]") {
    const LaplacianEigenstateSettings settings{.cutoff = 4.0, .max_angular = 4, .max_radial = 5};
    const LaplacianEigenstateBasis plain(settings);
    const GaussianSmearedBasis wide(std::make_unique<LaplacianEigenstateBasis>(settings), 0.4);
    std::vector<double> v(25), dv(25), plus(25), minus(25), unused(25), w(25), dw(25);
    SECTION("derivatives match central differences everywhere, including next to r_c") {
        for (const double r : {0.2, 1.3, 3.1, 3.7, 3.95}) {
            wide.evaluate(r, v, dv);
            constexpr double h = 1e-5;
            wide.evaluate(r + h, plus, unused);
            wide.evaluate(r - h, minus, unused);
            for (std::size_t f = 0; f < 25; ++f) {
                CHECK(std::abs(dv[f] - (plus[f] - minus[f]) / (2 * h)) < 1e-8);
            }
        }
    }
    SECTION("negative r continues with parity (−1)^l") {
        wide.evaluate(0.3, v, dv);
        wide.evaluate(-0.3, w, dw);
        std::size_t f = 0;
        for (int l = 0; l <= 4; ++l) {
            for (int n = 0; n < 5; ++n, ++f) {
                const double sign = l % 2 == 0 ? 1.0 : -1.0;
                CHECK(w[f] == Approx(sign * v[f]).margin(1e-15));
                CHECK(dw[f] == Approx(-sign * dv[f]).margin(1e-15));
            }
        }
    }
    SECTION("σ → 0 gives back the unsmeared basis, with an O(σ²) error") {
        double previous = 0.0;
        for (const double sigma : {0.02, 0.01, 0.005}) {
            const GaussianSmearedBasis narrow(std::make_unique<LaplacianEigenstateBasis>(settings), sigma);
            double worst = 0.0;
            for (const double r : {0.1, 0.9, 2.2, 3.4, 3.9}) {
                plain.evaluate(r, v, dv);
                narrow.evaluate(r, w, dw);
                for (std::size_t f = 0; f < 25; ++f) {
                    worst = std::max(worst, std::abs(w[f] - v[f]));
                }
            }
            if (previous > 0.0) {
                CHECK(previous / worst == Approx(4.0).epsilon(0.05));
            }
            previous = worst;
        }
        // (1 − e^{−k²σ²/2}) |R| ≤ k_max² σ²/2 · max|R| ≈ 6e-4 at σ = 0.005
        CHECK(previous < 1e-3);
    }
    SECTION("a bad σ is a ConfigError naming it") {
        CHECK_THROWS_AS(GaussianSmearedBasis(std::make_unique<LaplacianEigenstateBasis>(settings), 0.0),
                        chorus::ConfigError);
        CHECK_THROWS_AS(GaussianSmearedBasis(std::make_unique<LaplacianEigenstateBasis>(settings), 2.5),
                        chorus::ConfigError);
        CHECK_THROWS_WITH(GaussianSmearedBasis(std::make_unique<LaplacianEigenstateBasis>(settings), -1.0),
                          Catch::Contains("-1"));
    }
}

TEST_CASE("the smeared basis splines to the requested accuracy", "[features][radial]") {
    const LaplacianEigenstateSettings settings{.cutoff = 5.0, .max_angular = 6, .max_radial = 8};
    const GaussianSmearedBasis basis(std::make_unique<LaplacianEigenstateBasis>(settings), 0.3);
    const CosineCutoff cutoff(5.0, 0.5);
    const SplinedRadialBasis spline(basis, cutoff, 1e-8);
    std::vector<double> exact(56), dexact(56), value(56), dvalue(56);
    std::vector<double> largest(56, 0.0), worst(56, 0.0);
    for (int k = 1; k < 2000; ++k) {
        const double r = 5.0 * k / 2000.0 + 1e-4;
        if (r >= 5.0) {
            break;
        }
        basis.evaluate(r, exact, dexact);
        spline.compute(r, value, dvalue);
        for (std::size_t f = 0; f < 56; ++f) {
            const double g = exact[f] * cutoff.value(r);
            largest[f] = std::max(largest[f], std::abs(g));
            worst[f] = std::max(worst[f], std::abs(value[f] - g));
        }
    }
    for (std::size_t f = 0; f < 56; ++f) {
        CHECK(worst[f] <= 1e-8 * largest[f]);
    }
}

TEST_CASE("radial_basis settings: smeared type round-trips, default JSON unchanged", "[features][settings]") {
    auto settings = all_orders();
    const nlohmann::json plain = to_json(settings);
    CHECK(plain.at("radial_basis") ==
          nlohmann::json{{"type", "laplacian-eigenstate"}, {"spline_accuracy", settings.spline_accuracy}});
    const auto with_smearing = smeared(settings, 0.4);
    const auto back = feature_settings_from_json(to_json(with_smearing));
    CHECK(back.radial_basis == RadialBasisType::smeared_laplacian_eigenstate);
    CHECK(back.smearing == 0.4);
    CHECK(feature_names(back) == feature_names(settings));
    const auto gto =
        feature_settings_from_json(to_json(smeared(settings, 0.3, RadialBasisType::smeared_gto)));
    CHECK(gto.radial_basis == RadialBasisType::smeared_gto);
    CHECK(gto.smearing == 0.3);

    nlohmann::json missing = plain;
    missing["radial_basis"] = {{"type", "smeared-laplacian-eigenstate"}};
    CHECK_THROWS_WITH(feature_settings_from_json(missing), Catch::Contains("radial_basis.smearing"));
    nlohmann::json stray = plain;
    stray["radial_basis"]["smearing"] = 0.4;
    CHECK_THROWS_WITH(feature_settings_from_json(stray), Catch::Contains("radial_basis.smearing"));
    nlohmann::json wide = plain;
    wide["radial_basis"] = {{"type", "smeared-laplacian-eigenstate"}, {"smearing", 3.0}};
    CHECK_THROWS_WITH(feature_settings_from_json(wide), Catch::Contains("3"));
    nlohmann::json unknown = plain;
    unknown["radial_basis"]["type"] = "gto";
    CHECK_THROWS_WITH(feature_settings_from_json(unknown), Catch::Contains("\"gto\""));
}

TEST_CASE("smeared-basis features: rotation and permutation invariance", "[features][symmetry][radial]") {
    const auto type = GENERATE(RadialBasisType::smeared_laplacian_eigenstate, RadialBasisType::smeared_gto);
    const FeatureCalculator calculator(smeared(all_orders(), 0.4, type));
    const FeatureCalculator unsmeared(all_orders());
    std::mt19937_64 engine(11);
    for (const System& system : {random_cluster(14, 21), random_periodic(7, 22)}) {
        const FeatureMatrix reference = features_of(calculator, system);
        // the smearing really changes the features
        CHECK(columnwise_relative(features_of(unsmeared, system), reference) > 1e-3);
        for (int trial = 0; trial < 2; ++trial) {
            const Eigen::Matrix3d rotation = random_rotation(engine);
            CHECK(columnwise_relative(features_of(calculator, transformed(system, rotation)), reference) <
                  1e-12);
        }
        CHECK(columnwise_relative(features_of(calculator, transformed(system, -Eigen::Matrix3d::Identity())),
                                  reference) < 1e-12);
    }
    const System system = random_cluster(12, 23);
    const FeatureMatrix reference = features_of(calculator, system);
    Eigen::Matrix3Xd positions = system.positions();
    positions.col(1).swap(positions.col(2));  // water_species: atoms 1 and 2 are both H
    FeatureMatrix swapped = features_of(calculator, with_positions(system, positions));
    swapped.row(1).swap(swapped.row(2));
    CHECK(columnwise_relative(swapped, reference) < 1e-12);
}

TEST_CASE("smeared-basis forces and virial match finite differences", "[features][gradients][radial]") {
    const auto type = GENERATE(RadialBasisType::smeared_laplacian_eigenstate, RadialBasisType::smeared_gto);
    const FeatureCalculator calculator(smeared(all_orders(), 0.4, type));
    const Eigen::MatrixXd w = random_weights(calculator, 31);
    const System system = random_periodic(7, 32);
    auto workspace = calculator.workspace();
    Eigen::Matrix3Xd forces;
    Eigen::Matrix3d virial;
    const double energy = calculator.compute_linear(system, workspace, w, forces, virial);
    CHECK(energy == Approx(linear_energy(calculator, system, w)).epsilon(1e-12));
    constexpr double h = 1e-5;
    Eigen::Matrix3Xd expected(3, forces.cols());
    for (Eigen::Index j = 0; j < forces.cols(); ++j) {
        for (int d = 0; d < 3; ++d) {
            Eigen::Matrix3Xd plus = system.positions(), minus = system.positions();
            plus(d, j) += h;
            minus(d, j) -= h;
            expected(d, j) = -(linear_energy(calculator, with_positions(system, plus), w) -
                               linear_energy(calculator, with_positions(system, minus), w)) /
                             (2 * h);
        }
    }
    CHECK(relative_difference(forces, expected) < 1e-6);
    Eigen::Matrix3d expected_virial;
    for (int a = 0; a < 3; ++a) {
        for (int b = 0; b < 3; ++b) {
            Eigen::Matrix3d plus = Eigen::Matrix3d::Identity(), minus = Eigen::Matrix3d::Identity();
            plus(a, b) += 1e-6;
            minus(a, b) -= 1e-6;
            expected_virial(a, b) = -(linear_energy(calculator, transformed(system, plus), w) -
                                      linear_energy(calculator, transformed(system, minus), w)) /
                                    2e-6;
        }
    }
    CHECK(relative_difference(virial, expected_virial) < 1e-6);
}

TEST_CASE("GTO radial functions are orthonormal on [0, r_c] and differentiate correctly",
          "[features][radial]") {
    const LaplacianEigenstateSettings settings{.cutoff = 5.0, .max_angular = 6, .max_radial = 8};
    const GaussianTypeOrbitalBasis basis(settings);
    // 50 panels of 20-point Gauss–Legendre (independent of the code under test): exact to rounding.
    std::vector<double> v(56), dv(56);
    Eigen::MatrixXd overlap = Eigen::MatrixXd::Zero(56, 56);
    for (int panel = 0; panel < 50; ++panel) {
        for (const auto& point : gauss_legendre(20, 0.1 * panel, 0.1 * (panel + 1))) {
            basis.evaluate(point.x, v, dv);
            const Eigen::Map<const Eigen::VectorXd> g(v.data(), 56);
            overlap += point.weight * point.x * point.x * g * g.transpose();
        }
    }
    for (int l = 0; l <= 6; ++l) {
        const Eigen::MatrixXd block = overlap.block(8 * l, 8 * l, 8, 8);
        // The primitives' overlap is nearly singular (condition ~1e10), so S^{−1/2} in double is
        // orthonormal to ~1e-6 only; the features need the span, not exact orthonormality.
        CHECK((block - Eigen::MatrixXd::Identity(8, 8)).cwiseAbs().maxCoeff() < 1e-5);
    }
    std::vector<double> plus(56), minus(56), unused(56);
    for (const double r : {0.3, 1.1, 2.7, 4.6}) {
        basis.evaluate(r, v, dv);
        basis.evaluate(r + 1e-5, plus, unused);
        basis.evaluate(r - 1e-5, minus, unused);
        for (std::size_t f = 0; f < 56; ++f) {
            CHECK(std::abs(dv[f] - (plus[f] - minus[f]) / 2e-5) < 1e-6 * (1.0 + std::abs(dv[f])));
        }
    }
}
