#pragma once
// The enumeration of every feature of a FeatureSettings, shared by feature_names() and the
// kernels so that names and values cannot drift apart. Orders and loop nesting are documented in
// feature_settings.hpp; this file turns them into flat tables the kernels walk.
//
// Density layout (per centre): c[lm·lm_stride + a·n_pad + n], lm = l² + l + m (all (l, m) with
// l ≤ l_max), a the species channel, n < n_pad (the largest n_max of all orders), lm_stride =
// species·n_pad. For each (l, m) the S·n_pad radial-species channels are contiguous: every hot loop
// (density accumulation, the power spectrum as Σ_m c_m c_mᵀ, the contraction over n in the pair
// gradients) then runs over a contiguous vector of length n_pad or S·n_pad, which vectorises.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "chorus/models/features/feature_settings.hpp"

namespace chorus::models::features::detail {

// Index of (l, m = −l) in the (l, m) rows of a density: rows l² … l² + 2l.
inline std::size_t lm_start(int l) { return static_cast<std::size_t>(l * l); }

struct PowerSpectrumEntry {
    std::uint16_t a, b, l, n1, n2;
};

// One (l1, l2, l3) triple of the bispectrum and its features k1, k2, k3 (channels k = a·n_max + n).
struct BispectrumTriple {
    int l1, l2, l3;
    std::size_t first;                             // index of its first feature in the ν = 3 block
    std::vector<std::array<std::uint16_t, 3>> ks;  // in feature order
};

// One (l1, l2, l3) triple of the [1←1] features: l1 the centre's l (= the coupled λ), l2 the
// neighbour density's l, l3 the bond's.
struct MessageTriple {
    int l1, l2, l3;
};

struct EquivariantEntry {
    std::uint16_t a, b, l1, l2, n1, n2;
};

struct FeatureLayout {
    explicit FeatureLayout(const FeatureSettings& settings);

    int species = 0;
    int n_pad = 0;            // density rows per species
    int l_max = 0;            // density l_max
    std::size_t lm_size = 0;  // (l_max+1)²
    std::size_t density_size = 0;

    std::size_t lm_stride = 0;  // species·n_pad

    // Index of c^a_{n, lm=0}; add lm·lm_stride for other (l, m).
    std::size_t density_row(int a, int n) const { return static_cast<std::size_t>(a * n_pad + n); }

    // Offsets of the blocks in the invariant vector; each block's size is next offset − this one.
    std::size_t nu1_offset = 0, nu2_offset = 0, nu3_offset = 0, mp_offset = 0, size = 0;

    int nu1_n_max = 0;
    std::vector<PowerSpectrumEntry> nu2;
    int nu2_l_max = -1;

    OrderTruncation nu3_truncation;
    std::vector<BispectrumTriple> nu3;
    // Density row of each ν = 3 channel k = a·n_max + n (a table: the kernels look it up per feature).
    std::vector<std::size_t> nu3_rows;

    // [1←1]: messages M(i) indexed [e][b][triple][n2][n3][μ], features [a][e][b][triple][n1][n2][n3].
    OrderTruncation mp_truncation;
    std::vector<MessageTriple> mp_triples;
    std::vector<std::size_t>
        mp_triple_offsets;  // per triple, offset of its n2·n3·(2l1+1) message block within one (e, b)
    std::size_t mp_message_eb_size = 0;  // one (e, b) slice of M
    std::size_t mp_message_size = 0;     // all of M
    std::size_t mp_feature_eb_size = 0;  // features of one (a, e, b)

    std::size_t message_offset(int e, int b, std::size_t triple) const {
        return static_cast<std::size_t>(e * species + b) * mp_message_eb_size + mp_triple_offsets[triple];
    }

    std::vector<EquivariantEntry> equivariant(const FeatureSettings& settings, int lambda) const;
};

}  // namespace chorus::models::features::detail
