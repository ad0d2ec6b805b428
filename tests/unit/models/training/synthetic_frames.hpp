#pragma once
// Training frames labelled by a known linear model (member 0 of a random committee on small water
// features): energy, forces and virial of random two-water cells, in two `source` groups ("hot"
// every third frame, "cold" the rest), so that any fit on the same features can be exact.
#include <cstddef>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "../linear_committee_support.hpp"
#include "chorus/models/training/train_committee.hpp"

namespace chorus::test {

inline std::vector<models::training::LabelledFrame> synthetic_frames(std::size_t count, std::uint64_t seed) {
    const models::LinearCommittee truth(random_committee(1, seed));
    std::mt19937_64 engine(seed + 1);
    std::vector<models::training::LabelledFrame> frames;
    for (std::size_t i = 0; i < count; ++i) {
        models::Frame frame{random_water(2, engine), {}, {}, {}, {}, {}, 0};
        engine::CommitteeResult result;
        truth.evaluate(frame.system, {}, result);
        frame.energy = result.energy;
        frame.forces = result.forces;
        frame.virial = result.virial;
        frame.info["source"] = i % 3 == 0 ? "hot" : "cold";
        frames.push_back({std::move(frame), 0, i});
    }
    return frames;
}

}  // namespace chorus::test
