// Contracted ("optimal") radial bases (radial_basis.hpp, radial_contraction.hpp): identity
// contractions reproduce the primitive basis, an orthogonal U turns the density into Uᵀc, the PCA fit
// orders variance and decorrelates the channels, settings round-trip with their matrices, bad
// matrices are refused by key, and forces/virial of contracted features match finite differences.
#include <Eigen/QR>
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <vector>

#include "chorus/error.hpp"
#include "chorus/models/features/density.hpp"
#include "chorus/models/features/radial_basis.hpp"
#include "chorus/models/training/radial_contraction.hpp"
#include "feature_test_support.hpp"

namespace {

using namespace chorus::models::features;
using namespace chorus::test;
using chorus::models::training::contraction_from_covariances;
using chorus::models::training::fit_radial_contraction;
using chorus::models::training::radial_covariances;
using chorus::models::training::RadialContractionFit;

// A random n × k matrix with orthonormal columns, row-major.
std::vector<double> random_orthonormal(int n, int k, std::mt19937_64& engine) {
    std::normal_distribution<double> normal;
    Eigen::MatrixXd a(n, n);
    for (Eigen::Index i = 0; i < a.size(); ++i) {
        a.data()[i] = normal(engine);
    }
    const Eigen::MatrixXd q = Eigen::HouseholderQR<Eigen::MatrixXd>(a).householderQ();
    std::vector<double> out;
    for (int row = 0; row < n; ++row) {
        for (int col = 0; col < k; ++col) {
            out.push_back(q(row, col));
        }
    }
    return out;
}

std::vector<double> identity_columns(int n, int k) {
    std::vector<double> out(static_cast<std::size_t>(n * k), 0.0);
    for (int q = 0; q < k; ++q) {
        out[static_cast<std::size_t>(q * k + q)] = 1.0;
    }
    return out;
}

// all_orders() on a smeared Laplacian basis contracted from `primitive` functions with `matrices`.
FeatureSettings contracted(FeatureSettings s, int primitive, std::vector<std::vector<double>> matrices) {
    s.radial_basis = RadialBasisType::smeared_laplacian_eigenstate;
    s.smearing = 0.4;
    s.primitive_n_max = primitive;
    s.contraction = std::move(matrices);
    return s;
}

std::vector<std::vector<double>> random_contraction(const FeatureSettings& s, int primitive, unsigned seed) {
    std::mt19937_64 engine(seed);
    std::vector<std::vector<double>> matrices;
    for (int l = 0; l <= s.density_l_max(); ++l) {
        matrices.push_back(random_orthonormal(primitive, s.density_n_max(), engine));
    }
    return matrices;
}

}  // namespace

TEST_CASE("contraction with identity matrices reproduces the primitive basis",
          "[features][radial][contraction]") {
    auto plain = all_orders();
    plain.radial_basis = RadialBasisType::smeared_laplacian_eigenstate;
    plain.smearing = 0.4;
    const int n = plain.density_n_max();
    for (const int primitive : {n, n + 3}) {
        // The eigenstates do not depend on how many of them there are, so the first n of a larger
        // primitive set are the plain basis too.
        std::vector<std::vector<double>> identity(static_cast<std::size_t>(plain.density_l_max() + 1),
                                                  identity_columns(primitive, n));
        const FeatureCalculator a(plain);
        const FeatureCalculator b(contracted(all_orders(), primitive, identity));
        for (const System& system : {random_cluster(12, 41), random_periodic(7, 42)}) {
            CHECK(columnwise_relative(features_of(b, system), features_of(a, system)) < 1e-12);
        }
    }
}

TEST_CASE("contraction with an orthogonal U gives the density Uᵀc", "[features][radial][contraction]") {
    constexpr int primitive = 7;
    constexpr int n_max = 4;
    constexpr int l_max = 3;
    std::mt19937_64 engine(5);
    std::vector<std::vector<double>> matrices;
    for (int l = 0; l <= l_max; ++l) {
        matrices.push_back(random_orthonormal(primitive, n_max, engine));
    }
    const RadialBasisSettings base{
        .type = RadialBasisType::smeared_laplacian_eigenstate,
        .eigenstates = {.cutoff = 4.0, .max_angular = l_max, .max_radial = primitive},
        .smearing = 0.3,
        .scaling = std::nullopt,
        .primitive_n_max = 0,
        .contraction = {}};
    RadialBasisSettings with_u = base;
    with_u.eigenstates.max_radial = n_max;
    with_u.primitive_n_max = primitive;
    with_u.contraction = matrices;
    const auto primitive_functions = make_radial_functions(base);
    const auto contracted_functions = make_radial_functions(with_u);
    REQUIRE(contracted_functions->n_max(2) == n_max);
    // A very accurate spline, so that the comparison tests the contraction and not the tables.
    const CosineCutoff cutoff(4.0, 0.5);
    const SplinedRadialBasis p(*primitive_functions, cutoff, 1e-13);
    const SplinedRadialBasis q(*contracted_functions, cutoff, 1e-13);
    const DensityExpansion dp(p, 2);
    const DensityExpansion dq(q, 2);
    const std::vector<std::array<double, 3>> neighbours{{0.9, 0.1, -0.2}, {1.0, -1.2, 0.7},
                                                        {-2.0, 0.3, 1.1}, {2.2, 2.0, -1.0},
                                                        {0.5, -3.1, 2.1}, {-1.4, -1.4, -1.4}};
    const std::vector<int> species{0, 1, 0, 1, 1, 0};
    auto workspace = dp.workspace();
    std::vector<double> c(dp.size()), c_prime(dq.size());
    dp.compute(neighbours, species, c, workspace);
    dq.compute(neighbours, species, c_prime, workspace);
    double largest = 0.0, gap = 0.0;
    for (int a = 0; a < 2; ++a) {
        for (int l = 0; l <= l_max; ++l) {
            const auto& u = matrices[static_cast<std::size_t>(l)];
            for (int m = 0; m < 2 * l + 1; ++m) {
                for (int qn = 0; qn < n_max; ++qn) {
                    double expected = 0.0;
                    for (int n = 0; n < primitive; ++n) {
                        expected += u[static_cast<std::size_t>(n * n_max + qn)] *
                                    c[dp.species_size() * a + dp.block_offset(l) + n * (2 * l + 1) + m];
                    }
                    const double got =
                        c_prime[dq.species_size() * a + dq.block_offset(l) + qn * (2 * l + 1) + m];
                    gap = std::max(gap, std::abs(got - expected));
                    largest = std::max(largest, std::abs(expected));
                }
            }
        }
    }
    INFO("largest |c' − Uᵀc| " << gap << " of max |c'| " << largest);
    CHECK(gap < 1e-10 * largest);
}

TEST_CASE("contraction from a known covariance: eigenvectors, order and signs",
          "[features][radial][contraction]") {
    Eigen::MatrixXd c = Eigen::MatrixXd::Zero(3, 3);
    c.diagonal() << 1.0, 3.0, 2.0;
    const RadialContractionFit fit = contraction_from_covariances({c}, 2);
    // columns e_1 then e_2 (largest variance first), signs positive
    CHECK(fit.matrices[0] == std::vector<double>{0.0, 0.0, 1.0, 0.0, 0.0, 1.0});
    CHECK(fit.retained_variance[0] == Approx(5.0 / 6.0));
    CHECK(fit.eigenvalues[0][0] == Approx(3.0));
    CHECK_THROWS_AS(contraction_from_covariances({c}, 4), chorus::ConfigError);
    CHECK_THROWS_AS(contraction_from_covariances({Eigen::MatrixXd::Zero(3, 3)}, 2), chorus::InputError);
}

TEST_CASE("PCA-fitted contraction: variance descending, channels decorrelated, deterministic",
          "[features][radial][contraction]") {
    FeatureSettings s;
    s.cutoff = test_cutoff;
    s.cutoff_width = 1.0;
    s.species = {8, 1};
    s.radial_basis = RadialBasisType::smeared_laplacian_eigenstate;
    s.smearing = 0.3;
    s.nu2 = OrderTruncation{4, 2};
    s.primitive_n_max = 9;
    s.contraction_fit = true;
    const std::vector<System> systems{random_periodic(7, 51), random_cluster(14, 52), random_periodic(7, 53)};
    std::vector<const System*> pointers;
    for (const System& system : systems) {
        pointers.push_back(&system);
    }
    RadialContractionFit fit;
    const FeatureSettings fitted = fit_radial_contraction(s, pointers, &fit);
    CHECK_FALSE(fitted.contraction_fit);
    REQUIRE(fitted.contraction.size() == 3);
    CHECK(fit_radial_contraction(s, pointers).contraction == fitted.contraction);  // bit for bit
    for (std::size_t l = 0; l < 3; ++l) {
        CHECK(fit.retained_variance[l] > 0.5);
        CHECK(fit.retained_variance[l] <= 1.0);
        for (Eigen::Index k = 1; k < fit.eigenvalues[l].size(); ++k) {
            CHECK(fit.eigenvalues[l][k] <= fit.eigenvalues[l][k - 1]);
        }
        // sign convention: the largest-magnitude component of each column is positive
        for (int q = 0; q < 4; ++q) {
            double best = 0.0;
            for (int n = 0; n < 9; ++n) {
                const double x = fitted.contraction[l][static_cast<std::size_t>(n * 4 + q)];
                best = std::abs(x) > std::abs(best) ? x : best;
            }
            CHECK(best > 0.0);
        }
    }
    // The covariance measured in the contracted basis is diag(top eigenvalues): an independent check
    // through the feature calculator with the fitted basis (spline error ~1e-8).
    FeatureSettings in_contracted = fitted;
    in_contracted.nu2_species_pairs = {{8, 8}, {1, 1}};
    const FeatureCalculator calculator(in_contracted);
    Eigen::VectorXd sums = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(calculator.size()));
    for (const System& system : systems) {
        sums += features_of(calculator, system).colwise().sum().transpose();
    }
    Eigen::Index column = 0;
    std::vector<Eigen::MatrixXd> covariance(3, Eigen::MatrixXd::Zero(4, 4));
    for (int a = 0; a < 2; ++a) {
        for (int l = 0; l < 3; ++l) {
            for (int n1 = 0; n1 < 4; ++n1) {
                for (int n2 = n1; n2 < 4; ++n2, ++column) {
                    covariance[static_cast<std::size_t>(l)](n1, n2) += sums[column];
                    covariance[static_cast<std::size_t>(l)](n2, n1) += n1 == n2 ? 0.0 : sums[column];
                }
            }
        }
    }
    for (std::size_t l = 0; l < 3; ++l) {
        const Eigen::MatrixXd expected = fit.eigenvalues[l].head(4).asDiagonal();
        INFO("l = " << l << "\n" << covariance[l]);
        CHECK((covariance[l] - expected).cwiseAbs().maxCoeff() < 1e-6 * fit.eigenvalues[l][0]);
    }
}

TEST_CASE("contraction settings: JSON round trip with matrices, the pca request, bad matrices by key",
          "[features][settings][contraction]") {
    const auto base = only_nu2();  // n_max 4, l_max 4
    const auto settings = contracted(base, 6, random_contraction(base, 6, 61));
    const nlohmann::json json = to_json(settings);
    CHECK(json.at("radial_basis").at("primitive_n_max") == 6);
    const auto back = feature_settings_from_json(nlohmann::json::parse(json.dump()));
    CHECK(back.contraction == settings.contraction);  // bit for bit through text
    CHECK(back.primitive_n_max == 6);
    CHECK(to_json(back) == json);
    CHECK_FALSE(to_json(base).at("radial_basis").contains("contraction"));

    nlohmann::json request = json;
    request["radial_basis"]["contraction"] = "pca";
    const auto pending = feature_settings_from_json(request);
    CHECK(pending.contraction_fit);
    CHECK(to_json(pending).at("radial_basis").at("contraction") == "pca");
    nlohmann::json object_form = json;
    object_form["radial_basis"].erase("primitive_n_max");
    object_form["radial_basis"]["contraction"] = {{"fit", "pca"}, {"primitive_n_max", 18}};
    CHECK(feature_settings_from_json(object_form).primitive_n_max == 18);
    // a pending fit cannot be evaluated
    CHECK_THROWS_WITH(FeatureCalculator(pending), Catch::Contains("chorus train"));

    const auto rejects = [&](nlohmann::json bad, const std::string& named) {
        CHECK_THROWS_AS(feature_settings_from_json(bad), chorus::ConfigError);
        CHECK_THROWS_WITH(feature_settings_from_json(bad), Catch::Contains(named));
    };
    nlohmann::json short_row = json;
    short_row["radial_basis"]["contraction"][1].erase(0);
    rejects(short_row, "radial_basis.contraction[1]");
    nlohmann::json too_few = json;
    too_few["radial_basis"]["contraction"].erase(4);
    rejects(too_few, "radial_basis.contraction");
    nlohmann::json text_entry = json;
    text_entry["radial_basis"]["contraction"][2][3] = "x";
    rejects(text_entry, "radial_basis.contraction[2]");
    nlohmann::json null_entry = json;
    null_entry["radial_basis"]["contraction"][0][0] = nullptr;  // what a NaN becomes in JSON
    rejects(null_entry, "radial_basis.contraction[0]");
    nlohmann::json small_primitive = json;
    small_primitive["radial_basis"]["primitive_n_max"] = 3;
    rejects(small_primitive, "radial_basis.primitive_n_max");
    nlohmann::json no_primitive = request;
    no_primitive["radial_basis"].erase("primitive_n_max");
    rejects(no_primitive, "radial_basis.primitive_n_max");
    nlohmann::json unknown_fit = json;
    unknown_fit["radial_basis"]["contraction"] = "svd";
    rejects(unknown_fit, "radial_basis.contraction");

    auto nan = settings;
    nan.contraction[3][5] = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH(nan.validate(), Catch::Contains("radial_basis.contraction[3]"));
    // the basis itself refuses them too (settings built without validate())
    RadialBasisSettings raw = radial_basis_settings(settings);
    raw.contraction[3][5] = std::numeric_limits<double>::infinity();
    CHECK_THROWS_WITH(make_radial_functions(raw), Catch::Contains("radial_basis.contraction[3]"));
    raw = radial_basis_settings(settings);
    raw.contraction[2].pop_back();
    CHECK_THROWS_WITH(make_radial_functions(raw), Catch::Contains("radial_basis.contraction[2]"));
}

TEST_CASE("contracted and scaled features: forces and virial match finite differences",
          "[features][gradients][contraction]") {
    const auto base = all_orders();
    auto settings = contracted(base, 6, random_contraction(base, 6, 71));
    settings.radial_scaling = RadialScaling{.r0 = 2.0, .exponent = 4.0};
    const FeatureCalculator calculator(settings);
    const Eigen::MatrixXd w = random_weights(calculator, 72);
    const System system = random_periodic(7, 73);
    auto workspace = calculator.workspace();
    Eigen::Matrix3Xd forces;
    Eigen::Matrix3d virial;
    calculator.compute_linear(system, workspace, w, forces, virial);
    const auto energy = [&](const System& s) { return linear_energy(calculator, s, w); };
    CHECK(relative_difference(forces, finite_difference_forces(system, energy)) < 1e-6);
    CHECK(relative_difference(virial, finite_strain_virial(system, energy)) < 1e-6);
}
