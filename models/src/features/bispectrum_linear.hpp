#pragma once
// The ν = 3 block of a linear model (E = Σ_f w_f B_f(c)) and its adjoint, on SIMD lanes.
//
// B_{k1 k2 k3} = Σ_μ T_{k1 k2 μ} c_{k3 μ}, with the coupling T_{k1 k2 μ} = Σ_{m1 m2} C^μ_{m1 m2}
// c_{k1 m1} c_{k2 m2} of the triple (l1, l2, l3). With the weights fixed, every step is a small
// dense product with k2 as the vector dimension:
//   R[μ][m1][k2] = Σ_{m2} C^μ_{m1 m2} c_{k2 m2}           (the only sparse step, once per triple)
//   T[k1][μ][k2] = Σ_{m1} c_{k1 m1} R[μ][m1][k2]
//   X[k1][k3][k2] = Σ_μ T[k1][μ][k2] c_{k3 μ},             E = Σ D ⊙ X
//   ∂E/∂T[k1][μ] = Σ_k3 D[k1][k3] c_{k3 μ},                ∂E/∂c_{k3 μ} = Σ_{k1 k2} D[k1][k3] T[k1][μ]
//   ∂E/∂c_{k1 m1} = Σ_{μ k2} ∂E/∂T[k1][μ] R[μ][m1],        ∂E/∂c_{k2 m2} = Σ C^μ_{m1 m2} Z[μ][m1],
//   Z[μ][m1] = Σ_k1 c_{k1 m1} ∂E/∂T[k1][μ],
// where D is the weight vector laid out densely (zero where a triple has no feature, e.g. k2 < k1
// when l1 = l2). The density's ν = 3 channels are first packed into rows of whole lanes, so any
// n_max works. The scalar loops of correlation_kernels.cpp remain for the generic (non-linear)
// adjoint and the tangent.
#include <cstddef>
#include <span>

#include "correlation_kernels.hpp"
#include "feature_layout.hpp"

namespace chorus::models::features::detail {

// Doubles of the dense ν = 3 weights of one weight row: per triple, K × K × K4 (K channels
// a·n_max + n, K4 = K rounded up to whole lanes). Zero without ν = 3.
std::size_t bispectrum_weights_size(const FeatureLayout& layout);
// D_t[k1][k3][k2] = w of the feature (k1, k2, k3) of triple t (w: the full weight row).
void bispectrum_weights(const FeatureLayout& layout, const double* w, double* dense);

std::size_t bispectrum_linear_scratch_size(const FeatureLayout& layout, std::size_t members);

// What bispectrum_linear_adjoint adds to or writes, per member m.
struct BispectrumLinearOutputs {
    std::span<double* const> gradients;  // g[m] += ∂E_m/∂c (density layout)
    std::span<double> energies;          // += E_m = Σ_f w_{m,f} B_f(c) over the ν = 3 features
    double* features = nullptr;          // if set: the centre's feature vector, whose ν = 3 entries
                                         // [nu3_offset, mp_offset) are written
    double* dense_sums = nullptr;        // if set: += the features in the dense layout of the weights
                                         // (bispectrum_weights_size; bispectrum_dense_to_features)
};

// For every member m (dense[m] from bispectrum_weights), from one set of couplings. The features
// are the numbers local_features writes, up to the order of summation.
void bispectrum_linear_adjoint(const KernelContext& k, const double* c, std::span<const double* const> dense,
                               const BispectrumLinearOutputs& out, double* scratch);

// x's ν = 3 entries from features (or their sums) in the dense layout.
void bispectrum_dense_to_features(const FeatureLayout& layout, const double* dense, double* x);

}  // namespace chorus::models::features::detail
