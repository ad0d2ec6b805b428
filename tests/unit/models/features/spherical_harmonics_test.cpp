#include "chorus/models/features/spherical_harmonics.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <numbers>
#include <random>
#include <vector>

#include "chorus/error.hpp"
#include "quadrature.hpp"

namespace {

using chorus::models::features::lm_index;
using chorus::models::features::SphericalHarmonics;
using Vector = std::array<double, 3>;

constexpr double pi = std::numbers::pi;

std::vector<Vector> random_vectors(std::size_t count, unsigned seed) {
    std::mt19937_64 engine(seed);
    std::uniform_real_distribution<double> uniform(-2.0, 2.0);
    std::vector<Vector> vectors;
    while (vectors.size() < count) {
        const Vector v{uniform(engine), uniform(engine), uniform(engine)};
        const double r = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
        if (r > 0.1 && r < 2.0) {
            vectors.push_back(v);
        }
    }
    return vectors;
}

std::vector<double> values_of(const SphericalHarmonics& sh, const Vector& r) {
    std::vector<double> values(sh.size());
    sh.compute(r, values);
    return values;
}

}  // namespace

TEST_CASE("real spherical harmonics are orthonormal on the sphere up to l = 12") {
    const SphericalHarmonics sh(12);
    // Products have degree ≤ 24: 16 Gauss–Legendre nodes in cos θ and 32 φ points integrate them exactly.
    const auto rule = chorus::test::sphere_rule(16, 32);
    const std::size_t n = sh.size();
    std::vector<double> gram(n * n, 0.0);
    std::vector<double> values(n);
    for (const auto& point : rule) {
        sh.compute(point.direction, values);
        for (std::size_t a = 0; a < n; ++a) {
            for (std::size_t b = 0; b < n; ++b) {
                gram[a * n + b] += point.weight * values[a] * values[b];
            }
        }
    }
    double worst = 0.0;
    for (std::size_t a = 0; a < n; ++a) {
        for (std::size_t b = 0; b < n; ++b) {
            worst = std::max(worst, std::abs(gram[a * n + b] - (a == b ? 1.0 : 0.0)));
        }
    }
    CHECK(worst < 1e-12);
}

TEST_CASE("real spherical harmonics obey the addition theorem up to l = 12") {
    const SphericalHarmonics sh(12);
    const auto vectors = random_vectors(40, 7);
    for (std::size_t i = 0; i + 1 < vectors.size(); i += 2) {
        const auto ya = values_of(sh, vectors[i]);
        const auto yb = values_of(sh, vectors[i + 1]);
        const auto& a = vectors[i];
        const auto& b = vectors[i + 1];
        const double cos_angle =
            (a[0] * b[0] + a[1] * b[1] + a[2] * b[2]) /
            std::sqrt((a[0] * a[0] + a[1] * a[1] + a[2] * a[2]) * (b[0] * b[0] + b[1] * b[1] + b[2] * b[2]));
        for (int l = 0; l <= 12; ++l) {
            double sum = 0.0;
            for (int m = -l; m <= l; ++m) {
                sum += ya[lm_index(l, m)] * yb[lm_index(l, m)];
            }
            const double expected =
                (2 * l + 1) / (4 * pi) * std::legendre(static_cast<unsigned>(l), cos_angle);
            CHECK(std::abs(sum - expected) < 1e-12);
        }
    }
}

TEST_CASE("low-order real spherical harmonics match their closed forms") {
    const SphericalHarmonics sh(3);
    for (const auto& v : random_vectors(10, 11)) {
        const auto y = values_of(sh, v);
        const double r = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
        const double x = v[0] / r, yy = v[1] / r, z = v[2] / r;
        const double c1 = std::sqrt(3 / (4 * pi));
        const double c2 = 0.5 * std::sqrt(15 / pi);
        CHECK(y[lm_index(0, 0)] == Approx(0.5 / std::sqrt(pi)).epsilon(1e-14));
        // l = 1 is (y, z, x): no Condon–Shortley minus sign on Y_11.
        CHECK(y[lm_index(1, -1)] == Approx(c1 * yy).epsilon(1e-14).margin(1e-15));
        CHECK(y[lm_index(1, 0)] == Approx(c1 * z).epsilon(1e-14).margin(1e-15));
        CHECK(y[lm_index(1, 1)] == Approx(c1 * x).epsilon(1e-14).margin(1e-15));
        CHECK(y[lm_index(2, -2)] == Approx(c2 * x * yy).epsilon(1e-13).margin(1e-15));
        CHECK(y[lm_index(2, -1)] == Approx(c2 * yy * z).epsilon(1e-13).margin(1e-15));
        CHECK(y[lm_index(2, 0)] ==
              Approx(0.25 * std::sqrt(5 / pi) * (3 * z * z - 1)).epsilon(1e-13).margin(1e-15));
        CHECK(y[lm_index(2, 1)] == Approx(c2 * x * z).epsilon(1e-13).margin(1e-15));
        CHECK(y[lm_index(2, 2)] == Approx(0.5 * c2 * (x * x - yy * yy)).epsilon(1e-13).margin(1e-15));
        const double c33 = 0.25 * std::sqrt(35 / (2 * pi));
        CHECK(y[lm_index(3, -3)] == Approx(c33 * (3 * x * x - yy * yy) * yy).epsilon(1e-13).margin(1e-15));
        CHECK(y[lm_index(3, 3)] == Approx(c33 * (x * x - 3 * yy * yy) * x).epsilon(1e-13).margin(1e-15));
        CHECK(y[lm_index(3, 0)] ==
              Approx(0.25 * std::sqrt(7 / pi) * z * (5 * z * z - 3)).epsilon(1e-13).margin(1e-15));
    }
}

TEST_CASE("spherical harmonic gradients agree with central finite differences") {
    const int l_max = 12;
    const SphericalHarmonics sh(l_max);
    const std::size_t n = sh.size();
    std::vector<double> values(n), gradients(3 * n), plus(n), minus(n);
    auto vectors = random_vectors(20, 3);
    vectors.push_back({0.0, 0.0, 1.3});  // on the z axis, where φ is undefined but Y_lm is smooth
    vectors.push_back({0.0, 0.0, -0.7});
    vectors.push_back({1e-9, -2e-9, 1.0});
    for (const auto& v : vectors) {
        sh.compute_with_gradients(v, values, gradients);
        // relative to the largest gradient component of this vector (on the z axis the whole
        // z column is zero, so a per-direction scale would be meaningless)
        const double scale =
            std::abs(*std::max_element(gradients.begin(), gradients.end(),
                                       [](double a, double b) { return std::abs(a) < std::abs(b); }));
        const double h = 1e-5;
        for (int d = 0; d < 3; ++d) {
            Vector vp = v, vm = v;
            vp[d] += h;
            vm[d] -= h;
            sh.compute(vp, plus);
            sh.compute(vm, minus);
            double worst = 0.0;
            for (std::size_t k = 0; k < n; ++k) {
                const double fd = (plus[k] - minus[k]) / (2 * h);
                worst = std::max(worst, std::abs(fd - gradients[d * n + k]));
            }
            CHECK(worst < 1e-7 * scale);
        }
        // Y_lm depends on the direction only: the gradient is tangent to the sphere.
        for (std::size_t k = 0; k < n; ++k) {
            const double radial = v[0] * gradients[k] + v[1] * gradients[n + k] + v[2] * gradients[2 * n + k];
            CHECK(std::abs(radial) < 1e-11);
        }
    }
}

TEST_CASE("on the z axis only m = 0 survives") {
    const SphericalHarmonics sh(10);
    for (const double z : {2.5, -0.3}) {
        const auto y = values_of(sh, {0.0, 0.0, z});
        for (int l = 0; l <= 10; ++l) {
            for (int m = -l; m <= l; ++m) {
                const double sign = (z < 0 && l % 2 == 1) ? -1.0 : 1.0;
                const double expected = m == 0 ? sign * std::sqrt((2 * l + 1) / (4 * pi)) : 0.0;
                CHECK(y[lm_index(l, m)] == Approx(expected).epsilon(1e-13).margin(1e-15));
            }
        }
    }
}

TEST_CASE("spherical harmonics near r = 0 depend on the direction only") {
    const SphericalHarmonics sh(8);
    const std::size_t n = sh.size();
    const Vector direction{0.3, -0.5, 0.8};
    const auto reference = values_of(sh, direction);
    std::vector<double> values(n), gradients(3 * n), reference_gradients(3 * n);
    sh.compute_with_gradients(direction, values, reference_gradients);
    for (const double scale : {1e-8, 1e-100}) {
        sh.compute_with_gradients({direction[0] * scale, direction[1] * scale, direction[2] * scale}, values,
                                  gradients);
        for (std::size_t k = 0; k < n; ++k) {
            CHECK(values[k] == Approx(reference[k]).epsilon(1e-13).margin(1e-14));
            // the gradient grows as 1/r
            CHECK(gradients[k] * scale == Approx(reference_gradients[k]).epsilon(1e-12).margin(1e-13));
        }
    }
    SECTION("r = 0 has no direction: l > 0 values are NaN, as documented") {
        sh.compute({0.0, 0.0, 0.0}, values);
        CHECK(std::isnan(values[lm_index(1, 0)]));
    }
}

TEST_CASE("batched spherical harmonics equal the single-vector ones") {
    const SphericalHarmonics sh(6);
    const std::size_t n = sh.size();
    const auto vectors = random_vectors(17, 5);
    std::vector<double> x, y, z;
    for (const auto& v : vectors) {
        x.push_back(v[0]);
        y.push_back(v[1]);
        z.push_back(v[2]);
    }
    std::vector<double> values(vectors.size() * n), gradients(vectors.size() * 3 * n);
    sh.compute_with_gradients(x, y, z, values, gradients);
    std::vector<double> only_values(vectors.size() * n);
    sh.compute(x, y, z, only_values);
    std::vector<double> single(n), single_gradients(3 * n);
    for (std::size_t i = 0; i < vectors.size(); ++i) {
        sh.compute_with_gradients(vectors[i], single, single_gradients);
        for (std::size_t k = 0; k < n; ++k) {
            CHECK(values[i * n + k] == single[k]);
            CHECK(only_values[i * n + k] == single[k]);
        }
        for (std::size_t k = 0; k < 3 * n; ++k) {
            CHECK(gradients[i * 3 * n + k] == single_gradients[k]);
        }
    }
}

TEST_CASE("spherical harmonics reject bad orders and short buffers") {
    CHECK_THROWS_AS(SphericalHarmonics(-1), chorus::ConfigError);
    CHECK_THROWS_AS(SphericalHarmonics(chorus::models::features::max_supported_l + 1), chorus::ConfigError);
    const SphericalHarmonics sh(4);
    std::vector<double> too_short(sh.size() - 1);
    CHECK_THROWS_AS(sh.compute({1.0, 0.0, 0.0}, too_short), chorus::InputError);
}
