#include "chorus/engine/block_average.hpp"

#include <cmath>
#include <string>

#include "chorus/error.hpp"

namespace chorus::engine {
namespace {

// Upper 99 % quantile of χ² with `dof` degrees of freedom, by the Wilson–Hilferty cube-root
// approximation (within 1 % of the exact value from 1 degree of freedom on, far below the
// statistical noise of the statistic it is compared with).
double chi_squared_99(std::size_t dof) {
    constexpr double z_99 = 2.3263478740408408;  // standard normal 99 % quantile
    const double k = static_cast<double>(dof);
    const double c = 2.0 / (9.0 * k);
    return k * std::pow(1.0 - c + z_99 * std::sqrt(c), 3);
}

BlockingLevel measure(const Eigen::VectorXd& blocks, std::size_t block_size) {
    const auto n = static_cast<std::size_t>(blocks.size());
    const Eigen::ArrayXd centred = blocks.array() - blocks.mean();
    const double variance = centred.square().sum() / static_cast<double>(n);  // ddof 0
    const double lag1 = (centred.head(n - 1) * centred.tail(n - 1)).sum() / static_cast<double>(n);

    BlockingLevel level;
    level.block_size = block_size;
    level.blocks = n;
    level.standard_error = std::sqrt(variance / static_cast<double>(n - 1));
    level.standard_error_spread = level.standard_error / std::sqrt(2.0 * static_cast<double>(n - 1));
    // A constant series has no correlation to speak of (and 0/0 would poison the χ² sum).
    level.lag1_correlation = variance > 0.0 ? lag1 / variance : 0.0;
    return level;
}

}  // namespace

BlockAverage block_average(const Eigen::Ref<const Eigen::VectorXd>& series) {
    if (series.size() < 2) {
        throw InputError("block averaging needs at least 2 samples, got " + std::to_string(series.size()) +
                         "; give a longer series");
    }
    if (!series.allFinite()) {
        throw InputError("block averaging: the series contains NaN or infinite values; remove those frames");
    }

    BlockAverage result;
    result.mean = series.mean();
    Eigen::VectorXd blocks = series;
    std::size_t block_size = 1;
    while (blocks.size() >= 2) {
        result.levels.push_back(measure(blocks, block_size));
        const Eigen::Index halves = blocks.size() / 2;
        Eigen::VectorXd next(halves);
        for (Eigen::Index k = 0; k < halves; ++k) {
            next[k] = 0.5 * (blocks[2 * k] + blocks[2 * k + 1]);
        }
        blocks = std::move(next);
        block_size *= 2;
    }

    // Jonsson's statistic from level j on: Σ_{l ≥ j} n_l ρ_l², χ²-distributed with (levels − j)
    // degrees of freedom when the block means of all those levels are uncorrelated. The first
    // level that passes is where the plateau starts; the coarsest level always passes in practice.
    const std::size_t count = result.levels.size();
    std::vector<double> statistic(count + 1, 0.0);
    for (std::size_t j = count; j-- > 0;) {
        const BlockingLevel& level = result.levels[j];
        statistic[j] = statistic[j + 1] +
                       static_cast<double>(level.blocks) * level.lag1_correlation * level.lag1_correlation;
    }
    std::size_t chosen = count - 1;
    for (std::size_t j = 0; j < count; ++j) {
        if (statistic[j] < chi_squared_99(count - j)) {
            chosen = j;
            break;
        }
    }
    // The test passes once the neighbour correlation of the block means, about τ_int / B, falls
    // below what `blocks` samples can detect; the error is then still low by about that fraction
    // (10 % for AR(1) with τ_int = 50 at B = 256). One more doubling halves that bias for a
    // √2 noisier error, as long as enough blocks remain for the error to mean something.
    if (chosen > 0 && chosen + 1 < count && result.levels[chosen + 1].blocks >= reliable_blocks) {
        ++chosen;
    }

    const BlockingLevel& level = result.levels[chosen];
    result.standard_error = level.standard_error;
    result.block_size = level.block_size;
    result.blocks = level.blocks;
    result.reliable = level.blocks >= reliable_blocks;
    return result;
}

}  // namespace chorus::engine
