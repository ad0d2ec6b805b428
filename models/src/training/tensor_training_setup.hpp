#pragma once
// What the dipole and polarizability trainers check and settle before their own feature transform
// (dipole_feature_settings, polarizability_feature_settings), written once for both.
//
// Only the energy trainer fits a PCA radial contraction on its training frames (train_committee.cpp):
// the tensor trainers refuse a pending fit up front, so that the user reads what to do instead of
// the feature calculator's generic "only `chorus train` can fit it", which is wrong for a user who
// ran `chorus train --target dipole`.
#include <cstddef>
#include <string_view>
#include <vector>

#include "chorus/models/features/feature_settings.hpp"
#include "chorus/models/training/train_settings.hpp"
#include "chorus/models/training/train_split.hpp"

namespace chorus::models::training::detail {

// Throws ConfigError when `features` asks for "contraction": "pca". `target` is the trainer's
// --target ("dipole", "polarizability"), named in the message.
void refuse_contraction_fit(const features::FeatureSettings& features, std::string_view target);

// The feature settings a tensor trainer starts from: settings.features, with the species of the
// frames when it names none. Throws ConfigError for 3 members or fewer (α needs more; the message
// suggests `suggested_members`), for a pending PCA fit (above), and InputError for an empty
// training or validation set. Messages start with "<target> training:".
features::FeatureSettings tensor_training_features(const std::vector<LabelledFrame>& frames,
                                                   const DataSplit& split, const TrainSettings& settings,
                                                   std::string_view target, std::size_t suggested_members);

}  // namespace chorus::models::training::detail
