#include "feature_layout.hpp"

#include <algorithm>

namespace chorus::models::features::detail {
namespace {

bool triangle(int l1, int l2, int l3) { return l3 >= std::abs(l1 - l2) && l3 <= l1 + l2; }

}  // namespace

FeatureLayout::FeatureLayout(const FeatureSettings& settings) {
    species = static_cast<int>(settings.species.size());
    n_pad = settings.density_n_max();
    l_max = settings.density_l_max();
    lm_size = static_cast<std::size_t>((l_max + 1) * (l_max + 1));
    lm_stride = static_cast<std::size_t>(species * n_pad);
    density_size = lm_stride * lm_size;

    nu1_offset = 0;
    nu1_n_max = settings.nu1_n_max.value_or(0);
    nu2_offset = nu1_offset + static_cast<std::size_t>(species * nu1_n_max);

    if (settings.nu2) {
        const auto [n_max, order_l_max] = *settings.nu2;
        nu2_l_max = order_l_max;
        auto wanted = [&](int a, int b) {
            if (settings.nu2_species_pairs.empty()) {
                return true;
            }
            const int za = settings.species[static_cast<std::size_t>(a)];
            const int zb = settings.species[static_cast<std::size_t>(b)];
            return std::any_of(
                settings.nu2_species_pairs.begin(), settings.nu2_species_pairs.end(),
                [&](const auto& p) { return (p[0] == za && p[1] == zb) || (p[0] == zb && p[1] == za); });
        };
        for (int a = 0; a < species; ++a) {
            for (int b = a; b < species; ++b) {
                if (!wanted(a, b)) {
                    continue;
                }
                for (int l = 0; l <= order_l_max; ++l) {
                    for (int n1 = 0; n1 < n_max; ++n1) {
                        for (int n2 = a == b ? n1 : 0; n2 < n_max; ++n2) {
                            nu2.push_back({static_cast<std::uint16_t>(a), static_cast<std::uint16_t>(b),
                                           static_cast<std::uint16_t>(l), static_cast<std::uint16_t>(n1),
                                           static_cast<std::uint16_t>(n2)});
                        }
                    }
                }
            }
        }
    }
    nu3_offset = nu2_offset + nu2.size();

    std::size_t nu3_size = 0;
    if (settings.nu3) {
        nu3_truncation = *settings.nu3;
        const int channels = species * nu3_truncation.n_max;
        const int lm = nu3_truncation.l_max;
        for (int k = 0; k < channels; ++k) {
            nu3_rows.push_back(density_row(k / nu3_truncation.n_max, k % nu3_truncation.n_max));
        }
        for (int l1 = 0; l1 <= lm; ++l1) {
            for (int l2 = l1; l2 <= lm; ++l2) {
                for (int l3 = l2; l3 <= lm; ++l3) {
                    if (!triangle(l1, l2, l3) || (l1 + l2 + l3) % 2 != 0) {
                        continue;
                    }
                    BispectrumTriple triple{l1, l2, l3, nu3_size, {}};
                    for (int k1 = 0; k1 < channels; ++k1) {
                        for (int k2 = l1 == l2 ? k1 : 0; k2 < channels; ++k2) {
                            for (int k3 = l2 == l3 ? k2 : 0; k3 < channels; ++k3) {
                                triple.ks.push_back({static_cast<std::uint16_t>(k1),
                                                     static_cast<std::uint16_t>(k2),
                                                     static_cast<std::uint16_t>(k3)});
                            }
                        }
                    }
                    nu3_size += triple.ks.size();
                    nu3.push_back(std::move(triple));
                }
            }
        }
    }
    mp_offset = nu3_offset + nu3_size;

    if (settings.message_passing) {
        mp_truncation = *settings.message_passing;
        const int lm = mp_truncation.l_max;
        const auto n = static_cast<std::size_t>(mp_truncation.n_max);
        for (int l1 = 0; l1 <= lm; ++l1) {
            for (int l2 = 0; l2 <= lm; ++l2) {
                for (int l3 = 0; l3 <= lm; ++l3) {
                    if (!triangle(l2, l3, l1) || (l1 + l2 + l3) % 2 != 0) {
                        continue;
                    }
                    mp_triple_offsets.push_back(mp_message_eb_size);
                    mp_triples.push_back({l1, l2, l3});
                    mp_message_eb_size += n * n * static_cast<std::size_t>(2 * l1 + 1);
                    mp_feature_eb_size += n * n * n;
                }
            }
        }
        mp_message_size = mp_message_eb_size * static_cast<std::size_t>(species * species);
    }
    size = mp_offset + mp_feature_eb_size * static_cast<std::size_t>(species * species * species);
}

std::vector<EquivariantEntry> FeatureLayout::equivariant(const FeatureSettings& settings, int lambda) const {
    std::vector<EquivariantEntry> entries;
    if (!settings.lambda_soap) {
        return entries;
    }
    const auto [n_max, lm] = *settings.lambda_soap;
    for (int l1 = 0; l1 <= lm; ++l1) {
        for (int l2 = l1; l2 <= lm; ++l2) {
            if (!triangle(l1, l2, lambda) || (l1 + l2 + lambda) % 2 != 0) {
                continue;
            }
            for (int a = 0; a < species; ++a) {
                for (int n1 = 0; n1 < n_max; ++n1) {
                    for (int b = 0; b < species; ++b) {
                        for (int n2 = 0; n2 < n_max; ++n2) {
                            // equal l: the coupling is symmetric in the two factors (even λ), keep one order
                            if (l1 == l2 && b * n_max + n2 < a * n_max + n1) {
                                continue;
                            }
                            entries.push_back({static_cast<std::uint16_t>(a), static_cast<std::uint16_t>(b),
                                               static_cast<std::uint16_t>(l1), static_cast<std::uint16_t>(l2),
                                               static_cast<std::uint16_t>(n1),
                                               static_cast<std::uint16_t>(n2)});
                        }
                    }
                }
            }
        }
    }
    return entries;
}

}  // namespace chorus::models::features::detail
