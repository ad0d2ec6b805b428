#include "tensor_training_setup.hpp"

#include <string>

#include "chorus/error.hpp"
#include "chorus/models/training/train_committee.hpp"

namespace chorus::models::training::detail {

void refuse_contraction_fit(const features::FeatureSettings& features, std::string_view target) {
    if (!features.contraction_fit) {
        return;
    }
    const std::string name(target);
    throw ConfigError(
        name + " training: features.radial_basis.contraction = \"pca\" asks for a PCA fit of the " +
        "radial basis, which is available only for energy committees (`chorus train --target " +
        "energy`, the default). For a " + name + " model, give the contraction matrices " +
        "explicitly: copy the fitted `features.radial_basis.contraction` of an energy model file " +
        "trained with the same cutoff, radial basis, primitive_n_max (" +
        std::to_string(features.primitive_n_max) + "), n_max and l_max; or drop `contraction` " +
        "and `primitive_n_max` to use the primitive radial basis");
}

features::FeatureSettings tensor_training_features(const std::vector<LabelledFrame>& frames,
                                                   const DataSplit& split, const TrainSettings& settings,
                                                   std::string_view target, std::size_t suggested_members) {
    const std::string name(target);
    if (settings.members <= 3) {
        throw ConfigError(name + " training: committee.members = " + std::to_string(settings.members) +
                          "; the calibration α needs more than 3 members (science.md §5), use e.g. " +
                          std::to_string(suggested_members));
    }
    if (split.train.empty() || split.validation.empty()) {
        throw InputError(name + " training: " + std::to_string(split.train.size()) + " training and " +
                         std::to_string(split.validation.size()) +
                         " validation frames; both must be non-empty (more data or other split fractions)");
    }
    refuse_contraction_fit(settings.features, target);
    features::FeatureSettings features = settings.features;
    if (features.species.empty()) {
        features.species = species_in(frames);
    }
    return features;
}

}  // namespace chorus::models::training::detail
