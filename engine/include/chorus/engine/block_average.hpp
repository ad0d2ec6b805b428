#pragma once
// The statistical error of the mean of a correlated time series, by blocking (Flyvbjerg &
// Petersen, J. Chem. Phys. 91, 461 (1989)): averaging neighbouring pairs again and again leaves
// the mean unchanged while the block means decorrelate, so the naive standard error of the block
// means rises to a plateau, the true error. Where the plateau starts is chosen by the test of
// Jonsson, Phys. Rev. E 98, 043304 (2018): the smallest level from which on the lag-1
// autocorrelations of the block means are, together, consistent with zero (χ² test at 99 %),
// then one level further (the test's level is still low by about τ_int / block size; see
// block_average.cpp), unless fewer than `reliable_blocks` blocks would remain.
#include <cstddef>
#include <vector>

#include <Eigen/Core>

namespace chorus::engine {

// One blocking level: the series cut into `blocks` blocks of `block_size` consecutive samples.
struct BlockingLevel {
    std::size_t block_size = 1;
    std::size_t blocks = 0;
    double standard_error = 0.0;  // sqrt(var_ddof1(block means) / blocks)
    double standard_error_spread =
        0.0;  // its own statistical uncertainty, standard_error / sqrt(2 (blocks − 1))
    double lag1_correlation = 0.0;  // of neighbouring block means
};

struct BlockAverage {
    double mean = 0.0;            // of the whole series
    double standard_error = 0.0;  // of `mean`, at the chosen level
    std::size_t block_size = 1;   // chosen level
    std::size_t blocks = 0;       // chosen level
    // False when the chosen level has fewer than `reliable_blocks` blocks: the series is not much
    // longer than its correlation time, and the error is itself uncertain by more than ~13 %.
    bool reliable = false;
    std::vector<BlockingLevel> levels;  // every level, block size 1, 2, 4, … (for plots and reports)
};

// Fewest blocks at the chosen level for BlockAverage::reliable.
inline constexpr std::size_t reliable_blocks = 32;

// Blocks `series` (at least 2 samples, all finite; InputError otherwise). When a level has an odd
// number of blocks, the last one is left out of the next level: every block of a level has the
// same length, which the χ² test assumes.
BlockAverage block_average(const Eigen::Ref<const Eigen::VectorXd>& series);

}  // namespace chorus::engine
