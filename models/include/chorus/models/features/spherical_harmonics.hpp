#pragma once
// Real spherical harmonics Y_lm(r̂) for all l ≤ l_max of a vector at once, with their Cartesian
// gradients, by recursion on the Cartesian components (no trigonometric or Legendre function calls).
//
// Convention (the one used by sphericart and e3nn, chosen because the l = 1 block is then simply a
// permutation of the unit vector, (Y_1,-1, Y_10, Y_11) = √(3/4π) (y, z, x)/r):
//
//   Y_l0        = N_l0 P_l(cos θ)
//   Y_lm  (m>0) = √2 N_lm P_l^m(cos θ) cos(mφ)
//   Y_l,-m(m>0) = √2 N_lm P_l^m(cos θ) sin(mφ)
//   N_lm = √((2l+1)/(4π) · (l−m)!/(l+m)!)
//
// with the associated Legendre functions P_l^m taken WITHOUT the Condon–Shortley phase (−1)^m.
// These are orthonormal on the unit sphere. Within one l the functions are stored by increasing m,
// m = −l…l, at the flat index l² + l + m (lm_index), so the whole set has (l_max+1)² entries.
//
// How: the solid harmonics r^l Y_lm are polynomials F_lm Q_l^m(z, r²) · {C_m, S_m}(x, y) with
// C_m + i S_m = (x + iy)^m, and both factors obey short recursions (Bigi et al., "sphericart",
// J. Chem. Phys. 2023). We evaluate them at the unit vector and obtain the gradient of the
// direction-only function from Euler's theorem for homogeneous polynomials:
//   ∇Y_lm(r) = (∇(r^l Y_lm)(r̂) − l Y_lm(r̂) r̂) / r,
// i.e. gradients include the 1/r of the direction derivative and are tangent to the sphere.
//
// r = 0: the direction is undefined and so are Y_lm for l > 0 and every gradient; the result is
// then NaN. Callers never pass r = 0 (a neighbour has r > 0). Tiny but non-zero r are fine for the
// values (down to |r| ≈ 1e-150, where r² would underflow); the gradients grow as 1/r, as they must.
//
// Orders up to 12 are compiled as fixed-size kernels (fully unrolled recursions); higher orders use
// the same code with run-time loop bounds.
#include <array>
#include <cstddef>
#include <span>
#include <vector>

namespace chorus::models::features {

// Largest l the recursions are set up for. Beyond ~30 the unnormalised intermediate polynomials
// start to lose digits; nothing in chorus needs more than ~12.
inline constexpr int max_supported_l = 30;

// Number of (l, m) pairs with l ≤ l_max.
constexpr std::size_t spherical_harmonics_size(int l_max) {
    return static_cast<std::size_t>(l_max + 1) * static_cast<std::size_t>(l_max + 1);
}

// Flat index of (l, m), m = −l…l.
constexpr std::size_t lm_index(int l, int m) { return static_cast<std::size_t>(l * l + l + m); }

// Precomputed recursion and normalisation coefficients for one l_max. Immutable after
// construction: one instance can be shared by every thread (all scratch lives on the stack).
class SphericalHarmonics {
public:
    // Throws ConfigError unless 0 ≤ l_max ≤ max_supported_l.
    explicit SphericalHarmonics(int l_max);

    int l_max() const { return l_max_; }
    // (l_max+1)², the length of one set of values.
    std::size_t size() const { return spherical_harmonics_size(l_max_); }

    // Y_lm(r̂) for one vector r = (x, y, z): values.size() ≥ size().
    void compute(const std::array<double, 3>& r, std::span<double> values) const;

    // Values and gradients ∂Y_lm/∂r_d for one vector. gradients.size() ≥ 3·size(), laid out
    // direction-major: gradients[d·size() + lm] for d = x, y, z, so each direction is contiguous.
    void compute_with_gradients(const std::array<double, 3>& r, std::span<double> values,
                                std::span<double> gradients) const;

    // Batched forms over n vectors given as separate coordinate arrays (structure of arrays).
    // values: n·size(), point-major (values[i·size() + lm]); gradients: n·3·size(), laid out
    // gradients[(i·3 + d)·size() + lm].
    void compute(std::span<const double> x, std::span<const double> y, std::span<const double> z,
                 std::span<double> values) const;
    void compute_with_gradients(std::span<const double> x, std::span<const double> y,
                                std::span<const double> z, std::span<double> values,
                                std::span<double> gradients) const;

    // Component-major ("transposed") batch for kernels that vectorise over neighbours: with
    // n = x.size() points, values[lm·n + i] and, unless `gradients` is empty,
    // gradients[(d·size() + lm)·n + i]. Points are processed in groups of
    // component_batch_width; n must be a multiple of it (pad with any non-zero vector).
    static constexpr std::size_t component_batch_width = 4;
    void compute_components(std::span<const double> x, std::span<const double> y, std::span<const double> z,
                            std::span<double> values, std::span<double> gradients) const;

private:
    int l_max_;
    // Per (l, m ≥ 0), triangular index l(l+1)/2 + m:
    std::vector<double> normalisation_;  // √2 N_lm for m > 0, N_l0 for m = 0
    std::vector<double> recursion_a_;    // (2l−1)/(l−m), for m ≤ l−2
    std::vector<double> recursion_b_;    // (l+m−1)/(l−m), for m ≤ l−2
};

}  // namespace chorus::models::features
