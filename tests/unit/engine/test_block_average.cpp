// Block averaging against series whose error of the mean is known: iid samples, and AR(1)
// processes x_t = φ x_{t−1} + ε_t, for which the variance of the mean of N samples is exactly
// (σ_x² / N) [1 + 2 Σ_{k=1}^{N−1} (1 − k/N) φ^k] (integrated autocorrelation time (1+φ)/(2(1−φ))).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>

#include <Eigen/Core>

#include "chorus/engine/block_average.hpp"
#include "chorus/error.hpp"

namespace {

using chorus::engine::block_average;

Eigen::VectorXd ar1_series(Eigen::Index n, double phi, std::uint64_t seed) {
    std::mt19937_64 engine(seed);
    std::normal_distribution<double> noise(0.0, 1.0);
    Eigen::VectorXd x(n);
    x[0] = noise(engine) / std::sqrt(1.0 - phi * phi);  // start in the stationary distribution
    for (Eigen::Index t = 1; t < n; ++t) {
        x[t] = phi * x[t - 1] + noise(engine);
    }
    return x;
}

// Exact standard error of the mean of n samples of a stationary AR(1) with unit noise.
double ar1_standard_error(Eigen::Index n, double phi) {
    const double variance = 1.0 / (1.0 - phi * phi);
    double sum = 1.0;
    double power = 1.0;
    for (Eigen::Index k = 1; k < n; ++k) {
        power *= phi;
        sum += 2.0 * (1.0 - static_cast<double>(k) / static_cast<double>(n)) * power;
    }
    return std::sqrt(variance * sum / static_cast<double>(n));
}

}  // namespace

TEST_CASE("block averaging: level 0 is the naive standard error and the levels halve", "[block_average]") {
    const Eigen::VectorXd x = (Eigen::VectorXd(7) << 1.0, 4.0, 2.0, 8.0, 5.0, 7.0, -3.0).finished();
    const auto result = block_average(x);
    REQUIRE(result.mean == Approx(24.0 / 7.0).epsilon(1e-15));
    REQUIRE(result.levels.size() == 2);  // 7 → 3 blocks of 2 → 1 block: stop before a single block
    const double naive = std::sqrt((x.array() - x.mean()).square().sum() / 6.0 / 7.0);
    CHECK(result.levels[0].standard_error == Approx(naive).epsilon(1e-14));
    CHECK(result.levels[0].block_size == 1);
    // Level 1: blocks (1,4), (2,8), (5,7) → 2.5, 5, 6; the odd sample −3 is left out.
    const Eigen::Vector3d blocks(2.5, 5.0, 6.0);
    const double level1 = std::sqrt((blocks.array() - blocks.mean()).square().sum() / 2.0 / 3.0);
    CHECK(result.levels[1].blocks == 3);
    CHECK(result.levels[1].block_size == 2);
    CHECK(result.levels[1].standard_error == Approx(level1).epsilon(1e-14));
}

TEST_CASE("block averaging: a constant series has no error", "[block_average]") {
    const auto result = block_average(Eigen::VectorXd::Constant(100, 2.5));
    CHECK(result.mean == 2.5);
    CHECK(result.standard_error == 0.0);
    CHECK(result.block_size == 1);
}

TEST_CASE("block averaging: uncorrelated samples keep the naive error", "[block_average]") {
    const Eigen::VectorXd x = ar1_series(1 << 16, 0.0, 11);
    const auto result = block_average(x);
    const double expected = 1.0 / std::sqrt(static_cast<double>(x.size()));
    CHECK(result.block_size <= 4);
    CHECK(result.reliable);
    CHECK(std::abs(result.standard_error - expected) <
          4.0 * expected / std::sqrt(2.0 * (result.blocks - 1.0)));
}

TEST_CASE("block averaging: AR(1) recovers the analytic error of the mean", "[block_average]") {
    const Eigen::Index n = 1 << 18;
    for (const double phi : {0.5, 0.9, 0.98}) {
        const double expected = ar1_standard_error(n, phi);
        double ratio_sum = 0.0;
        constexpr int series = 8;
        for (int seed = 0; seed < series; ++seed) {
            const auto result = block_average(ar1_series(n, phi, 100 + seed));
            INFO("phi " << phi << " seed " << seed << ": block size " << result.block_size << ", error "
                        << result.standard_error << ", expected " << expected);
            // Each estimate within 4 of its own standard deviations (plus 5 % for the residual
            // correlation between neighbouring blocks, which biases blocking low).
            const double spread = expected / std::sqrt(2.0 * (static_cast<double>(result.blocks) - 1.0));
            CHECK(std::abs(result.standard_error - expected) < 4.0 * spread + 0.05 * expected);
            CHECK(result.reliable);
            // The naive error is wrong by sqrt(2 τ_int) = sqrt((1+φ)/(1−φ)): blocking must have moved.
            CHECK(result.standard_error > 0.8 * expected);
            ratio_sum += result.standard_error / expected;
        }
        CHECK(ratio_sum / series == Approx(1.0).margin(0.06));
        const auto first = block_average(ar1_series(n, phi, 100));
        CHECK(first.levels[0].standard_error ==
              Approx(expected * std::sqrt((1.0 - phi) / (1.0 + phi))).epsilon(0.03));
    }
}

TEST_CASE("block averaging: the chosen block grows with the correlation time", "[block_average]") {
    const Eigen::Index n = 1 << 18;
    const auto short_memory = block_average(ar1_series(n, 0.5, 5));
    const auto long_memory = block_average(ar1_series(n, 0.98, 5));
    CHECK(long_memory.block_size >= 8 * short_memory.block_size);
    CHECK(long_memory.block_size >= 64);  // τ_int ≈ 50 samples
}

TEST_CASE("block averaging: bad input is an InputError", "[block_average]") {
    CHECK_THROWS_AS(block_average(Eigen::VectorXd::Ones(1)), chorus::InputError);
    Eigen::VectorXd x = Eigen::VectorXd::Ones(10);
    x[3] = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_AS(block_average(x), chorus::InputError);
}
