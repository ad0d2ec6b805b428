// Radial scaling u(r) = c/(c + (r/r0)^m) folded into the radial basis (radial_basis.hpp): u and its
// derivative, a single neighbour's density equal to the unscaled one times u(r), the settings
// round trip, bad values named by key, and forces/virial of scaled features by finite differences.
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <vector>

#include "chorus/error.hpp"
#include "chorus/models/features/density.hpp"
#include "chorus/models/features/radial_basis.hpp"
#include "feature_test_support.hpp"

namespace {

using namespace chorus::models::features;
using namespace chorus::test;

RadialBasisSettings gto_basis(std::optional<RadialScaling> scaling) {
    return {.type = RadialBasisType::smeared_gto,
            .eigenstates = {.cutoff = 4.0, .max_angular = 4, .max_radial = 6},
            .smearing = 0.3,
            .scaling = scaling,
            .primitive_n_max = 0,
            .contraction = {}};
}

}  // namespace

TEST_CASE("radial scaling: u(r) = c/(c + (r/r0)^m) and its derivative", "[features][radial][scaling]") {
    const RadialScaling u{.r0 = 2.5, .exponent = 4.0, .prefactor = 1.0};
    CHECK(u.value(2.5) == Approx(0.5).epsilon(1e-15));
    CHECK(u.value(0.0) == 1.0);
    CHECK(u.value(5.0) == Approx(1.0 / 17.0).epsilon(1e-15));
    const RadialScaling c{.r0 = 2.0, .exponent = 3.0, .prefactor = 0.5};
    CHECK(c.value(2.0) == Approx(0.5 / 1.5).epsilon(1e-15));
    for (const RadialScaling& s : {u, c}) {
        for (const double r : {-1.3, 0.4, 1.1, 2.5, 3.7}) {
            constexpr double h = 1e-6;
            const double numeric = (s.value(r + h) - s.value(r - h)) / (2 * h);
            CHECK(s.derivative(r) == Approx(numeric).epsilon(1e-8).margin(1e-10));
            CHECK(s.value(-r) == s.value(r));  // even, so the basis keeps its parity
        }
    }
}

TEST_CASE("radial scaling: one neighbour's density is the unscaled one times u(r)",
          "[features][radial][scaling]") {
    const RadialScaling scaling{.r0 = 2.0, .exponent = 4.0, .prefactor = 1.0};
    const auto plain_functions = make_radial_functions(gto_basis(std::nullopt));
    const auto scaled_functions = make_radial_functions(gto_basis(scaling));
    const CosineCutoff cutoff(4.0, 0.5);
    const SplinedRadialBasis plain(*plain_functions, cutoff);
    const SplinedRadialBasis scaled(*scaled_functions, cutoff);
    const DensityExpansion plain_density(plain, 1);
    const DensityExpansion scaled_density(scaled, 1);
    auto workspace = plain_density.workspace();
    std::vector<double> c(plain_density.size()), c_scaled(scaled_density.size());
    const std::vector<int> species{0};
    double largest_ratio_gap = 0.0;
    for (const std::array<double, 3> r :
         {std::array{0.9, 0.1, -0.2}, std::array{1.0, -1.2, 0.7}, std::array{-2.0, 0.3, 1.1},
          std::array{2.2, 2.0, -1.0}, std::array{0.5, -3.1, 2.1}}) {
        const double distance = std::sqrt(r[0] * r[0] + r[1] * r[1] + r[2] * r[2]);
        const std::vector<std::array<double, 3>> neighbour{r};
        plain_density.compute(neighbour, species, c, workspace);
        scaled_density.compute(neighbour, species, c_scaled, workspace);
        const double u = scaling.value(distance);
        double largest = 0.0;
        for (const double x : c) {
            largest = std::max(largest, std::abs(x));
        }
        for (std::size_t k = 0; k < c.size(); ++k) {
            largest_ratio_gap = std::max(largest_ratio_gap, std::abs(c_scaled[k] - u * c[k]) / largest);
        }
        // the scaling really acts (u ≠ 1 at these distances)
        CHECK(std::abs(u - 1.0) > 1e-2);
    }
    INFO("largest |c' − u c| / max|c|: " << largest_ratio_gap);
    CHECK(largest_ratio_gap < 1e-8);
}

TEST_CASE("radial scaling: splines to 1e-8 for exponents 3, 4, 6", "[features][radial][scaling]") {
    for (const double m : {3.0, 4.0, 6.0}) {
        const auto functions = make_radial_functions(gto_basis(RadialScaling{.r0 = 2.5, .exponent = m}));
        const SplinedRadialBasis splined(*functions, CosineCutoff(4.0, 0.5));
        std::vector<double> values(splined.size()), derivatives(splined.size());
        std::vector<double> exact(splined.size()), exact_derivatives(splined.size());
        CosineCutoff f(4.0, 0.5);
        for (const double r : {0.83, 1.71, 2.49, 3.62}) {
            splined.compute(r, values, derivatives);
            functions->evaluate(r, exact, exact_derivatives);
            for (std::size_t k = 0; k < values.size(); ++k) {
                CHECK(values[k] == Approx(exact[k] * f.value(r)).margin(1e-7));
            }
        }
    }
}

TEST_CASE("radial scaling settings: JSON round trip and bad values by key", "[features][settings][scaling]") {
    auto settings = only_nu2();
    settings.radial_basis = RadialBasisType::smeared_gto;
    settings.smearing = 0.3;
    settings.radial_scaling = RadialScaling{.r0 = 2.5, .exponent = 4.0, .prefactor = 0.7};
    const nlohmann::json json = to_json(settings);
    CHECK(json.at("radial_basis").at("radial_scaling") ==
          nlohmann::json{{"r0", 2.5}, {"exponent", 4.0}, {"prefactor", 0.7}});
    const auto back = feature_settings_from_json(json);
    REQUIRE(back.radial_scaling);
    CHECK(back.radial_scaling->r0 == 2.5);
    CHECK(back.radial_scaling->exponent == 4.0);
    CHECK(back.radial_scaling->prefactor == 0.7);
    CHECK(to_json(back) == json);
    // no scaling: the key is absent, existing files are unchanged
    CHECK_FALSE(to_json(only_nu2()).at("radial_basis").contains("radial_scaling"));

    nlohmann::json short_form = json;
    short_form["radial_basis"]["radial_scaling"] = {{"r0", 2.0}, {"exponent", 3}};
    CHECK(feature_settings_from_json(short_form).radial_scaling->prefactor == 1.0);

    const auto rejects = [&](const char* key, const nlohmann::json& value, const std::string& named) {
        nlohmann::json bad = json;
        bad["radial_basis"]["radial_scaling"][key] = value;
        CHECK_THROWS_AS(feature_settings_from_json(bad), chorus::ConfigError);
        CHECK_THROWS_WITH(feature_settings_from_json(bad), Catch::Contains(named));
    };
    rejects("r0", 0.0, "radial_basis.radial_scaling.r0");
    rejects("r0", -1.0, "radial_basis.radial_scaling.r0");
    rejects("exponent", 0.0, "radial_basis.radial_scaling.exponent");
    rejects("exponent", -2.0, "radial_basis.radial_scaling.exponent");
    rejects("prefactor", 0.0, "radial_basis.radial_scaling.prefactor");
    rejects("r0", "2.5", "radial_basis.radial_scaling.r0");
    rejects("width", 1.0, "radial_basis.radial_scaling.width");
    nlohmann::json missing = json;
    missing["radial_basis"]["radial_scaling"].erase("exponent");
    CHECK_THROWS_WITH(feature_settings_from_json(missing),
                      Catch::Contains("radial_basis.radial_scaling.exponent"));

    // Non-finite values cannot come from JSON; the settings and the basis both refuse them.
    auto infinite = settings;
    infinite.radial_scaling->r0 = std::numeric_limits<double>::infinity();
    CHECK_THROWS_WITH(infinite.validate(), Catch::Contains("radial_basis.radial_scaling.r0"));
    auto nan = settings;
    nan.radial_scaling->exponent = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH(nan.validate(), Catch::Contains("radial_basis.radial_scaling.exponent"));
    CHECK_THROWS_AS(make_radial_functions(gto_basis(RadialScaling{.r0 = std::nan(""), .exponent = 4.0})),
                    chorus::ConfigError);
}
