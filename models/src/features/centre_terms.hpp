#pragma once
// The neighbour terms of ONE centre in component-major form ("structure of arrays"), grouped by
// the neighbour's species, and the two kernels of the hot path that run over them:
//
//   density          c^a_{nlm} = Σ_{j∈a} g_nl(r_j) Y_lm(r̂_j)
//   pair gradients   ∂E/∂r_j = r̂_j Σ_lm G'_lm Y_lm + Σ_lm G_lm ∇Y_lm,
//                    G_lm = Σ_n A^a_{nlm} g_nl(r_j),  G'_lm = Σ_n A^a_{nlm} g'_nl(r_j)
//
// For a separable basis, g_nl = P_n A_l, the tables hold only the spline's own rows (P_n, A_l) and
// the kernels apply A_l: c = Σ_j (Y_lm A_l) P_n, G_lm = A_l Σ_n A P_n. The n_max rows of P_n then
// serve every l, and the (l_max + 1) n_max products are never formed.
//
// Why this layout: a centre has ~50 neighbours but only n_max ≈ 8 radial channels, so loops over
// n are too short to vectorise well, while every table here is a row of `stride` neighbours
// (Y[lm][j], ∇Y[d][lm][j], g[f][j], g'[f][j]): the recursions for Y, the contraction over n and
// the reduction over lm are then element-wise over neighbours. Sorting by species makes each
// species a contiguous run of slots, padded to a multiple of kSlotGroup with dummy neighbours at
// r = r_c whose radial terms vanish, so kernels never need a remainder loop.
//
// Everything is scratch owned by one thread; after warm-up nothing allocates.
#include <cstddef>
#include <span>
#include <vector>

#include "chorus/engine/neighbour_list.hpp"
#include "chorus/models/features/radial_basis.hpp"
#include "chorus/models/features/spherical_harmonics.hpp"
#include "feature_layout.hpp"

namespace chorus::models::features::detail {

// Slots of one species are padded to a multiple of this (the SIMD width of the kernels).
inline constexpr std::size_t kSlotGroup = 4;

struct CentreTerms {
    std::size_t stride = 0;          // padded neighbour count: the row length of every table
    std::vector<std::size_t> block;  // species + 1 offsets: species a owns slots [block[a], block[a+1])
    std::vector<int> source;         // slot → position in the centre's neighbour list, −1 for padding
    std::vector<double> x, y, z, distance;
    std::vector<double> harmonics;           // (l_max+1)² × stride
    std::vector<double> harmonic_gradients;  // 3 × (l_max+1)² × stride
    std::vector<double> radial;              // radial.tabulated() × stride (the spline's rows)
    std::vector<double> radial_derivatives;  // radial.tabulated() × stride
    std::vector<double> pair_gradients;      // 3 × stride: ∂E/∂r_ij per slot
    std::vector<std::size_t> fill;           // counting-sort cursors
};

// Sorts the neighbours into species runs and evaluates Y (with ∇Y when `gradients`), g and g'.
// channels[j] is the species channel of atom j. Throws InputError for a neighbour at distance 0.
void evaluate_centre(const FeatureLayout& layout, const SphericalHarmonics& harmonics,
                     const SplinedRadialBasis& radial, std::span<const engine::Neighbour> neighbours,
                     const int* channels, bool gradients, std::size_t centre, CentreTerms& terms);

// The density of the centre in the layout of feature_layout.hpp (all of c overwritten).
void centre_density(const FeatureLayout& layout, const SplinedRadialBasis& radial, const CentreTerms& terms,
                    double* c);

// terms.pair_gradients from the adjoint A = ∂E/∂c (density layout); needs the gradient terms.
void centre_pair_gradients(const FeatureLayout& layout, const SplinedRadialBasis& radial,
                           const double* adjoint, CentreTerms& terms);

// The pair gradients of `members` adjoints (adjoint k at adjoints + k·adjoint_stride) into
// out[(3k + d)·stride + slot], d = x, y, z: one pass over the pair terms for all of them. Each
// member's result equals centre_pair_gradients() with its adjoint.
void centre_member_pair_gradients(const FeatureLayout& layout, const SplinedRadialBasis& radial,
                                  const double* adjoints, std::size_t adjoint_stride, std::size_t members,
                                  const CentreTerms& terms, double* out);

}  // namespace chorus::models::features::detail
