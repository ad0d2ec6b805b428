// The dipole and polarizability trainers' refusal of "contraction": "pca" (contraction_fit_refusal.hpp).
#include "contraction_fit_refusal.hpp"

#include <string>

#include "chorus/error.hpp"

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

}  // namespace chorus::models::training::detail
