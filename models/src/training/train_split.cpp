#include "chorus/models/training/train_split.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <utility>

#include "chorus/error.hpp"
#include "chorus/models/training/committee_training.hpp"

namespace chorus::models::training {
namespace {

// round(fraction · n) of `members`, drawn with draw_committee_subsets (one "member"): that draw
// is already fixed across platforms for a seed, which is what a recorded split needs.
std::vector<std::size_t> draw(const std::vector<std::size_t>& members, double fraction, std::uint64_t seed) {
    const auto count = static_cast<std::size_t>(std::llround(fraction * static_cast<double>(members.size())));
    if (count == 0) {
        return {};
    }
    const double exact = static_cast<double>(count) / static_cast<double>(members.size());
    const auto positions =
        draw_committee_subsets(members.size(), {.members = 1, .fraction = exact, .seed = seed});
    std::vector<std::size_t> chosen;
    chosen.reserve(positions.front().size());
    for (const std::size_t position : positions.front()) {
        chosen.push_back(members[position]);
    }
    return chosen;
}

std::vector<std::size_t> without(const std::vector<std::size_t>& all,
                                 const std::vector<std::size_t>& removed) {
    std::vector<std::size_t> rest;
    std::set_difference(all.begin(), all.end(), removed.begin(), removed.end(), std::back_inserter(rest));
    return rest;
}

}  // namespace

DataSplit split_frames(const std::vector<LabelledFrame>& frames, const SplitSettings& settings,
                       std::uint64_t seed) {
    if (!(settings.test_fraction >= 0.0 && settings.test_fraction < 1.0) ||
        !(settings.validation_fraction > 0.0 && settings.validation_fraction < 1.0)) {
        throw InputError("split fractions must satisfy 0 ≤ test < 1 and 0 < validation < 1, got test " +
                         std::to_string(settings.test_fraction) + ", validation " +
                         std::to_string(settings.validation_fraction));
    }
    // Groups in order of first appearance, so that the split does not depend on how the group
    // names sort.
    std::vector<std::pair<std::size_t, std::string>> order;
    std::map<std::pair<std::size_t, std::string>, std::vector<std::size_t>> groups;
    for (std::size_t i = 0; i < frames.size(); ++i) {
        const auto& info = frames[i].frame.info;
        const auto found = info.find(settings.group_key);
        std::pair<std::size_t, std::string> key{frames[i].file,
                                                found == info.end() ? std::string() : found->second};
        auto [entry, inserted] = groups.try_emplace(key);
        if (inserted) {
            order.push_back(key);
        }
        entry->second.push_back(i);
    }
    DataSplit split;
    for (std::size_t g = 0; g < order.size(); ++g) {
        const std::vector<std::size_t>& members = groups.at(order[g]);
        // Distinct streams per group and per draw; the constants only decorrelate the seeds.
        const std::uint64_t group_seed = seed * 0x9E3779B97F4A7C15ull + 2 * g;
        const std::vector<std::size_t> test = draw(members, settings.test_fraction, group_seed);
        const std::vector<std::size_t> rest = without(members, test);
        const std::vector<std::size_t> validation = draw(rest, settings.validation_fraction, group_seed + 1);
        const std::vector<std::size_t> train = without(rest, validation);
        split.test.insert(split.test.end(), test.begin(), test.end());
        split.validation.insert(split.validation.end(), validation.begin(), validation.end());
        split.train.insert(split.train.end(), train.begin(), train.end());
    }
    std::sort(split.train.begin(), split.train.end());
    std::sort(split.validation.begin(), split.validation.end());
    std::sort(split.test.begin(), split.test.end());
    if (split.train.empty() || split.validation.empty()) {
        throw InputError("the split of " + std::to_string(frames.size()) + " frames left " +
                         std::to_string(split.train.size()) + " for training and " +
                         std::to_string(split.validation.size()) +
                         " for validation; both need frames: give more data or change split fractions");
    }
    return split;
}

}  // namespace chorus::models::training
