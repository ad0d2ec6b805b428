#include "chorus/models/features/density.hpp"

#include <Eigen/Geometry>
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <numbers>
#include <random>
#include <vector>

#include "chorus/error.hpp"

namespace {

using namespace chorus::models::features;
using Vector = std::array<double, 3>;

constexpr double pi = std::numbers::pi;

// A small water-like environment: two species, neighbours spread over the cutoff sphere.
struct Environment {
    std::vector<Vector> neighbours;
    std::vector<int> species;
};

Environment random_environment(std::size_t count, double cutoff, unsigned seed) {
    std::mt19937_64 engine(seed);
    std::uniform_real_distribution<double> uniform(-cutoff, cutoff);
    Environment environment;
    while (environment.neighbours.size() < count) {
        const Vector r{uniform(engine), uniform(engine), uniform(engine)};
        const double distance = std::sqrt(r[0] * r[0] + r[1] * r[1] + r[2] * r[2]);
        if (distance > 0.7 && distance < 1.05 * cutoff) {  // a few beyond r_c on purpose
            environment.neighbours.push_back(r);
            environment.species.push_back(static_cast<int>(environment.neighbours.size() % 2));
        }
    }
    return environment;
}

struct Fixture {
    double cutoff = 4.0;
    LaplacianEigenstateBasis basis{{.cutoff = 4.0, .max_angular = 5, .max_radial = 4}};
    SplinedRadialBasis radial{basis, CosineCutoff(4.0, 1.0)};
    DensityExpansion expansion{radial, 2};
};

}  // namespace

TEST_CASE("the power spectrum obeys the addition theorem (science.md eq. 8)") {
    const Fixture fixture;
    const auto& expansion = fixture.expansion;
    const auto environment = random_environment(12, fixture.cutoff, 17);
    auto workspace = expansion.workspace();
    std::vector<double> density(expansion.size());
    expansion.compute(environment.neighbours, environment.species, density, workspace);
    const PowerSpectrum power_spectrum(expansion);
    std::vector<double> features(power_spectrum.size());
    power_spectrum.compute(density, features);

    // right-hand side from pair sums over neighbours, with the same splined g_nl
    const auto& radial = fixture.radial;
    std::vector<std::vector<double>> g(environment.neighbours.size(), std::vector<double>(radial.size()));
    std::vector<double> unused(radial.size());
    for (std::size_t j = 0; j < environment.neighbours.size(); ++j) {
        const auto& r = environment.neighbours[j];
        radial.compute(std::sqrt(r[0] * r[0] + r[1] * r[1] + r[2] * r[2]), g[j], unused);
    }
    double worst = 0.0, largest = 0.0;
    for (int a = 0; a < 2; ++a) {
        for (int b = a; b < 2; ++b) {
            for (int l = 0; l <= 5; ++l) {
                const int n_max = expansion.n_max(l);
                for (int n = 0; n < n_max; ++n) {
                    for (int k = 0; k < n_max; ++k) {
                        double expected = 0.0;
                        for (std::size_t j = 0; j < environment.neighbours.size(); ++j) {
                            for (std::size_t jj = 0; jj < environment.neighbours.size(); ++jj) {
                                if (environment.species[j] != a || environment.species[jj] != b) {
                                    continue;
                                }
                                const auto& u = environment.neighbours[j];
                                const auto& v = environment.neighbours[jj];
                                const double cos_angle = (u[0] * v[0] + u[1] * v[1] + u[2] * v[2]) /
                                                         std::sqrt((u[0] * u[0] + u[1] * u[1] + u[2] * u[2]) *
                                                                   (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]));
                                expected +=
                                    g[j][radial.offset(l) + static_cast<std::size_t>(n)] *
                                    g[jj][radial.offset(l) + static_cast<std::size_t>(k)] * (2 * l + 1) /
                                    (4 * pi) *
                                    std::legendre(static_cast<unsigned>(l), std::clamp(cos_angle, -1.0, 1.0));
                            }
                        }
                        const double value =
                            features[power_spectrum.pair_index(a, b) * power_spectrum.pair_size() +
                                     power_spectrum.block_offset(l) +
                                     static_cast<std::size_t>(n * n_max + k)];
                        worst = std::max(worst, std::abs(value - expected));
                        largest = std::max(largest, std::abs(expected));
                    }
                }
            }
        }
    }
    CHECK(largest > 1e-3);  // the identity is not satisfied trivially by zeros
    CHECK(worst < 1e-10);
}

TEST_CASE("density gradients agree with finite differences of the density") {
    const Fixture fixture;
    const auto& expansion = fixture.expansion;
    auto environment = random_environment(6, fixture.cutoff, 5);
    auto workspace = expansion.workspace();
    const std::size_t size = expansion.size();
    const std::size_t block = expansion.species_size();
    std::vector<double> density(size), gradients(environment.neighbours.size() * 3 * block);
    expansion.compute_with_gradients(environment.neighbours, environment.species, density, gradients,
                                     workspace);

    std::vector<double> plus(size), minus(size), values_only(size);
    expansion.compute(environment.neighbours, environment.species, values_only, workspace);
    for (std::size_t k = 0; k < size; ++k) {
        CHECK(values_only[k] == density[k]);
    }
    const double scale = *std::max_element(gradients.begin(), gradients.end(),
                                           [](double x, double y) { return std::abs(x) < std::abs(y); });
    const double h = 1e-5;
    double worst = 0.0;
    for (std::size_t j = 0; j < environment.neighbours.size(); ++j) {
        const auto a = static_cast<std::size_t>(environment.species[j]);
        for (std::size_t d = 0; d < 3; ++d) {
            auto shifted = environment.neighbours;
            shifted[j][d] += h;
            expansion.compute(shifted, environment.species, plus, workspace);
            shifted[j][d] -= 2 * h;
            expansion.compute(shifted, environment.species, minus, workspace);
            for (std::size_t k = 0; k < block; ++k) {
                const double fd = (plus[a * block + k] - minus[a * block + k]) / (2 * h);
                worst = std::max(worst, std::abs(fd - gradients[(j * 3 + d) * block + k]));
            }
            // the other species' block does not move
            const std::size_t other = 1 - a;
            for (std::size_t k = 0; k < block; ++k) {
                CHECK(plus[other * block + k] == density[other * block + k]);
            }
        }
    }
    CHECK(worst < 1e-7 * std::abs(scale));
}

TEST_CASE("the power spectrum is invariant under rotations and neighbour order") {
    const Fixture fixture;
    const auto& expansion = fixture.expansion;
    auto environment = random_environment(10, fixture.cutoff, 23);
    auto workspace = expansion.workspace();
    const PowerSpectrum power_spectrum(expansion);
    std::vector<double> density(expansion.size()), before(power_spectrum.size()),
        after(power_spectrum.size());
    expansion.compute(environment.neighbours, environment.species, density, workspace);
    power_spectrum.compute(density, before);

    const Eigen::Matrix3d rotation =
        Eigen::AngleAxisd(1.1, Eigen::Vector3d(0.3, -0.2, 0.9).normalized()).matrix();
    for (auto& r : environment.neighbours) {
        const Eigen::Vector3d v = rotation * Eigen::Vector3d(r[0], r[1], r[2]);
        r = {v[0], v[1], v[2]};
    }
    std::reverse(environment.neighbours.begin(), environment.neighbours.end());
    std::reverse(environment.species.begin(), environment.species.end());
    expansion.compute(environment.neighbours, environment.species, density, workspace);
    power_spectrum.compute(density, after);
    for (std::size_t k = 0; k < before.size(); ++k) {
        CHECK(after[k] == Approx(before[k]).epsilon(1e-12).margin(1e-13));
    }
}

TEST_CASE("the density expansion rejects bad neighbours") {
    const Fixture fixture;
    const auto& expansion = fixture.expansion;
    auto workspace = expansion.workspace();
    std::vector<double> density(expansion.size());
    const std::vector<Vector> neighbours{{1.0, 0.0, 0.0}, {0.0, 0.0, 0.0}};
    CHECK_THROWS_AS(expansion.compute(neighbours, std::vector<int>{0}, density, workspace),
                    chorus::InputError);
    CHECK_THROWS_AS(expansion.compute(neighbours, std::vector<int>{0, 2}, density, workspace),
                    chorus::InputError);
    CHECK_THROWS_AS(expansion.compute(neighbours, std::vector<int>{0, 1}, density, workspace),
                    chorus::InputError);
    CHECK_THROWS_AS(DensityExpansion(fixture.radial, 0), chorus::ConfigError);
}
