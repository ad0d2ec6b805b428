#pragma once
// Synthetic training data shaped like the real thing: per structure one energy-per-atom row
// (species fractions in the baseline columns, then features) and 3N force-component rows (zero
// baseline columns), targets from known weights plus optional Gaussian noise.
#include <cstddef>
#include <random>
#include <vector>

#include <Eigen/Core>
#include <Eigen/QR>

namespace chorus::test {

struct StructureRows {
    Eigen::MatrixXd design;
    Eigen::VectorXd targets;
    Eigen::VectorXd weights;
};

struct LinearProblem {
    Eigen::VectorXd truth;
    std::vector<StructureRows> structures;
};

struct LinearProblemShape {
    std::size_t structures = 20;
    Eigen::Index baselines = 2;  // species
    Eigen::Index features = 8;
    double noise = 0.0;
    double energy_weight = 4.0;  // per energy row; force rows weigh 1
    // Every structure has species fractions (1/3, 2/3) (liquid water) instead of random ones.
    bool water_like = false;
};

inline LinearProblem linear_problem(const LinearProblemShape& shape, unsigned seed) {
    std::mt19937_64 generator(seed);
    std::normal_distribution<double> normal;
    std::uniform_int_distribution<int> atoms_per_structure(2, 5);
    const Eigen::Index columns = shape.baselines + shape.features;

    LinearProblem problem;
    problem.truth.resize(columns);
    for (Eigen::Index j = 0; j < columns; ++j) {
        // Baselines large and of either sign, as atomic reference energies are.
        problem.truth[j] = j < shape.baselines ? -10.0 * (1.0 + static_cast<double>(j)) : normal(generator);
    }
    for (std::size_t s = 0; s < shape.structures; ++s) {
        const int atoms = shape.water_like ? 3 : atoms_per_structure(generator);
        const Eigen::Index rows = 1 + 3 * atoms;
        StructureRows block;
        block.design = Eigen::MatrixXd::Zero(rows, columns);
        if (shape.water_like) {
            block.design(0, 0) = 1.0 / 3.0;
            block.design(0, 1) = 2.0 / 3.0;
        } else if (shape.baselines > 0) {
            std::uniform_int_distribution<Eigen::Index> species(0, shape.baselines - 1);
            for (int atom = 0; atom < atoms; ++atom) {
                block.design(0, species(generator)) += 1.0 / atoms;
            }
        }
        for (Eigen::Index row = 0; row < rows; ++row) {
            for (Eigen::Index j = shape.baselines; j < columns; ++j) {
                block.design(row, j) = normal(generator);
            }
        }
        block.targets = block.design * problem.truth;
        for (Eigen::Index row = 0; row < rows; ++row) {
            block.targets[row] += shape.noise * normal(generator);
        }
        block.weights = Eigen::VectorXd::Ones(rows);
        block.weights[0] = shape.energy_weight;
        problem.structures.push_back(std::move(block));
    }
    return problem;
}

// All rows of the given structures in one dense matrix, for one-shot reference solutions.
inline StructureRows stacked(const std::vector<StructureRows>& structures) {
    Eigen::Index rows = 0;
    for (const auto& s : structures) {
        rows += s.design.rows();
    }
    StructureRows all;
    all.design.resize(rows, structures.front().design.cols());
    all.targets.resize(rows);
    all.weights.resize(rows);
    Eigen::Index row = 0;
    for (const auto& s : structures) {
        all.design.middleRows(row, s.design.rows()) = s.design;
        all.targets.segment(row, s.design.rows()) = s.targets;
        all.weights.segment(row, s.design.rows()) = s.weights;
        row += s.design.rows();
    }
    return all;
}

// Ridge solution without normal equations: least squares on [√W A; √P] x ≈ [√W b; 0] by
// column-pivoting Householder QR, an independent route to the same minimiser.
inline Eigen::VectorXd ridge_by_qr(const StructureRows& rows, const Eigen::VectorXd& penalty) {
    const Eigen::Index n = rows.design.rows();
    const Eigen::Index f = rows.design.cols();
    Eigen::MatrixXd augmented = Eigen::MatrixXd::Zero(n + f, f);
    Eigen::VectorXd rhs = Eigen::VectorXd::Zero(n + f);
    const Eigen::VectorXd root = rows.weights.cwiseSqrt();
    augmented.topRows(n) = root.asDiagonal() * rows.design;
    augmented.bottomRows(f).diagonal() = penalty.cwiseSqrt();
    rhs.head(n) = root.cwiseProduct(rows.targets);
    return augmented.colPivHouseholderQr().solve(rhs);
}

}  // namespace chorus::test
