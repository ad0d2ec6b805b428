#include "equivariant_adjoint.hpp"

#include <cstddef>

namespace chorus::models::features::detail {

void equivariant_backward(const KernelContext& k, int lambda, std::span<const EquivariantEntry> entries,
                          const double* c, const double* dout, double* g) {
    const auto& layout = k.layout;
    const std::size_t count = entries.size();
    const std::size_t stride = layout.lm_stride;
    // Entries come grouped by (l1, l2): look the coefficients up once per group, not per entry.
    std::span<const CouplingCoefficient> coefficients;
    int group_l1 = -1;
    int group_l2 = -1;
    for (std::size_t f = 0; f < count; ++f) {
        const auto& e = entries[f];
        if (e.l1 != group_l1 || e.l2 != group_l2) {
            group_l1 = e.l1;
            group_l2 = e.l2;
            coefficients = k.cg.coefficients(group_l1, group_l2, lambda);
        }
        const std::size_t first =
            layout.density_row(e.a, e.n1) + static_cast<std::size_t>(e.l1 * e.l1) * stride;
        const std::size_t second =
            layout.density_row(e.b, e.n2) + static_cast<std::size_t>(e.l2 * e.l2) * stride;
        // Both factors receive their share even when they are the same density row (l1 = l2,
        // a n1 = b n2): that is the product rule of a square, not a double count.
        for (const auto& coefficient : coefficients) {
            const double adjoint = dout[coefficient.mu * count + f];
            // Sparse adjoints are common (a dipole component touches one μ row of 2λ + 1); the
            // coefficients come sorted by μ, so this branch runs in long predictable streaks.
            if (adjoint == 0.0) {
                continue;
            }
            const double weight = coefficient.value * adjoint;
            const std::size_t i1 = first + coefficient.m1 * stride;
            const std::size_t i2 = second + coefficient.m2 * stride;
            g[i1] += weight * c[i2];
            g[i2] += weight * c[i1];
        }
    }
}

}  // namespace chorus::models::features::detail
