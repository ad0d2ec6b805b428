#include "chorus/models/features/radial_basis.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <numbers>
#include <vector>

#include "chorus/error.hpp"
#include "quadrature.hpp"

namespace {

using namespace chorus::models::features;

constexpr double pi = std::numbers::pi;

}  // namespace

TEST_CASE("zeros of spherical Bessel functions match tabulated values") {
    const auto zeros_0 = spherical_bessel_zeros(0, 6);
    for (int k = 0; k < 6; ++k) {
        CHECK(zeros_0[static_cast<std::size_t>(k)] == Approx((k + 1) * pi).epsilon(1e-14));
    }
    // Abramowitz & Stegun table 10.6 / DLMF 10.21.
    const auto zeros_1 = spherical_bessel_zeros(1, 3);
    CHECK(zeros_1[0] == Approx(4.493409457909064).epsilon(1e-14));
    CHECK(zeros_1[1] == Approx(7.725251836937707).epsilon(1e-14));
    CHECK(zeros_1[2] == Approx(10.904121659428899).epsilon(1e-14));
    CHECK(spherical_bessel_zeros(2, 1)[0] == Approx(5.763459196894550).epsilon(1e-14));
    CHECK(spherical_bessel_zeros(3, 1)[0] == Approx(6.987932000500520).epsilon(1e-14));
    // and they are zeros
    for (int l = 0; l <= 10; ++l) {
        for (const double z : spherical_bessel_zeros(l, 10)) {
            CHECK(std::abs(spherical_bessel(l, z)) < 1e-14);
        }
    }
}

TEST_CASE("the cosine cutoff vanishes with zero slope at r_c") {
    const CosineCutoff cutoff(5.0, 0.5);
    CHECK(cutoff.value(5.0) == 0.0);
    CHECK(cutoff.derivative(5.0) == 0.0);
    CHECK(std::abs(cutoff.value(5.0 - 1e-6)) < 1e-10);
    CHECK(std::abs(cutoff.derivative(5.0 - 1e-6)) < 1e-4);
    CHECK(cutoff.value(4.5) == 1.0);
    CHECK(cutoff.value(2.0) == 1.0);
    CHECK(cutoff.value(4.75) == Approx(0.5));
    for (const double r : {4.6, 4.8, 4.95}) {
        const double h = 1e-6;
        CHECK(cutoff.derivative(r) ==
              Approx((cutoff.value(r + h) - cutoff.value(r - h)) / (2 * h)).epsilon(1e-8));
    }
    CHECK_THROWS_AS(CosineCutoff(5.0, 6.0), chorus::ConfigError);
    CHECK_THROWS_AS(CosineCutoff(-1.0, 0.5), chorus::ConfigError);
}

TEST_CASE("the Laplacian eigenstate basis is orthonormal with r² weight") {
    const LaplacianEigenstateBasis basis({.cutoff = 4.0, .max_angular = 8, .max_radial = 10});
    const auto rule = chorus::test::gauss_legendre(200, 0.0, 4.0);
    for (int l = 0; l <= 8; ++l) {
        for (int n = 0; n < basis.n_max(l); ++n) {
            for (int k = 0; k < basis.n_max(l); ++k) {
                double overlap = 0.0;
                for (const auto& [r, w] : rule) {
                    overlap += w * r * r * basis.value(n, l, r) * basis.value(k, l, r);
                }
                CHECK(std::abs(overlap - (n == k ? 1.0 : 0.0)) < 1e-12);
            }
        }
    }
}

TEST_CASE("eigenvalue truncation keeps the smoothest functions, more of them at low l") {
    const double cutoff = 5.0;
    const double max_eigenvalue = 4.0;  // z_nl ≤ 10
    const LaplacianEigenstateBasis basis(
        {.cutoff = cutoff, .max_angular = 6, .max_radial = 20, .max_eigenvalue = max_eigenvalue});
    for (int l = 0; l <= 6; ++l) {
        const auto zeros = spherical_bessel_zeros(l, 20);
        const auto expected = std::count_if(zeros.begin(), zeros.end(), [&](double z) {
            return z * z / (cutoff * cutoff) <= max_eigenvalue;
        });
        CHECK(basis.n_max(l) == expected);
    }
    CHECK(basis.n_max(0) == 3);  // π, 2π, 3π ≤ 10 < 4π
    CHECK(basis.n_max(6) == 0);  // the first zero of j_6 is 10.42
    CHECK_THROWS_AS(
        LaplacianEigenstateBasis({.cutoff = 5.0, .max_angular = 2, .max_radial = 4, .max_eigenvalue = 0.1}),
        chorus::ConfigError);
}

TEST_CASE("exact radial derivatives agree with finite differences") {
    const LaplacianEigenstateBasis basis({.cutoff = 5.0, .max_angular = 6, .max_radial = 8});
    for (int l = 0; l <= 6; ++l) {
        for (int n = 0; n < 8; ++n) {
            for (const double r : {0.3, 1.7, 3.1, 4.9}) {
                const double h = 1e-5;
                const double fd = (basis.value(n, l, r + h) - basis.value(n, l, r - h)) / (2 * h);
                CHECK(basis.derivative(n, l, r) == Approx(fd).epsilon(1e-7).margin(1e-9));
            }
        }
    }
}

TEST_CASE("splined radial functions match the exact ones to 1e-8 of their maximum") {
    const double cutoff_radius = 5.0;
    const LaplacianEigenstateBasis basis({.cutoff = cutoff_radius, .max_angular = 6, .max_radial = 8});
    for (const double width : {0.5, 5.0}) {
        const CosineCutoff cutoff(cutoff_radius, width);
        const SplinedRadialBasis spline(basis, cutoff);
        REQUIRE(spline.size() == 7 * 8);
        const std::size_t count = spline.size();
        std::vector<double> values(count), derivatives(count);

        // a grid 23 times finer than the spline's, offset so that it never lands on its nodes
        const int samples = static_cast<int>(spline.grid_points()) * 23;
        std::vector<double> largest(count, 0.0), value_error(count, 0.0), derivative_error(count, 0.0),
            largest_derivative(count, 0.0);
        for (int s = 0; s < samples; ++s) {
            const double r = (s + 0.371) * cutoff_radius / samples;
            spline.compute(r, values, derivatives);
            for (int l = 0; l <= 6; ++l) {
                for (int n = 0; n < 8; ++n) {
                    const std::size_t f = spline.offset(l) + static_cast<std::size_t>(n);
                    const double g = basis.value(n, l, r) * cutoff.value(r);
                    const double dg = basis.derivative(n, l, r) * cutoff.value(r) +
                                      basis.value(n, l, r) * cutoff.derivative(r);
                    largest[f] = std::max(largest[f], std::abs(g));
                    largest_derivative[f] = std::max(largest_derivative[f], std::abs(dg));
                    value_error[f] = std::max(value_error[f], std::abs(values[f] - g));
                    derivative_error[f] = std::max(derivative_error[f], std::abs(derivatives[f] - dg));
                }
            }
        }
        for (std::size_t f = 0; f < count; ++f) {
            CHECK(value_error[f] < 1e-8 * largest[f]);
            // Hermite derivatives converge one order slower (h³)
            CHECK(derivative_error[f] < 1e-6 * largest_derivative[f]);
        }
    }
}

TEST_CASE("spline derivatives are the derivatives of the spline values") {
    const LaplacianEigenstateBasis basis({.cutoff = 4.5, .max_angular = 4, .max_radial = 6});
    const SplinedRadialBasis spline(basis, CosineCutoff(4.5, 1.0));
    const std::size_t count = spline.size();
    std::vector<double> values(count), derivatives(count), plus(count), minus(count), unused(count);
    for (const double r : {0.21, 1.234, 2.9, 3.77, 4.41}) {
        spline.compute(r, values, derivatives);
        const double h = 1e-6;
        spline.compute(r + h, plus, unused);
        spline.compute(r - h, minus, unused);
        for (std::size_t f = 0; f < count; ++f) {
            CHECK(derivatives[f] == Approx((plus[f] - minus[f]) / (2 * h)).epsilon(1e-6).margin(1e-8));
        }
    }
    // at and beyond r_c everything is zero
    spline.compute(4.5, values, derivatives);
    CHECK(*std::max_element(values.begin(), values.end()) == 0.0);
    spline.compute(7.0, values, derivatives);
    CHECK(*std::max_element(derivatives.begin(), derivatives.end()) == 0.0);
}

TEST_CASE("compute_tabulated_components equals compute for every basis size and neighbour count") {
    // The batched kernel transposes four distances at a time and stores a basis size that is not a
    // multiple of four (10 × 5 = 50, 7 × 3 = 21) partly element by element; both must agree with
    // the single-distance path, also for a leftover of 1–3 distances and for r ≥ r_c.
    for (const int n_max : {8, 10, 7}) {
        for (const int l_max : {2, 4, 6}) {
            const LaplacianEigenstateBasis basis({.cutoff = 5.0, .max_angular = l_max, .max_radial = n_max});
            const SplinedRadialBasis spline(basis, CosineCutoff(5.0, 0.5));
            const std::size_t count = spline.size();
            for (const std::size_t n : {std::size_t{1}, std::size_t{4}, std::size_t{7}, std::size_t{13}}) {
                std::vector<double> r(n);
                for (std::size_t i = 0; i < n; ++i) {
                    r[i] = 0.3 + 0.41 * static_cast<double>(i);  // the last ones lie beyond r_c
                }
                std::vector<double> values(count * n), derivatives(count * n);
                spline.compute_tabulated_components(r, values, derivatives);
                std::vector<double> value(count), derivative(count);
                for (std::size_t i = 0; i < n; ++i) {
                    spline.compute(r[i], value, derivative);
                    for (std::size_t f = 0; f < count; ++f) {
                        CHECK(values[f * n + i] == Approx(value[f]).margin(1e-14));
                        CHECK(derivatives[f * n + i] == Approx(derivative[f]).margin(1e-13));
                    }
                }
            }
        }
    }
}
