#pragma once
// Only the energy trainer fits a PCA radial contraction on its training frames (train_committee.cpp).
// The dipole and polarizability trainers refuse a pending fit up front, so that the user reads what
// to do instead of the feature calculator's generic "only `chorus train` can fit it", which is
// wrong for a user who ran `chorus train --target dipole`.
#include <string_view>

#include "chorus/models/features/feature_settings.hpp"

namespace chorus::models::training::detail {

// Throws ConfigError when `features` asks for "contraction": "pca". `target` is the trainer's
// --target ("dipole", "polarizability"), named in the message.
void refuse_contraction_fit(const features::FeatureSettings& features, std::string_view target);

}  // namespace chorus::models::training::detail
