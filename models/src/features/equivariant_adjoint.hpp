#pragma once
// The adjoint of the λ-SOAP block of one centre (equivariant_features() in correlation_kernels.hpp):
// the CG product rule that turns ∂L/∂B(i) into ∂L/∂c(i), so that the pair contraction shared with
// the invariants (centre_terms.hpp) gives forces and virial. No allocation, no threading.
#include <span>

#include "correlation_kernels.hpp"
#include "feature_layout.hpp"

namespace chorus::models::features::detail {

// g += ∂/∂c of Σ_{μ,f} dout[μ·F + f] B_{μf}(c), B_{μf} = Σ C^{λμ}_{l1 m1; l2 m2} c^a_{n1 l1 m1} c^b_{n2 l2
// m2} for the entries of `entries` (F of them, the column order of compute_equivariant), g in the density
// layout.
void equivariant_backward(const KernelContext& k, int lambda, std::span<const EquivariantEntry> entries,
                          const double* c, const double* dout, double* g);

}  // namespace chorus::models::features::detail
