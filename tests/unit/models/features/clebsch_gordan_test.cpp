#include "chorus/models/features/clebsch_gordan.hpp"

#include <Eigen/Dense>
#include <Eigen/Geometry>
#include <catch2/catch.hpp>
#include <cmath>
#include <numbers>
#include <random>
#include <vector>

#include "chorus/error.hpp"
#include "chorus/models/features/spherical_harmonics.hpp"
#include "quadrature.hpp"

namespace {

using namespace chorus::models::features;
using Vector = std::array<double, 3>;

constexpr double pi = std::numbers::pi;

// The l block of the harmonics of r, as a vector.
std::vector<double> harmonics_block(const SphericalHarmonics& sh, const Vector& r, int l) {
    std::vector<double> all(sh.size());
    sh.compute(r, all);
    return {all.begin() + static_cast<std::ptrdiff_t>(lm_index(l, -l)),
            all.begin() + static_cast<std::ptrdiff_t>(lm_index(l, l)) + 1};
}

Eigen::Matrix3d random_rotation(std::mt19937_64& engine) {
    std::normal_distribution<double> normal;
    Eigen::Quaterniond q(normal(engine), normal(engine), normal(engine), normal(engine));
    return q.normalized().toRotationMatrix();
}

Vector rotate(const Eigen::Matrix3d& rotation, const Vector& r) {
    const Eigen::Vector3d v = rotation * Eigen::Vector3d(r[0], r[1], r[2]);
    return {v[0], v[1], v[2]};
}

// Wigner D^λ(R) in our real basis, from Y_λ(R n) = D^λ Y_λ(n): by orthonormality
// D_{μμ'} = ∫ Y_λμ(R n) Y_λμ'(n) dΩ, integrated exactly by the product rule.
Eigen::MatrixXd real_wigner_d(const SphericalHarmonics& sh, int lambda, const Eigen::Matrix3d& rotation) {
    const int d = 2 * lambda + 1;
    Eigen::MatrixXd result = Eigen::MatrixXd::Zero(d, d);
    for (const auto& point : chorus::test::sphere_rule(lambda + 2, 2 * lambda + 3)) {
        const auto rotated = harmonics_block(sh, rotate(rotation, point.direction), lambda);
        const auto plain = harmonics_block(sh, point.direction, lambda);
        for (int mu = 0; mu < d; ++mu) {
            for (int nu = 0; nu < d; ++nu) {
                result(mu, nu) += point.weight * rotated[static_cast<std::size_t>(mu)] *
                                  plain[static_cast<std::size_t>(nu)];
            }
        }
    }
    return result;
}

Vector random_direction(std::mt19937_64& engine) {
    std::normal_distribution<double> normal;
    return {normal(engine), normal(engine), normal(engine)};
}

}  // namespace

TEST_CASE("complex Clebsch–Gordan coefficients match textbook values") {
    CHECK(complex_clebsch_gordan(1, 1, 1, -1, 0, 0) == Approx(1 / std::sqrt(3.0)).epsilon(1e-15));
    CHECK(complex_clebsch_gordan(1, 0, 1, 0, 0, 0) == Approx(-1 / std::sqrt(3.0)).epsilon(1e-15));
    CHECK(complex_clebsch_gordan(1, 0, 1, 0, 2, 0) == Approx(std::sqrt(2.0 / 3.0)).epsilon(1e-15));
    CHECK(complex_clebsch_gordan(1, 1, 1, 0, 1, 1) == Approx(1 / std::sqrt(2.0)).epsilon(1e-15));
    // j ⊗ 1 → j with j = 2, m = 1: ⟨j m+1, 1 −1|j m⟩ = √((j−m)(j+m+1)/(2j(j+1))),
    // ⟨j m−1, 1 1|j m⟩ = −√((j+m)(j−m+1)/(2j(j+1)))
    CHECK(complex_clebsch_gordan(2, 2, 1, -1, 2, 1) == Approx(std::sqrt(1.0 / 3.0)).epsilon(1e-15));
    CHECK(complex_clebsch_gordan(2, 0, 1, 1, 2, 1) == Approx(-std::sqrt(0.5)).epsilon(1e-15));
    CHECK(complex_clebsch_gordan(1, 0, 1, 0, 1, 0) == 0.0);
    CHECK(complex_clebsch_gordan(1, 1, 1, 1, 1, 1) == 0.0);  // M ≠ m1 + m2
}

TEST_CASE("real Clebsch–Gordan coefficients are orthogonal both ways") {
    const int l_max = 6;
    const ClebschGordan cg(l_max);
    for (int l1 = 0; l1 <= l_max; ++l1) {
        for (int l2 = 0; l2 <= l_max; ++l2) {
            const int d1 = 2 * l1 + 1, d2 = 2 * l2 + 1;
            // rows: every (λ, μ); columns: every (m1, m2). Unitary in the complex basis, and the
            // real/imaginary parts kept per λ keep it orthogonal.
            Eigen::MatrixXd matrix = Eigen::MatrixXd::Zero(d1 * d2, d1 * d2);
            int row = 0;
            for (int lambda = std::abs(l1 - l2); lambda <= l1 + l2; ++lambda) {
                for (const auto& c : cg.coefficients(l1, l2, lambda)) {
                    matrix(row + c.mu, c.m1 * d2 + c.m2) = c.value;
                }
                row += 2 * lambda + 1;
            }
            REQUIRE(row == d1 * d2);
            const Eigen::MatrixXd identity = Eigen::MatrixXd::Identity(d1 * d2, d1 * d2);
            CHECK((matrix * matrix.transpose() - identity).cwiseAbs().maxCoeff() < 1e-12);
            CHECK((matrix.transpose() * matrix - identity).cwiseAbs().maxCoeff() < 1e-12);
        }
    }
}

TEST_CASE("coupling the harmonics of one direction gives back the harmonic") {
    const int l_max = 6;
    const ClebschGordan cg(l_max);
    const SphericalHarmonics sh(2 * l_max);
    std::mt19937_64 engine(42);
    for (int trial = 0; trial < 3; ++trial) {
        const Vector r = random_direction(engine);
        for (int l1 = 0; l1 <= l_max; ++l1) {
            for (int l2 = 0; l2 <= l_max; ++l2) {
                for (int lambda = std::abs(l1 - l2); lambda <= l1 + l2; ++lambda) {
                    std::vector<double> coupled(static_cast<std::size_t>(2 * lambda + 1));
                    cg.couple(l1, l2, lambda, harmonics_block(sh, r, l1), harmonics_block(sh, r, l2),
                              coupled);
                    const auto expected_block = harmonics_block(sh, r, lambda);
                    const double factor =
                        std::sqrt((2 * l1 + 1) * (2 * l2 + 1) / (4 * pi * (2 * lambda + 1))) *
                        complex_clebsch_gordan(l1, 0, l2, 0, lambda, 0);
                    for (int mu = 0; mu <= 2 * lambda; ++mu) {
                        const auto k = static_cast<std::size_t>(mu);
                        // zero for odd l1 + l2 + λ, where ⟨l1 0 l2 0|λ 0⟩ = 0
                        CHECK(std::abs(coupled[k] - factor * expected_block[k]) < 1e-12);
                    }
                }
            }
        }
    }
}

TEST_CASE("the λ = 0 coupling is (−1)^l/√(2l+1) times the dot product") {
    const ClebschGordan cg(8, 0);
    std::mt19937_64 engine(3);
    std::uniform_real_distribution<double> uniform(-1.0, 1.0);
    for (int l = 0; l <= 8; ++l) {
        std::vector<double> a(static_cast<std::size_t>(2 * l + 1)), b(a.size());
        double dot = 0.0;
        for (std::size_t k = 0; k < a.size(); ++k) {
            a[k] = uniform(engine);
            b[k] = uniform(engine);
            dot += a[k] * b[k];
        }
        std::vector<double> out(1);
        cg.couple(l, l, 0, a, b, out);
        CHECK(out[0] == Approx((l % 2 == 0 ? 1.0 : -1.0) / std::sqrt(2.0 * l + 1) * dot).epsilon(1e-13));
    }
}

TEST_CASE("the real Wigner D^1 is the rotation matrix in (y, z, x) order") {
    const SphericalHarmonics sh(1);
    std::mt19937_64 engine(9);
    const Eigen::Matrix3d rotation = random_rotation(engine);
    Eigen::Matrix3d permutation;
    permutation << 0, 1, 0, 0, 0, 1, 1, 0, 0;  // (x, y, z) → (y, z, x)
    const Eigen::MatrixXd d1 = real_wigner_d(sh, 1, rotation);
    CHECK((d1 - permutation * rotation * permutation.transpose()).cwiseAbs().maxCoeff() < 1e-13);
}

TEST_CASE("coupled products rotate with the Wigner D matrix of λ, both parities") {
    const int l_max = 5;
    const ClebschGordan cg(l_max);
    const SphericalHarmonics sh(2 * l_max);
    std::mt19937_64 engine(2024);
    for (int trial = 0; trial < 3; ++trial) {
        const Eigen::Matrix3d rotation = random_rotation(engine);
        const Vector u = random_direction(engine);
        const Vector v = random_direction(engine);
        const Vector w = random_direction(engine);
        for (int lambda = 0; lambda <= 2 * l_max; ++lambda) {
            const Eigen::MatrixXd wigner = real_wigner_d(sh, lambda, rotation);
            for (int l1 = 0; l1 <= l_max; ++l1) {
                for (int l2 = std::max(0, std::abs(lambda - l1)); l2 <= std::min(l_max, lambda + l1); ++l2) {
                    // two property columns on the left to exercise the block form
                    EquivariantBlock a(2 * l1 + 1, 2), b(2 * l2 + 1, 1);
                    EquivariantBlock a_rotated(2 * l1 + 1, 2), b_rotated(2 * l2 + 1, 1);
                    for (int m = 0; m <= 2 * l1; ++m) {
                        a(m, 0) = harmonics_block(sh, u, l1)[static_cast<std::size_t>(m)];
                        a(m, 1) = harmonics_block(sh, w, l1)[static_cast<std::size_t>(m)];
                        a_rotated(m, 0) =
                            harmonics_block(sh, rotate(rotation, u), l1)[static_cast<std::size_t>(m)];
                        a_rotated(m, 1) =
                            harmonics_block(sh, rotate(rotation, w), l1)[static_cast<std::size_t>(m)];
                    }
                    for (int m = 0; m <= 2 * l2; ++m) {
                        b(m, 0) = harmonics_block(sh, v, l2)[static_cast<std::size_t>(m)];
                        b_rotated(m, 0) =
                            harmonics_block(sh, rotate(rotation, v), l2)[static_cast<std::size_t>(m)];
                    }
                    const EquivariantBlock before = cg.couple(l1, l2, lambda, a, b);
                    const EquivariantBlock after = cg.couple(l1, l2, lambda, a_rotated, b_rotated);
                    const Eigen::MatrixXd expected = wigner * before;
                    CHECK((after - expected).cwiseAbs().maxCoeff() < 1e-12);
                    // and the coupling is not trivially zero for generic directions
                    CHECK(before.cwiseAbs().maxCoeff() > 1e-6);
                }
            }
        }
    }
}

TEST_CASE("Clebsch–Gordan coupling rejects blocks of the wrong size") {
    const ClebschGordan cg(2);
    std::vector<double> a(3), b(5), out(2);
    CHECK_THROWS_AS(cg.couple(1, 2, 1, a, b, out), chorus::InputError);
    CHECK_THROWS_AS(cg.coefficients(3, 0, 3), chorus::InputError);
    CHECK(cg.coefficients(1, 1, 3).empty());
}
