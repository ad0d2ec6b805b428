#pragma once
// Structures, settings and the random linear model E = Σ_i w^{(a_i)} · X(i) shared by the
// FeatureCalculator tests. Two species, O (8) and H (1); sizes kept small so that finite
// differences over every coordinate stay fast.
#include <Eigen/Core>
#include <Eigen/Geometry>
#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "chorus/engine/system.hpp"
#include "chorus/models/features/feature_calculator.hpp"

namespace chorus::test {

using chorus::engine::System;
using chorus::models::features::FeatureCalculator;
using chorus::models::features::FeatureMatrix;
using chorus::models::features::FeatureSettings;
using chorus::models::features::OrderTruncation;

inline constexpr double test_cutoff = 3.5;

// Every order enabled, small truncations. Individual tests switch orders off.
inline FeatureSettings all_orders() {
    FeatureSettings s;
    s.cutoff = test_cutoff;
    s.cutoff_width = 1.0;
    s.species = {8, 1};
    s.nu1_n_max = 3;
    s.nu2 = OrderTruncation{4, 4};
    s.nu3 = OrderTruncation{2, 2};
    s.message_passing = OrderTruncation{2, 1};
    s.lambda_soap = OrderTruncation{3, 3};
    s.lambda_soap_lambdas = {1, 2, 3};
    return s;
}

inline FeatureSettings only_nu2() {
    auto s = all_orders();
    s.nu1_n_max.reset();
    s.nu3.reset();
    s.message_passing.reset();
    return s;
}

inline FeatureSettings only_nu3() {
    auto s = all_orders();
    s.nu1_n_max.reset();
    s.nu2.reset();
    s.message_passing.reset();
    return s;
}

inline FeatureSettings only_message_passing() {
    auto s = all_orders();
    s.nu1_n_max.reset();
    s.nu2.reset();
    s.nu3.reset();
    return s;
}

// Atoms at least `closest` apart, uniformly in a box of edge `box` (Å).
inline Eigen::Matrix3Xd random_positions(std::size_t count, double box, double closest,
                                         std::mt19937_64& engine) {
    std::uniform_real_distribution<double> uniform(0.0, box);
    Eigen::Matrix3Xd positions(3, static_cast<Eigen::Index>(count));
    std::size_t placed = 0;
    while (placed < count) {
        const Eigen::Vector3d r(uniform(engine), uniform(engine), uniform(engine));
        bool ok = true;
        for (std::size_t k = 0; k < placed && ok; ++k) {
            ok = (positions.col(static_cast<Eigen::Index>(k)) - r).norm() > closest;
        }
        if (ok) {
            positions.col(static_cast<Eigen::Index>(placed++)) = r;
        }
    }
    return positions;
}

inline std::vector<int> water_species(std::size_t count) {
    std::vector<int> z(count);
    for (std::size_t i = 0; i < count; ++i) {
        z[i] = i % 3 == 0 ? 8 : 1;
    }
    return z;
}

// A non-periodic cluster, dense enough that most atoms see several neighbours within r_c.
inline System random_cluster(std::size_t count, unsigned seed) {
    std::mt19937_64 engine(seed);
    return System(water_species(count), random_positions(count, 4.5, 0.9, engine), Eigen::Matrix3d::Zero(),
                  false);
}

// A small triclinic cell (edges ≈ 4 Å < 2 r_c): atoms see their own periodic images.
inline Eigen::Matrix3d small_triclinic_cell() {
    Eigen::Matrix3d cell;
    cell.col(0) << 4.1, 0.0, 0.0;
    cell.col(1) << 0.7, 3.9, 0.0;
    cell.col(2) << -0.4, 0.5, 4.3;
    return cell;
}

inline System random_periodic(std::size_t count, unsigned seed) {
    std::mt19937_64 engine(seed);
    const Eigen::Matrix3d cell = small_triclinic_cell();
    // fractional coordinates → Cartesian, keeping atoms apart under the minimum image
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    Eigen::Matrix3Xd positions(3, static_cast<Eigen::Index>(count));
    std::size_t placed = 0;
    while (placed < count) {
        const Eigen::Vector3d r = cell * Eigen::Vector3d(uniform(engine), uniform(engine), uniform(engine));
        bool ok = true;
        for (std::size_t k = 0; k < placed && ok; ++k) {
            Eigen::Vector3d fractional = cell.inverse() * (positions.col(static_cast<Eigen::Index>(k)) - r);
            fractional = fractional.array() - fractional.array().round();
            ok = (cell * fractional).norm() > 0.9;
        }
        if (ok) {
            positions.col(static_cast<Eigen::Index>(placed++)) = r;
        }
    }
    return System(water_species(count), positions, cell, true);
}

inline Eigen::Matrix3d random_rotation(std::mt19937_64& engine) {
    std::normal_distribution<double> normal;
    Eigen::Quaterniond q(normal(engine), normal(engine), normal(engine), normal(engine));
    return q.normalized().toRotationMatrix();
}

inline System transformed(const System& system, const Eigen::Matrix3d& transform) {
    return System(system.atomic_numbers(), transform * system.positions(), transform * system.cell(),
                  system.periodic());
}

inline System with_positions(const System& system, const Eigen::Matrix3Xd& positions) {
    return System(system.atomic_numbers(), positions, system.cell(), system.periodic());
}

// Central differences over every coordinate of a scalar E(system): −∂E/∂r. h = 1e-5 keeps the
// O(h²) error far below 1e-6 relative and rounding (ε E / h ≈ 1e-11) too.
template <typename Scalar>
Eigen::Matrix3Xd finite_difference_forces(const System& system, Scalar energy) {
    constexpr double h = 1e-5;
    Eigen::Matrix3Xd forces(3, static_cast<Eigen::Index>(system.size()));
    for (Eigen::Index j = 0; j < forces.cols(); ++j) {
        for (int d = 0; d < 3; ++d) {
            Eigen::Matrix3Xd plus = system.positions();
            Eigen::Matrix3Xd minus = system.positions();
            plus(d, j) += h;
            minus(d, j) -= h;
            forces(d, j) =
                -(energy(with_positions(system, plus)) - energy(with_positions(system, minus))) / (2 * h);
        }
    }
    return forces;
}

// W = −∂E/∂ε with positions and cell strained together, r → (1 + ε) r.
template <typename Scalar>
Eigen::Matrix3d finite_strain_virial(const System& system, Scalar energy) {
    constexpr double h = 1e-6;
    Eigen::Matrix3d virial;
    for (int a = 0; a < 3; ++a) {
        for (int b = 0; b < 3; ++b) {
            Eigen::Matrix3d plus = Eigen::Matrix3d::Identity();
            Eigen::Matrix3d minus = Eigen::Matrix3d::Identity();
            plus(a, b) += h;
            minus(a, b) -= h;
            virial(a, b) =
                -(energy(transformed(system, plus)) - energy(transformed(system, minus))) / (2 * h);
        }
    }
    return virial;
}

// Random per-species weights, scaled so that energies are O(1).
inline Eigen::MatrixXd random_weights(const FeatureCalculator& calculator, unsigned seed) {
    std::mt19937_64 engine(seed);
    std::uniform_real_distribution<double> uniform(-1.0, 1.0);
    Eigen::MatrixXd w(static_cast<Eigen::Index>(calculator.species()),
                      static_cast<Eigen::Index>(calculator.size()));
    for (Eigen::Index i = 0; i < w.size(); ++i) {
        w.data()[i] = uniform(engine);
    }
    return w;
}

// The random linear model, evaluated independently of compute_linear: from compute() alone.
inline double linear_energy(const FeatureCalculator& calculator, const System& system,
                            const Eigen::MatrixXd& w) {
    auto workspace = calculator.workspace();
    FeatureMatrix x;
    calculator.compute(system, workspace, x);
    double energy = 0.0;
    for (std::size_t i = 0; i < system.size(); ++i) {
        const int channel = calculator.settings().channel(system.atomic_numbers()[i]);
        energy += w.row(channel).dot(x.row(static_cast<Eigen::Index>(i)));
    }
    return energy;
}

inline double max_abs(const Eigen::MatrixXd& m) { return m.cwiseAbs().maxCoeff(); }

// max |a − b| / max |b|: "relative" for whole arrays, robust to entries that happen to be ~0.
inline double relative_difference(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
    return max_abs(a - b) / max_abs(b);
}

// Largest |a − b| per column over the column's largest |b|: every feature is compared on its own
// scale, so small ν = 3 or [1←1] features are held to the same relative standard as large ones.
inline double columnwise_relative(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
    double worst = 0.0;
    for (Eigen::Index f = 0; f < b.cols(); ++f) {
        const double scale = b.col(f).cwiseAbs().maxCoeff();
        if (scale > 1e-300) {
            worst = std::max(worst, (a.col(f) - b.col(f)).cwiseAbs().maxCoeff() / scale);
        }
    }
    return worst;
}

// The features of one structure, with a workspace of its own.
inline FeatureMatrix features_of(const FeatureCalculator& calculator, const System& system) {
    auto workspace = calculator.workspace();
    FeatureMatrix x;
    calculator.compute(system, workspace, x);
    return x;
}

}  // namespace chorus::test
