#pragma once
// Small water-like structures and random linear committees shared by the linear-committee and
// training tests. Two species, H (1) and O (8); features kept small so that finite differences
// and training stay fast.
#include <cstddef>
#include <random>
#include <vector>

#include <Eigen/Core>
#include <Eigen/Geometry>

#include "chorus/engine/system.hpp"
#include "chorus/models/features/feature_calculator.hpp"
#include "chorus/models/linear_committee.hpp"

namespace chorus::test {

inline models::features::FeatureSettings small_water_features() {
    models::features::FeatureSettings s;
    s.cutoff = 3.5;
    s.cutoff_width = 1.0;
    s.species = {1, 8};
    s.nu1_n_max = 2;
    s.nu2 = models::features::OrderTruncation{3, 2};
    return s;
}

// `molecules` bent H2O molecules, randomly oriented, on a jittered cubic grid in a periodic
// cubic box of edge 3.1 Å per molecule-grid step (O H H order, like the shipped data).
inline engine::System random_water(int grid, std::mt19937_64& engine, bool periodic = true) {
    std::normal_distribution<double> jitter(0.0, 0.15);
    std::uniform_real_distribution<double> angle(0.0, 6.283185307179586);
    const double step = 3.1;
    std::vector<int> numbers;
    Eigen::Matrix3Xd positions(3, 3 * grid * grid * grid);
    Eigen::Index column = 0;
    for (int i = 0; i < grid; ++i) {
        for (int j = 0; j < grid; ++j) {
            for (int k = 0; k < grid; ++k) {
                const Eigen::Vector3d oxygen =
                    step * Eigen::Vector3d(i + 0.5, j + 0.5, k + 0.5) +
                    Eigen::Vector3d(jitter(engine), jitter(engine), jitter(engine));
                const double phi = angle(engine);
                const double theta = angle(engine) / 2.0;
                const Eigen::Vector3d axis(std::sin(theta) * std::cos(phi), std::sin(theta) * std::sin(phi),
                                           std::cos(theta));
                const Eigen::Vector3d other = axis.unitOrthogonal();
                const double half = 0.912;  // half of 104.5°
                const double bond = 0.96;
                numbers.insert(numbers.end(), {8, 1, 1});
                positions.col(column++) = oxygen;
                positions.col(column++) = oxygen + bond * (std::cos(half) * axis + std::sin(half) * other);
                positions.col(column++) =
                    oxygen + bond * (std::cos(half) * axis - std::sin(half) * other) +
                    Eigen::Vector3d(jitter(engine), jitter(engine), jitter(engine)) * 0.3;
            }
        }
    }
    const Eigen::Matrix3d cell = periodic ? Eigen::Matrix3d(Eigen::Matrix3d::Identity() * step * grid)
                                          : Eigen::Matrix3d(Eigen::Matrix3d::Zero());
    return engine::System(numbers, positions, cell, periodic);
}

// M members with random weights of a typical magnitude, baselines near −5 eV (O) and −2 eV (H).
inline models::LinearCommitteeParameters random_committee(std::size_t members, std::uint64_t seed,
                                                          double alpha = 1.0) {
    models::LinearCommitteeParameters p;
    p.features = small_water_features();
    const models::features::FeatureCalculator calculator(p.features);
    const auto species = static_cast<Eigen::Index>(calculator.species());
    const auto features = static_cast<Eigen::Index>(calculator.size());
    std::mt19937_64 engine(seed);
    std::normal_distribution<double> normal(0.0, 1.0);
    p.baselines.resize(species, static_cast<Eigen::Index>(members));
    for (std::size_t k = 0; k < members; ++k) {
        p.baselines(0, static_cast<Eigen::Index>(k)) = -2.0 + 0.01 * normal(engine);
        p.baselines(1, static_cast<Eigen::Index>(k)) = -5.0 + 0.01 * normal(engine);
        Eigen::MatrixXd w(species, features);
        for (Eigen::Index s = 0; s < species; ++s) {
            for (Eigen::Index j = 0; j < features; ++j) {
                w(s, j) = 0.05 * normal(engine);
            }
        }
        p.weights.push_back(w);
    }
    p.alpha = alpha;
    p.training = {{"note", "random test committee"}};
    return p;
}

}  // namespace chorus::test
