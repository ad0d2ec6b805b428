// Symmetries of the FeatureCalculator output: rotations (invariants unchanged, λ-SOAP blocks
// rotating with Wigner-D), permutations of same-species atoms, periodic replicas and lattice
// translations, continuity across the cutoff sphere, and the addition theorem for ν = 2.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <numbers>
#include <string>

#include "chorus/engine/elements.hpp"
#include "chorus/models/features/radial_basis.hpp"
#include "chorus/models/features/spherical_harmonics.hpp"
#include "feature_test_support.hpp"

namespace {

using namespace chorus::test;
namespace features = chorus::models::features;

Eigen::MatrixXd equivariant_of(const FeatureCalculator& calculator, const System& system, int lambda) {
    auto workspace = calculator.workspace();
    FeatureMatrix blocks;
    calculator.compute_equivariant(system, workspace, lambda, blocks);
    return blocks;
}

// D^λ(R) in our real basis from the harmonics themselves: Y_λ(R n) = D Y_λ(n) for many
// directions n, solved by least squares (exact up to rounding since the relation is linear).
Eigen::MatrixXd wigner_d(int lambda, const Eigen::Matrix3d& rotation) {
    const features::SphericalHarmonics harmonics(lambda);
    const int width = 2 * lambda + 1;
    const int samples = 4 * width;
    Eigen::MatrixXd plain(samples, width), rotated(samples, width);
    std::mt19937_64 engine(99);
    std::normal_distribution<double> normal;
    std::vector<double> y(harmonics.size());
    for (int k = 0; k < samples; ++k) {
        const Eigen::Vector3d n(normal(engine), normal(engine), normal(engine));
        const Eigen::Vector3d rn = rotation * n;
        harmonics.compute({n[0], n[1], n[2]}, y);
        for (int mu = 0; mu < width; ++mu) {
            plain(k, mu) = y[features::lm_index(lambda, mu - lambda)];
        }
        harmonics.compute({rn[0], rn[1], rn[2]}, y);
        for (int mu = 0; mu < width; ++mu) {
            rotated(k, mu) = y[features::lm_index(lambda, mu - lambda)];
        }
    }
    // rotated = plain · Dᵀ
    return plain.colPivHouseholderQr().solve(rotated).transpose();
}

// Blocks of every centre multiplied by D: rows i(2λ+1) + μ.
Eigen::MatrixXd rotate_blocks(const Eigen::MatrixXd& blocks, const Eigen::MatrixXd& d) {
    const Eigen::Index width = d.rows();
    Eigen::MatrixXd out(blocks.rows(), blocks.cols());
    for (Eigen::Index i = 0; i < blocks.rows() / width; ++i) {
        out.middleRows(i * width, width) = d * blocks.middleRows(i * width, width);
    }
    return out;
}

std::map<std::string, Eigen::Index> index_of(const std::vector<std::string>& names) {
    std::map<std::string, Eigen::Index> index;
    for (std::size_t k = 0; k < names.size(); ++k) {
        index[names[k]] = static_cast<Eigen::Index>(k);
    }
    return index;
}

}  // namespace

TEST_CASE("invariants do not change under rotations", "[features][symmetry]") {
    const FeatureCalculator calculator(all_orders());
    std::mt19937_64 engine(5);
    for (const System& system : {random_cluster(16, 1), random_periodic(7, 2)}) {
        const FeatureMatrix reference = features_of(calculator, system);
        for (int trial = 0; trial < 3; ++trial) {
            const Eigen::Matrix3d rotation = random_rotation(engine);
            CHECK(columnwise_relative(features_of(calculator, transformed(system, rotation)), reference) <
                  1e-12);
        }
        // inversion is a symmetry too: only σ = +1 invariants are kept
        CHECK(columnwise_relative(features_of(calculator, transformed(system, -Eigen::Matrix3d::Identity())),
                                  reference) < 1e-12);
    }
}

TEST_CASE("λ-SOAP blocks rotate with Wigner-D", "[features][symmetry]") {
    const FeatureCalculator calculator(all_orders());
    std::mt19937_64 engine(6);
    const Eigen::Matrix3d rotation = random_rotation(engine);
    for (const System& system : {random_cluster(12, 3), random_periodic(6, 4)}) {
        SECTION("λ = 1 rotates with R itself, in the order (y, z, x)") {
            Eigen::Matrix3d permutation;
            permutation << 0, 1, 0, 0, 0, 1, 1, 0, 0;
            const Eigen::MatrixXd d = permutation * rotation * permutation.transpose();
            const Eigen::MatrixXd blocks = equivariant_of(calculator, system, 1);
            REQUIRE(blocks.cols() > 0);
            CHECK(columnwise_relative(equivariant_of(calculator, transformed(system, rotation), 1),
                                      rotate_blocks(blocks, d)) < 1e-10);
        }
        SECTION("λ = 2, 3 rotate with D^λ built from the harmonics") {
            for (int lambda : {2, 3}) {
                const Eigen::MatrixXd blocks = equivariant_of(calculator, system, lambda);
                CHECK(columnwise_relative(equivariant_of(calculator, transformed(system, rotation), lambda),
                                          rotate_blocks(blocks, wigner_d(lambda, rotation))) < 1e-10);
            }
        }
    }
}

TEST_CASE("swapping atoms of the same species permutes the features and nothing else",
          "[features][symmetry]") {
    const FeatureCalculator calculator(all_orders());
    for (const System& system : {random_cluster(15, 7), random_periodic(7, 8)}) {
        const FeatureMatrix reference = features_of(calculator, system);
        // atoms 1, 2 are H and 0, 3 are O (water_species)
        Eigen::Matrix3Xd positions = system.positions();
        positions.col(1).swap(positions.col(2));
        positions.col(0).swap(positions.col(3));
        FeatureMatrix swapped = features_of(calculator, with_positions(system, positions));
        swapped.row(1).swap(swapped.row(2));
        swapped.row(0).swap(swapped.row(3));
        CHECK(columnwise_relative(swapped, reference) < 1e-12);
    }
}

TEST_CASE("the ν = 2 power spectrum obeys the addition theorem, directly and through CG",
          "[features][symmetry]") {
    const auto settings = all_orders();
    const FeatureCalculator calculator(settings);
    const System system = random_cluster(14, 9);
    const FeatureMatrix x = features_of(calculator, system);
    const Eigen::MatrixXd cg_route = equivariant_of(calculator, system, 0);  // (−1)^l/√(2l+1) Σ_m
    const auto names = index_of(calculator.names());
    const auto cg_names = features::equivariant_feature_names(settings, 0);

    // The same splines the calculator uses (same settings → same tables).
    const features::LaplacianEigenstateBasis basis({.cutoff = settings.cutoff,
                                                    .max_angular = settings.density_l_max(),
                                                    .max_radial = settings.density_n_max()});
    const features::SplinedRadialBasis radial(
        basis, features::CosineCutoff(settings.cutoff, settings.cutoff_width), settings.spline_accuracy);
    std::vector<double> gi(radial.size()), gj(radial.size()), unused(radial.size());

    double worst_direct = 0.0, worst_cg = 0.0, largest = 0.0;
    int compared = 0;
    const auto& p = system.positions();
    for (Eigen::Index i = 0; i < p.cols(); ++i) {
        std::map<std::string, double> expected;
        for (Eigen::Index j = 0; j < p.cols(); ++j) {
            const Eigen::Vector3d rj = p.col(j) - p.col(i);
            if (j == i || rj.norm() >= settings.cutoff) {
                continue;
            }
            for (Eigen::Index k = 0; k < p.cols(); ++k) {
                const Eigen::Vector3d rk = p.col(k) - p.col(i);
                if (k == i || rk.norm() >= settings.cutoff) {
                    continue;
                }
                radial.compute(rj.norm(), gi, unused);
                radial.compute(rk.norm(), gj, unused);
                const double cosine = std::clamp(rj.dot(rk) / (rj.norm() * rk.norm()), -1.0, 1.0);
                const std::string a(
                    chorus::engine::element_symbol(system.atomic_numbers()[static_cast<std::size_t>(j)]));
                const std::string b(
                    chorus::engine::element_symbol(system.atomic_numbers()[static_cast<std::size_t>(k)]));
                for (int l = 0; l <= settings.nu2->l_max; ++l) {
                    const double angular = (2 * l + 1) / (4 * std::numbers::pi) *
                                           std::legendre(static_cast<unsigned>(l), cosine);
                    for (int n1 = 0; n1 < settings.nu2->n_max; ++n1) {
                        for (int n2 = 0; n2 < settings.nu2->n_max; ++n2) {
                            expected["ps:" + a + "-" + b + ":n1=" + std::to_string(n1) +
                                     ":n2=" + std::to_string(n2) + ":l=" + std::to_string(l)] +=
                                gi[radial.offset(l) + static_cast<std::size_t>(n1)] *
                                gj[radial.offset(l) + static_cast<std::size_t>(n2)] * angular;
                        }
                    }
                }
            }
        }
        for (const auto& [name, value] : expected) {
            const auto found = names.find(name);
            if (found == names.end()) {
                continue;  // (b, a) or n1 > n2 for a = b: the same number under its canonical name
            }
            ++compared;
            largest = std::max(largest, std::abs(value));
            worst_direct = std::max(worst_direct, std::abs(x(i, found->second) - value));
        }
        for (std::size_t f = 0; f < cg_names.size(); ++f) {
            // "ls:λ=0:O-H:n1=0:n2=2:l1=3:l2=3" ↔ "ps:O-H:n1=0:n2=2:l=3"
            const std::string& name = cg_names[f];
            const auto l_at = name.find(":l1=");
            const int l = std::stoi(name.substr(l_at + 4));
            const std::string ps = "ps:" + name.substr(name.find(':', 3) + 1, l_at - name.find(':', 3) - 1) +
                                   ":l=" + std::to_string(l);
            const double factor = (l % 2 == 0 ? 1.0 : -1.0) * std::sqrt(2.0 * l + 1.0);
            worst_cg = std::max(
                worst_cg, std::abs(factor * cg_route(i, static_cast<Eigen::Index>(f)) - expected.at(ps)));
        }
    }
    CHECK(compared > 100);
    CHECK(worst_direct < 1e-10 * largest);
    CHECK(worst_cg < 1e-10 * largest);
}

TEST_CASE("a small cell and its 2×2×2 replica give the same per-atom features", "[features][periodic]") {
    const FeatureCalculator calculator(all_orders());
    const System small = random_periodic(6, 10);
    const Eigen::Index n = static_cast<Eigen::Index>(small.size());
    Eigen::Matrix3Xd positions(3, 8 * n);
    std::vector<int> z;
    int copy = 0;
    for (int a = 0; a < 2; ++a) {
        for (int b = 0; b < 2; ++b) {
            for (int c = 0; c < 2; ++c, ++copy) {
                const Eigen::Vector3d shift = small.cell() * Eigen::Vector3d(a, b, c);
                positions.middleCols(copy * n, n) = small.positions().colwise() + shift;
                z.insert(z.end(), small.atomic_numbers().begin(), small.atomic_numbers().end());
            }
        }
    }
    const System replica(z, positions, 2.0 * small.cell(), true);
    const FeatureMatrix reference = features_of(calculator, small);
    const FeatureMatrix big = features_of(calculator, replica);
    for (int k = 0; k < 8; ++k) {
        CHECK(columnwise_relative(big.middleRows(k * n, n), reference) < 1e-12);
    }
}

TEST_CASE("translating atoms by lattice vectors changes nothing", "[features][periodic]") {
    const FeatureCalculator calculator(all_orders());
    const System system = random_periodic(7, 11);
    Eigen::Matrix3Xd positions = system.positions();
    positions.col(0) += system.cell() * Eigen::Vector3d(1, -2, 1);
    positions.col(4) += system.cell() * Eigen::Vector3d(0, 3, -1);
    CHECK(columnwise_relative(features_of(calculator, with_positions(system, positions)),
                              features_of(calculator, system)) < 1e-12);
    // and a rigid translation of everything by an arbitrary vector
    positions = system.positions().colwise() + Eigen::Vector3d(0.37, -1.2, 2.9);
    CHECK(columnwise_relative(features_of(calculator, with_positions(system, positions)),
                              features_of(calculator, system)) < 1e-12);
}

TEST_CASE("energy and forces are continuous when an atom crosses the cutoff sphere", "[features][periodic]") {
    // O at the origin, H at 1 Å, a second H moving along x through r_c of the O (and, with
    // [1←1], through the 2 r_c reach of the first H's messages).
    const FeatureCalculator calculator(all_orders());
    const Eigen::MatrixXd w = random_weights(calculator, 71);
    auto energy_and_forces = [&](double x, Eigen::Matrix3Xd& forces) {
        Eigen::Matrix3Xd positions(3, 3);
        positions.col(0) << 0.0, 0.0, 0.0;
        positions.col(1) << -0.6, 0.8, 0.0;
        positions.col(2) << x, 0.3, 0.0;
        const System system({8, 1, 1}, positions, Eigen::Matrix3d::Zero(), false);
        auto workspace = calculator.workspace();
        Eigen::Matrix3d virial;
        return calculator.compute_linear(system, workspace, w, forces, virial);
    };
    const double crossing = std::sqrt(test_cutoff * test_cutoff - 0.3 * 0.3);
    for (double delta : {1e-4, 1e-6, 1e-8}) {
        Eigen::Matrix3Xd inside, outside;
        const double e_inside = energy_and_forces(crossing - delta, inside);
        const double e_outside = energy_and_forces(crossing + delta, outside);
        // f_c and f_c' vanish at r_c: E changes by O(δ³), F by O(δ²) (both × the scale of E)
        CHECK(std::abs(e_inside - e_outside) < 1e-2 * delta * delta * std::abs(e_outside) + 1e-13);
        CHECK(max_abs(inside - outside) < 10 * delta * max_abs(outside) + 1e-12);
    }
    // far outside: the moving atom no longer contributes forces at all
    Eigen::Matrix3Xd far;
    energy_and_forces(2.5 * test_cutoff, far);
    CHECK(far.col(2).norm() == 0.0);
}
