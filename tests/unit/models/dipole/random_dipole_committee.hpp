#pragma once
// A dipole committee with random weights on small λ = 1 features (r_c 4 Å, H and O; n_max 3,
// l_max 2 unless a test asks for others), shared by the models and server tests: they are about
// identities and layouts, not about a physical dipole, so any weights do.
#include <cstddef>
#include <cstdint>
#include <random>

#include "chorus/models/dipole/dipole_committee.hpp"
#include "chorus/models/features/feature_settings.hpp"

namespace chorus::test {

inline models::features::FeatureSettings small_dipole_features(int n_max = 3, int l_max = 2) {
    models::features::FeatureSettings s;
    s.cutoff = 4.0;
    s.cutoff_width = 1.0;
    s.species = {1, 8};
    s.lambda_soap = models::features::OrderTruncation{n_max, l_max};
    s.lambda_soap_lambdas = {1};
    return s;
}

// Weights drawn from N(0, 1), member by member, from one generator seeded with `seed`.
inline models::dipole::DipoleCommitteeParameters random_dipole_parameters(
    const models::features::FeatureSettings& features, std::size_t members, std::uint64_t seed,
    double alpha) {
    std::mt19937_64 engine(seed);
    std::normal_distribution<double> normal(0.0, 1.0);
    const auto q = static_cast<Eigen::Index>(models::features::equivariant_feature_names(features, 1).size());
    models::dipole::DipoleCommitteeParameters p;
    p.features = features;
    for (std::size_t k = 0; k < members; ++k) {
        Eigen::MatrixXd w(2, q);
        for (Eigen::Index i = 0; i < w.size(); ++i) {
            w.data()[i] = normal(engine);
        }
        p.weights.push_back(w);
    }
    p.alpha = alpha;
    return p;
}

inline models::dipole::DipoleCommitteeParameters random_dipole_parameters(std::size_t members,
                                                                          std::uint64_t seed, double alpha) {
    return random_dipole_parameters(small_dipole_features(), members, seed, alpha);
}

}  // namespace chorus::test
