#include <cmath>
#include <cstddef>
#include <limits>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

#include "chorus/engine/calibration.hpp"
#include "chorus/error.hpp"

using Catch::Matchers::Contains;
using chorus::engine::calibrate_alpha;
using chorus::engine::clamped_calibration_alpha;
using chorus::engine::uncertainty_statistics;

namespace {

struct Validation {
    std::vector<double> residuals;
    std::vector<double> spreads;  // ddof 1, uncalibrated
};

// A committee whose maximum-likelihood α is known exactly. Per sample, with a scale s drawn
// log-uniformly (errors of very different sizes, as in real data):
//   members  y_k = y_ref + s (a ξ + ξ_k),   ξ, ξ_k ~ N(0, 1) independent,
// i.e. the members are M draws around a common prediction error s a ξ. Then
//   r = y_ref − ȳ = −s (a ξ + ξ̄),   E[r²] = s² (a² + 1/M),
//   σ² = s² χ²_{M−1}/(M−1), independent of r,  E[1/σ²] = (M−1)/((M−3) s²),
// so E[r²/σ²] = (a² + 1/M)(M−1)/(M−3) and the formula −1/M + (M−3)/(M−1)·E[r²/σ²] gives α² = a².
Validation synthetic_committee(std::size_t members, double a, std::size_t samples, unsigned seed) {
    std::mt19937_64 generator(seed);
    std::normal_distribution<double> normal;
    std::uniform_real_distribution<double> log_scale(-3.0, 3.0);
    Validation v;
    v.residuals.reserve(samples);
    v.spreads.reserve(samples);
    std::vector<double> y(members);
    for (std::size_t i = 0; i < samples; ++i) {
        const double s = std::exp(log_scale(generator));
        const double common = a * normal(generator);
        double mean = 0.0;
        for (double& member : y) {
            member = s * (common + normal(generator));
            mean += member;
        }
        mean /= static_cast<double>(members);
        double variance = 0.0;
        for (const double member : y) {
            variance += (member - mean) * (member - mean);
        }
        v.residuals.push_back(0.0 - mean);  // y_ref = 0
        v.spreads.push_back(std::sqrt(variance / static_cast<double>(members - 1)));
    }
    return v;
}

}  // namespace

TEST_CASE("maximum-likelihood α recovers the known truth of a Gaussian committee", "[calibration]") {
    const double truth = 2.5;
    // M = 4 needs many samples: r²/σ² then has infinite variance (χ²_3 in the denominator).
    const auto [members, samples] =
        GENERATE(table<std::size_t, std::size_t>({{4, 2'000'000}, {8, 200'000}, {32, 100'000}}));
    CAPTURE(members, samples);
    const Validation v = synthetic_committee(members, truth, samples, 20261123u + members);
    const auto report = calibrate_alpha(v.residuals, v.spreads, members);
    CHECK_FALSE(report.clamped);
    CHECK(report.members == members);
    CHECK(report.alpha == Approx(truth).epsilon(0.05));
    CHECK(report.alpha * report.alpha == Approx(report.alpha_squared));
    CHECK(report.before.count == samples);
    // The spread alone underestimates the error by about a: calibration must widen it.
    CHECK(report.before.within_one_sigma < 0.4);
}

TEST_CASE("after calibration the coverage matches the Student-t prediction", "[calibration]") {
    // With σ → a σ the standardised error is √(1 + 1/(M a²)) · t_{M−1} for this committee, so the
    // coverage is P(|t_{M−1}| ≤ k/√(1 + 1/(M a²))), computed with scipy.stats.t (a = 2.5):
    //   M = 32: 0.67376 (±σ), 0.94510 (±2σ);   M = 8: 0.64491, 0.91186.
    // For M = 32 that is the Gaussian 68 % / 95 % up to the finite committee.
    const auto [members, one_sigma, two_sigma] =
        GENERATE(table<std::size_t, double, double>({{32, 0.67376, 0.94510}, {8, 0.64491, 0.91186}}));
    CAPTURE(members);
    const Validation v = synthetic_committee(members, 2.5, 200'000, 7u + members);
    const auto report = calibrate_alpha(v.residuals, v.spreads, members);
    CHECK(report.after.within_one_sigma == Approx(one_sigma).margin(0.006));
    CHECK(report.after.within_two_sigma == Approx(two_sigma).margin(0.004));
    CHECK(report.after.rmse == Approx(report.before.rmse));
    CHECK(report.after.rms_sigma == Approx(report.alpha * report.before.rms_sigma));
    // Calibration maximises the likelihood: it must improve on the raw spread.
    CHECK(report.after.mean_negative_log_likelihood < report.before.mean_negative_log_likelihood);
    // The binned curve: s is log-uniform over e^±3, so within a bin of σ (away from the ends of
    // that range) log s is log σ minus the log of the noise factor q = χ²_{M−1}/(M−1), and
    // E[r² | σ] = E[1/q] (1 + 1/(M a²)) σ² with E[1/q] = (M−1)/(M−3). A calibrated committee
    // thus shows rms_error/rms_sigma = 1.19 for M = 8 and 1.04 for M = 32 in the inner bins.
    REQUIRE(report.after.curve.size() == 10);
    const auto m = static_cast<double>(members);
    const double ratio = std::sqrt((m - 1.0) / (m - 3.0) * (1.0 + 1.0 / (m * 2.5 * 2.5)));
    for (std::size_t b = 1; b + 1 < report.after.curve.size(); ++b) {
        const auto& bin = report.after.curve[b];
        CAPTURE(b);
        CHECK(bin.rms_error / bin.rms_sigma == Approx(ratio).epsilon(0.04));
    }
}

TEST_CASE("a spread far larger than the errors clamps α and says so", "[calibration]") {
    // ⟨r²/σ²⟩ = 1e-4: α² = −1/8 + 5/7 · 1e-4 < 0.
    const std::vector<double> residuals{0.01, -0.01, 0.01, -0.01};
    const std::vector<double> spreads{1.0, 1.0, 1.0, 1.0};
    const auto report = calibrate_alpha(residuals, spreads, 8);
    CHECK(report.clamped);
    CHECK(report.alpha == clamped_calibration_alpha);
    CHECK(report.mean_squared_z == Approx(1e-4));
    CHECK(report.alpha_squared == Approx(-1.0 / 8.0 + 5.0 / 7.0 * 1e-4));
    CHECK(report.after.rms_sigma == Approx(clamped_calibration_alpha));
    CHECK(std::isfinite(report.after.mean_negative_log_likelihood));
}

TEST_CASE("statistics against hand-computed values", "[calibration]") {
    const std::vector<double> residuals{0.5, -1.0, 2.0};
    const std::vector<double> sigmas{1.0, 2.0, 0.5};
    const auto stats = uncertainty_statistics(residuals, sigmas);
    CHECK(stats.count == 3);
    CHECK(stats.zero_spread_count == 0);
    CHECK(stats.rmse == Approx(std::sqrt((0.25 + 1.0 + 4.0) / 3.0)));
    CHECK(stats.mean_sigma == Approx(3.5 / 3.0));
    CHECK(stats.rms_sigma == Approx(std::sqrt((1.0 + 4.0 + 0.25) / 3.0)));
    // ⟨½ log(2πσ²) + r²/(2σ²)⟩, evaluated term by term in Python:
    // (1.0439385 + 1.8370857 + 8.1257914) / 3.
    CHECK(stats.mean_negative_log_likelihood == Approx(3.6689385332046727).epsilon(1e-12));
    CHECK(stats.within_one_sigma == Approx(2.0 / 3.0));  // |2| > 0.5
    CHECK(stats.within_two_sigma == Approx(2.0 / 3.0));  // |2| > 2 · 0.5
    // Three samples, at most three bins, sorted by σ: 0.5, 1, 2.
    REQUIRE(stats.curve.size() == 3);
    CHECK(stats.curve[0].rms_sigma == 0.5);
    CHECK(stats.curve[0].rms_error == 2.0);
    CHECK(stats.curve[2].rms_sigma == 2.0);
    CHECK(stats.curve[2].rms_error == 1.0);
}

TEST_CASE("calibration curve bins are equally populated σ quantiles", "[calibration]") {
    const std::vector<double> residuals{1.0, -3.0, 2.0, 4.0, 0.0};
    const std::vector<double> sigmas{4.0, 1.0, 3.0, 2.0, 5.0};
    const auto stats = uncertainty_statistics(residuals, sigmas, 2);
    REQUIRE(stats.curve.size() == 2);
    // Sorted by σ: (1, −3), (2, 4) | (3, 2), (4, 1), (5, 0).
    CHECK(stats.curve[0].count == 2);
    CHECK(stats.curve[0].sigma_min == 1.0);
    CHECK(stats.curve[0].sigma_max == 2.0);
    CHECK(stats.curve[0].rms_sigma == Approx(std::sqrt(2.5)));
    CHECK(stats.curve[0].rms_error == Approx(std::sqrt(12.5)));
    CHECK(stats.curve[1].count == 3);
    CHECK(stats.curve[1].rms_sigma == Approx(std::sqrt(50.0 / 3.0)));
    CHECK(stats.curve[1].rms_error == Approx(std::sqrt(5.0 / 3.0)));
}

TEST_CASE("samples with zero spread are skipped and counted, never NaN", "[calibration]") {
    const std::vector<double> residuals{0.5, 0.3, -1.0, 2.0};
    const std::vector<double> sigmas{1.0, 0.0, 2.0, 0.5};
    const auto stats = uncertainty_statistics(residuals, sigmas);
    CHECK(stats.count == 3);
    CHECK(stats.zero_spread_count == 1);
    CHECK(stats.mean_negative_log_likelihood == Approx(3.6689385332046727).epsilon(1e-12));

    const auto report = calibrate_alpha(residuals, sigmas, 4);
    CHECK(report.before.zero_spread_count == 1);
    CHECK(std::isfinite(report.alpha));
    // ⟨r²/σ²⟩ = (0.25 + 0.25 + 16)/3 over the three usable samples.
    CHECK(report.mean_squared_z == Approx(16.5 / 3.0));

    const std::vector<double> all_zero{0.0, 0.0};
    const std::vector<double> two{0.1, 0.2};
    const auto empty = uncertainty_statistics(two, all_zero);
    CHECK(empty.count == 0);
    CHECK(empty.zero_spread_count == 2);
    CHECK(empty.rmse == 0.0);
    CHECK(empty.curve.empty());
    CHECK_THROWS_WITH(calibrate_alpha(two, all_zero, 8), Contains("none has a nonzero committee spread"));
}

TEST_CASE("bad calibration input is refused with a message naming the value", "[calibration]") {
    const std::vector<double> residuals{0.1, 0.2};
    const std::vector<double> sigmas{1.0, 1.0};
    CHECK_THROWS_AS(calibrate_alpha(residuals, sigmas, 3), chorus::InputError);
    CHECK_THROWS_WITH(calibrate_alpha(residuals, sigmas, 3), Contains("M = 3"));

    const std::vector<double> one{1.0};
    CHECK_THROWS_WITH(uncertainty_statistics(residuals, one), Contains("2 residuals and 1"));

    const std::vector<double> negative{1.0, -0.5};
    CHECK_THROWS_WITH(uncertainty_statistics(residuals, negative), Contains("-0.5"));

    const std::vector<double> not_finite{0.1, std::numeric_limits<double>::quiet_NaN()};
    CHECK_THROWS_AS(uncertainty_statistics(not_finite, sigmas), chorus::InputError);
    CHECK_THROWS_WITH(uncertainty_statistics(not_finite, sigmas), Contains("residual 1"));
}
