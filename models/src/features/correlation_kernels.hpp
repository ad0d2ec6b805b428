#pragma once
// The per-centre and per-pair kernels of FeatureCalculator: the ν = 1, 2, 3 and [1←1] invariants,
// their adjoints, per-pair gradients for [1←1] and the design matrix, and λ-SOAP (the density and
// the pair gradients of the local orders are centre_terms.hpp). Plain functions over raw rows in the density
// layout of feature_layout.hpp; no allocation, no threading (the caller owns both).
//
// The correlation kernels are written as multilinear functions of separate inputs (A, B, C are
// densities in the same layout), so that the forward-mode Jacobian is the product rule applied
// to the very code that computes the features: X'(c; δc) = X(δc, c) + X(c, δc) for ν = 2.
#include <array>
#include <cstddef>
#include <span>

#include "chorus/models/features/clebsch_gordan.hpp"
#include "chorus/models/features/radial_basis.hpp"
#include "chorus/models/features/spherical_harmonics.hpp"
#include "feature_layout.hpp"

namespace chorus::models::features::detail {

// What one neighbour vector contributes, evaluated once and reused by the forward and adjoint
// passes: Y_lm(r̂), optionally ∂Y_lm/∂r (direction-major), g_nl(r) and g'_nl(r) (radial index
// offset(l) + n), and the unit vector.
struct PairTerms {
    const double* harmonics;           // lm_size
    const double* harmonic_gradients;  // 3·lm_size, or null
    const double* radial;              // radial.size()
    const double* radial_derivatives;  // radial.size()
    std::array<double, 3> direction;
    double distance;
};

struct KernelContext {
    const FeatureLayout& layout;
    const SplinedRadialBasis& radial;
    const ClebschGordan& cg;
};

// ∂E/∂r_ij of Σ_{n<n_max, l≤l_max, m} adjoint_a[lm][n] g_nl(r) Y_lm(r̂), by contracting over n
// first: G_lm = Σ_n adjoint g_nl, G'_lm = Σ_n adjoint g'_nl, ∇ = Σ_lm [G'_lm Y_lm r̂ + G_lm ∇Y_lm].
std::array<double, 3> pair_gradient(const KernelContext& k, const PairTerms& pair, const double* adjoint_a,
                                    int n_max, int l_max);

// The tangent of c_a along r_ij direction d: out[lm][n] = ∂(g_nl Y_lm)/∂r_d (all n < n_pad, density layout).
void density_tangent(const KernelContext& k, const PairTerms& pair, int d, double* out_a);

// Local invariants (ν = 1, 2, 3) of one centre. `x` points at the feature vector of the centre.
void local_features(const KernelContext& k, const double* c, double* x, double* scratch);
// ν = 1 and 2 only (the linear paths, whose ν = 3 kernels write the rest from their couplings).
void local_features_below_nu3(const KernelContext& k, const double* c, double* x, double* scratch);
// ∂/∂c of Σ_f dx_f X_f(c), accumulated into g (density layout). For a multilinear X the same
// product rule gives the forward-mode tangent; this is its adjoint.
void local_backward(const KernelContext& k, const double* c, const double* dx, double* g, double* scratch);
// Forward-mode derivative of the local invariants along a density tangent dc: x = X'(c; dc).
void local_tangent(const KernelContext& k, const double* c, const double* dc, double* x, double* scratch);
// Scratch (doubles) the three functions above need.
std::size_t local_scratch_size(const FeatureLayout& layout);

// Sums of the ν ≤ 2 invariants over many centres without forming each centre's feature vector:
// accumulate the l = 0 density row and the per-l products Σ_m c_m c_mᵀ (a K × K matrix per l, the
// power spectrum before it is gathered into feature order), then gather once. For ν ≤ 2 only (the
// ν = 3 and [1←1] invariants are not sums of such products).
std::size_t invariant_sums_size(const FeatureLayout& layout);
void accumulate_invariant_sums(const KernelContext& k, const double* c, double* sums);
// x: the full feature vector (ν = 1 and 2 entries written).
void invariant_sums_to_features(const KernelContext& k, const double* sums, double* x);

// The linear model E = Σ_f w_f X_f restricted to ν = 1 and ν = 2, in the form its adjoint needs.
// Per l the symmetric K × K matrix S_l = Q_l + Q_lᵀ (K = lm_stride, Q_l[k1][k2] the weight of the
// feature (l, k1, k2)), so that ∂E/∂c_lm = S_l c_lm and E_ν2 = ½ Σ_lm c_lmᵀ S_l c_lm: one small
// matrix-vector product per (l, m) instead of forming the features and then their adjoint.
// After them, the ν = 3 weights as dense blocks (bispectrum_linear.hpp; nu3_weight_blocks).
// The matrices depend on the weights only: build them once per call and species channel.
std::size_t linear_matrices_size(const FeatureLayout& layout);
void linear_matrices(const FeatureLayout& layout, const double* w, double* matrices);
const double* nu3_weight_blocks(const FeatureLayout& layout, const double* matrices);
// Energy of one centre (ν = 1 and 2 only) and g = ∂E/∂c (overwritten, density layout).
double linear_local_adjoint(const FeatureLayout& layout, const double* matrices, const double* w,
                            const double* c, double* g);

// [1←1]: M(i) += the message of neighbour j (species e, density c_j) along the bond r_ij.
void accumulate_message(const KernelContext& k, const PairTerms& bond, int e, const double* c_j,
                        double* message);
// X_mp(i) from c(i) and M(i); x points at the full feature vector of the centre.
void message_features(const KernelContext& k, const double* c_i, const double* message, double* x);
// Local adjoint of the [1←1] block: g_i += ∂/∂c(i), dmessage = ∂E/∂M(i) (overwritten).
void message_backward(const KernelContext& k, const double* c_i, const double* message, const double* dx,
                      double* g_i, double* dmessage);
// ∂E/∂r_ij through the bond expansion (c_j fixed): returns the gradient; `adjoint` is density_size scratch.
std::array<double, 3> message_bond_gradient(const KernelContext& k, const PairTerms& bond, int e,
                                            const double* c_j, const double* dmessage_i, double* adjoint);
// g_j += ∂E/∂c(j) through the message j sends to i (e = species of j). `bond` holds the terms of
// r_ij, or of r_ji = −r_ij when `reversed` (the caller walks j's own neighbour list).
void message_neighbour_adjoint(const KernelContext& k, const PairTerms& bond, bool reversed, int e,
                               const double* dmessage_i, double* g_j);

// λ-SOAP block of one centre: out[μ·F + f] for the entries of `entries`.
void equivariant_features(const KernelContext& k, int lambda, std::span<const EquivariantEntry> entries,
                          const double* c, double* out);

}  // namespace chorus::models::features::detail
