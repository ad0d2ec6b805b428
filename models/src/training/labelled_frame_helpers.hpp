#pragma once
// Small helpers shared by the energy, dipole and polarizability trainers (private to models/).
#include <cmath>
#include <cstddef>
#include <vector>

#include "chorus/models/extxyz.hpp"
#include "chorus/models/training/train_split.hpp"

namespace chorus::models::training::detail {

// The frames of a split, by index into the loaded data.
inline std::vector<const Frame*> frames_of(const std::vector<LabelledFrame>& frames,
                                           const std::vector<std::size_t>& indices) {
    std::vector<const Frame*> selected;
    selected.reserve(indices.size());
    for (const std::size_t i : indices) {
        selected.push_back(&frames[i].frame);
    }
    return selected;
}

// Population standard deviation (ddof 0): the reference spread errors are reported against.
inline double standard_deviation(const std::vector<double>& values) {
    if (values.size() < 2) {
        return 0.0;
    }
    double mean = 0.0;
    for (const double v : values) {
        mean += v;
    }
    mean /= static_cast<double>(values.size());
    double sum = 0.0;
    for (const double v : values) {
        sum += (v - mean) * (v - mean);
    }
    return std::sqrt(sum / static_cast<double>(values.size()));
}

inline double root_mean_square(const std::vector<double>& values) {
    double sum = 0.0;
    for (const double v : values) {
        sum += v * v;
    }
    return values.empty() ? 0.0 : std::sqrt(sum / static_cast<double>(values.size()));
}

}  // namespace chorus::models::training::detail
