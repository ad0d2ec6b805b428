#pragma once
// The neighbour density of one centre expanded on R_nl Y_lm (science.md §1, ν = 1), its gradients
// with respect to every neighbour vector, and the ν = 2 power spectrum (science.md §2, λ = 0).
//
//   c^a_{nlm}(i) = Σ_{j ∈ a} g_nl(r_ij) Y_lm(r̂_ij),      g_nl = R_nl f_c (the splined basis)
//   p^{ab}_{nn'l}(i) = Σ_m c^a_{nlm} c^b_{n'lm}            (a ≤ b)
//
// Power spectrum normalisation: the plain sum over m, i.e. eq. 8 of science.md with no
// 1/√(2l+1) and no (−1)^l. It equals (−1)^l √(2l+1) times the λ = 0 Clebsch–Gordan coupling of
// the two l-blocks; we keep the plain sum because it is what the addition theorem gives directly:
//   p^{ab}_{nn'l} = Σ_{j∈a, j'∈b} g_nl(r_j) g_n'l(r_j') (2l+1)/(4π) P_l(cos θ_jj').
//
// Plain functions of spans (neighbour vectors r_ij in Å and species indices 0 … species−1), so they
// do not depend on the neighbour-list type. Nothing here allocates: scratch lives in a
// DensityWorkspace the caller keeps per thread.
#include <array>
#include <cstddef>
#include <span>
#include <vector>

#include "chorus/models/features/radial_basis.hpp"
#include "chorus/models/features/spherical_harmonics.hpp"

namespace chorus::models::features {

// Per-thread scratch of a DensityExpansion; create it with DensityExpansion::workspace().
struct DensityWorkspace {
    std::vector<double> harmonics;           // (l_max+1)²
    std::vector<double> harmonic_gradients;  // 3 (l_max+1)²
    std::vector<double> radial;              // one value per (n, l)
    std::vector<double> radial_derivatives;  // one value per (n, l)
};

class DensityExpansion {
public:
    // Keeps a reference to the radial basis, which must outlive the expansion. species ≥ 1.
    DensityExpansion(const SplinedRadialBasis& radial, int species);

    int species() const { return species_; }
    int l_max() const { return harmonics_.l_max(); }
    int n_max(int l) const { return radial_->n_max(l); }

    // Coefficients of one species: blocks by l, each n_max(l) × (2l+1), row-major (n, then m):
    // entry species_size()·a + block_offset(l) + n·(2l+1) + (m + l).
    std::size_t species_size() const { return species_size_; }
    std::size_t block_offset(int l) const { return block_offsets_[static_cast<std::size_t>(l)]; }
    // All species of one centre.
    std::size_t size() const { return species_size_ * static_cast<std::size_t>(species_); }

    DensityWorkspace workspace() const;

    // density.size() ≥ size(); overwritten. Throws InputError for mismatched spans, unknown species
    // or a neighbour at r = 0. Neighbours at r ≥ r_c contribute nothing.
    void compute(std::span<const std::array<double, 3>> neighbours, std::span<const int> species,
                 std::span<double> density, DensityWorkspace& workspace) const;

    // Also ∂c^{a_j}/∂r_ij for every neighbour j (only its own species block can change):
    // gradients.size() ≥ neighbours.size()·3·species_size(), entry
    // gradients[(j·3 + d)·species_size() + k] with k the in-species index above. ∂/∂r_i of the
    // centre is minus the sum over its neighbours.
    void compute_with_gradients(std::span<const std::array<double, 3>> neighbours,
                                std::span<const int> species, std::span<double> density,
                                std::span<double> gradients, DensityWorkspace& workspace) const;

private:
    template <bool WithGradients>
    void accumulate(std::span<const std::array<double, 3>> neighbours, std::span<const int> species,
                    std::span<double> density, std::span<double> gradients,
                    DensityWorkspace& workspace) const;

    const SplinedRadialBasis* radial_;
    SphericalHarmonics harmonics_;
    int species_;
    std::vector<std::size_t> block_offsets_;
    std::size_t species_size_ = 0;
};

// The ν = 2 invariants of one centre from its density (layout of DensityExpansion).
class PowerSpectrum {
public:
    explicit PowerSpectrum(const DensityExpansion& expansion);

    // Species pairs a ≤ b in order (0,0), (0,1), …, (1,1), …; per pair, blocks by l of
    // n_max(l) × n_max(l) entries (n, then n'): entry pair_size()·pair + block_offset(l) + n·n_max(l) + n'.
    // For a = b both (n, n') and (n', n) are kept (they are equal) so that every block has one shape.
    std::size_t pair_size() const { return pair_size_; }
    std::size_t block_offset(int l) const { return block_offsets_[static_cast<std::size_t>(l)]; }
    std::size_t pairs() const;
    std::size_t pair_index(int a, int b) const;  // a ≤ b
    std::size_t size() const { return pair_size_ * pairs(); }

    // features.size() ≥ size(); overwritten.
    void compute(std::span<const double> density, std::span<double> features) const;

private:
    const DensityExpansion* expansion_;
    std::vector<std::size_t> block_offsets_;
    std::size_t pair_size_ = 0;
};

}  // namespace chorus::models::features
