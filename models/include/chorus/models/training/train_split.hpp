#pragma once
// The split of labelled frames into training, validation and held-out test frames. Test frames
// are drawn first and never used for training, the regulariser or α; validation frames are drawn
// from the rest. Both draws are made within each group (same file, same value of the group key,
// e.g. `source`), so each kind of sampling is represented in every set in proportion.
// Reproducible: a group's draws depend only on the seed and the group's position in the data.
#include <cstdint>
#include <string>
#include <vector>

#include "chorus/models/extxyz.hpp"
#include "chorus/models/training/train_settings.hpp"

namespace chorus::models::training {

// A frame of the training data and where it came from.
struct LabelledFrame {
    Frame frame;
    std::size_t file = 0;   // index of the --data file
    std::size_t index = 0;  // 0-based frame index within that file
};

struct DataSplit {
    // Indices into the frame list, ascending.
    std::vector<std::size_t> train;
    std::vector<std::size_t> validation;
    std::vector<std::size_t> test;
};

// Throws InputError when fractions are outside [0, 1) or nothing is left to train on.
DataSplit split_frames(const std::vector<LabelledFrame>& frames, const SplitSettings& settings,
                       std::uint64_t seed);

}  // namespace chorus::models::training
