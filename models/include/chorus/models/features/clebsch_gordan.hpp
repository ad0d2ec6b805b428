#pragma once
// Clebsch–Gordan coefficients in the basis of the REAL spherical harmonics of
// spherical_harmonics.hpp, stored sparsely, and the coupling of two equivariant blocks
// (science.md §2):
//   T_λμ = Σ_{m1 m2} C^{λμ}_{l1 m1; l2 m2} A_{m1} B_{m2}.
//
// Construction: the complex ⟨l1 m1 l2 m2 | λ M⟩ (Condon–Shortley convention, Racah's formula in
// long double) are changed to the real basis with the unitary U that expresses our real Y_lm
// through the complex Y_l^m (which carry the Condon–Shortley phase):
//   Y_l0 = Y_l^0,
//   Y_lm   = ((−1)^m Y_l^m + Y_l^{−m}) / √2          (m > 0),
//   Y_l,−m = i (Y_l^{−m} − (−1)^m Y_l^m) / √2         (m > 0),
//   C^real_{μ; m1 m2} = Σ U^λ_{μM} ⟨l1 m1' l2 m2'|λ M⟩ conj(U^{l1}_{m1 m1'}) conj(U^{l2}_{m2 m2'}).
//
// Parity: the result is purely real when l1 + l2 + λ is even and purely IMAGINARY when it is odd
// (the σ = −1 blocks of λ-SOAP). For odd l1 + l2 + λ we store the imaginary part, i.e. the
// coefficient divided by i. Multiplying every coefficient of a (l1, l2, λ) triple by the same
// constant keeps the coupled block equivariant, so those blocks are real and rotate with D^λ;
// they differ from the "true" complex-consistent coupling by the factor −i.
//
// With this convention, coupling the harmonics of one direction reproduces the harmonic itself:
//   Σ C^{λμ}_{l1 m1; l2 m2} Y_{l1 m1}(r̂) Y_{l2 m2}(r̂)
//       = √((2l1+1)(2l2+1) / (4π(2λ+1))) ⟨l1 0 l2 0|λ 0⟩ Y_λμ(r̂)
// with a plus sign (U is the same change of basis on both sides), and it is zero for odd
// l1 + l2 + λ since ⟨l1 0 l2 0|λ 0⟩ vanishes then. The λ = 0 coupling of two real l-blocks is
// (−1)^l/√(2l+1) Σ_m a_m b_m.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <Eigen/Core>

namespace chorus::models::features {

// ⟨l1 m1 l2 m2 | l M⟩ for the complex spherical harmonics (Condon–Shortley phase); zero when the
// selection rules forbid the coupling. Set-up time only.
double complex_clebsch_gordan(int l1, int m1, int l2, int m2, int l, int m);

// One non-zero real coefficient; m1, m2 and mu are offsets m + l into their blocks (0 … 2l).
struct CouplingCoefficient {
    std::uint16_t m1;
    std::uint16_t m2;
    std::uint16_t mu;
    double value;
};

// Rows are m (2l+1 of them), columns are properties (radial channels, species, …).
using EquivariantBlock = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// All real coefficients with l1, l2 ≤ l_max and |l1 − l2| ≤ λ ≤ min(l1 + l2, lambda_max).
// Immutable after construction; thread safe.
class ClebschGordan {
public:
    // lambda_max < 0 means 2·l_max (every λ the two blocks can form). Throws ConfigError for
    // l_max outside [0, 30].
    explicit ClebschGordan(int l_max, int lambda_max = -1);

    int l_max() const { return l_max_; }
    int lambda_max() const { return lambda_max_; }

    // The sparse coefficients of one triple, sorted by mu; empty when the triple is not allowed.
    std::span<const CouplingCoefficient> coefficients(int l1, int l2, int lambda) const;

    // True when the stored coefficients are the imaginary parts (l1 + l2 + λ odd).
    static bool stores_imaginary_part(int l1, int l2, int lambda) { return (l1 + l2 + lambda) % 2 != 0; }

    // Couples two single vectors: a has 2l1+1 entries, b 2l2+1, out 2λ+1 (overwritten).
    // Throws InputError for wrong sizes or a triple outside the table.
    void couple(int l1, int l2, int lambda, std::span<const double> a, std::span<const double> b,
                std::span<double> out) const;

    // Couples every column of a with every column of b: a is (2l1+1) × p, b is (2l2+1) × q,
    // the result (2λ+1) × (p·q) with column i·q + j holding the coupling of a(:, i) and b(:, j).
    EquivariantBlock couple(int l1, int l2, int lambda, const EquivariantBlock& a,
                            const EquivariantBlock& b) const;

private:
    std::size_t triple_index(int l1, int l2, int lambda) const;
    void check_triple(int l1, int l2, int lambda) const;

    int l_max_;
    int lambda_max_;
    std::vector<CouplingCoefficient> coefficients_;
    std::vector<std::size_t> offsets_;  // per triple_index, plus one past the end
};

}  // namespace chorus::models::features
