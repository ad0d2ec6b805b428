#pragma once
// Labels for training a correction to a baseline model (`chorus train --baseline`): the reference
// energy, forces and virial of each frame minus what the baseline predicts (its committee mean),
// so the trained committee learns ΔV = V_ref − V_b (science.md §5, weighted baseline).
#include <vector>

#include "chorus/engine/model.hpp"
#include "chorus/models/extxyz.hpp"

namespace chorus::models {

// Subtracts the baseline's mean prediction from every label the frame has (energy, forces, virial);
// frames without a label keep it absent. Throws InputError (naming the frame's line) when the
// baseline cannot evaluate a frame (species it does not know, for instance).
void subtract_baseline(std::vector<Frame>& frames, const engine::Model& baseline);

}  // namespace chorus::models
