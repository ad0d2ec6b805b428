#pragma once
// Quadrature rules shared by the feature tests: Gauss–Legendre nodes (Newton on P_n, independent
// of the code under test) and a product rule on the unit sphere.
#include <array>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <vector>

namespace chorus::test {

struct QuadraturePoint {
    double x;
    double weight;
};

// n-point Gauss–Legendre rule on [a, b]: exact for polynomials of degree ≤ 2n − 1.
inline std::vector<QuadraturePoint> gauss_legendre(int n, double a = -1.0, double b = 1.0) {
    std::vector<QuadraturePoint> rule(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        double x = std::cos(std::numbers::pi * (i + 0.75) / (n + 0.5));
        double derivative = 0.0;
        for (int iteration = 0; iteration < 100; ++iteration) {
            double p0 = 1.0;
            double p1 = x;
            for (int k = 2; k <= n; ++k) {
                const double p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
                p0 = p1;
                p1 = p2;
            }
            derivative = n * (x * p1 - p0) / (x * x - 1.0);
            const double step = p1 / derivative;
            x -= step;
            if (std::abs(step) < 1e-16) {
                break;
            }
        }
        const double weight = 2.0 / ((1.0 - x * x) * derivative * derivative);
        rule[static_cast<std::size_t>(i)] = {0.5 * (b - a) * x + 0.5 * (b + a), 0.5 * (b - a) * weight};
    }
    return rule;
}

struct SpherePoint {
    std::array<double, 3> direction;
    double weight;
};

// Gauss–Legendre in cos θ × uniform φ: exact for spherical polynomials of degree < min(2n, n_phi).
inline std::vector<SpherePoint> sphere_rule(int n_theta, int n_phi) {
    std::vector<SpherePoint> points;
    for (const auto& [u, w] : gauss_legendre(n_theta)) {
        const double s = std::sqrt(1.0 - u * u);
        for (int k = 0; k < n_phi; ++k) {
            const double phi = 2.0 * std::numbers::pi * k / n_phi;
            points.push_back({{s * std::cos(phi), s * std::sin(phi), u}, w * 2.0 * std::numbers::pi / n_phi});
        }
    }
    return points;
}

}  // namespace chorus::test
