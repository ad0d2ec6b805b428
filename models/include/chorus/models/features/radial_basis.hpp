#pragma once
// Radial basis R_nl(r) of the density expansion (science.md §1), with the smooth cutoff folded in:
// the hot loop sees only g_nl(r) = R_nl(r) f_c(r) and its derivative, read from cubic Hermite
// splines that share one grid lookup for all (n, l).
//
// Default basis: the Laplacian eigenstates j_l(z_nl r/r_c), z_nl the n-th positive zero of the
// spherical Bessel function j_l. They are the smoothest functions on the ball that vanish at r_c
// (eigenfunctions of −∇² with Dirichlet boundary, eigenvalue (z_nl/r_c)²), so truncating by
// eigenvalue keeps the smoothest functions first: the "optimal smoothness" truncation of
// science.md §2b. They need no width parameter, are orthonormal analytically, and their raw
// values already vanish at r_c, so the cutoff only has to flatten the derivative there.
//
// Cutoff: a cosine switch, f_c(r) = 1 for r ≤ r_c − w, ½(1 + cos(π (r − r_c + w)/w)) on
// [r_c − w, r_c], 0 beyond. f_c(r_c) = 0 and f_c'(r_c) = 0; f_c is C¹ (its second derivative
// jumps at both ends of the switch). The spline grid puts nodes exactly at r_c − w and r_c, so the
// jumps fall on nodes and do not spoil the spline accuracy.
//
// Optional bases ("smeared-laplacian-eigenstate", "smeared-gto"; issue 5): radial functions applied to a
// Gaussian-smeared neighbour density instead of a delta density, as in plain SOAP. A neighbour at
// distance r contributes the projection of (2πσ²)^{-3/2} exp(−|x − r|²/(2σ²)) onto R_nl(x) Y_lm(x̂),
// which by the plane-wave-like expansion of exp(x·r/σ²) is R̃_nl(r) Y_lm(r̂) with
//   R̃_nl(r) = 4π (2πσ²)^{-3/2} ∫_0^{r_c} x² R_nl(x) exp(−(x² + r²)/(2σ²)) i_l(x r/σ²) dx,
// i_l the modified spherical Bessel function. σ → 0 gives back R_nl(r). The smearing damps the
// high-n functions (it acts as a low-pass filter on the density) without changing the feature
// count, the hot loop or the cutoff function; only the tabulated functions differ.
// Caveat for the eigenstates: j_l(kr) Y_lm solves −∇²ψ = k²ψ, so smearing multiplies it by
// exp(−k²σ²/2) exactly except within a few σ of r_c (the integral stops there). Smeared eigenstate
// features are therefore rescaled unsmeared ones plus a boundary effect; a linear model only sees
// the difference through its regulariser and that boundary layer. GTOs have no such identity.
//
// Indexing: all functions in one flat array ordered by l, then n: index = offset(l) + n,
// n = 0 … n_max(l) − 1 (n = 0 uses the first zero). n_max may depend on l (eigenvalue truncation).
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace chorus::models::features {

// The cosine switch described above. width must be in (0, cutoff].
class CosineCutoff {
public:
    CosineCutoff(double cutoff, double width);
    double cutoff() const { return cutoff_; }
    double width() const { return width_; }
    double value(double r) const;
    double derivative(double r) const;

private:
    double cutoff_;
    double width_;
};

// The count first positive zeros of j_l, ascending, to full double precision (bracketing and
// bisection on std::sph_bessel; set-up time only).
std::vector<double> spherical_bessel_zeros(int l, int count);

// j_l(x) and dj_l/dx for any real x (j_l(−x) = (−1)^l j_l(x)); set-up time only.
double spherical_bessel(int l, double x);
double spherical_bessel_derivative(int l, double x);

// The unsplined radial functions a SplinedRadialBasis tabulates: any family R_nl(r) on (0, r_c]
// that can be evaluated with its derivative at set-up time. Flat (n, l) order as above.
class RadialFunctions {
public:
    virtual ~RadialFunctions() = default;
    virtual double cutoff() const = 0;
    virtual int max_angular() const = 0;
    virtual int n_max(int l) const = 0;
    // All R_nl(r) and dR_nl/dr at one r (|r| < r_c; at r < 0 the functions continue with parity
    // (−1)^l, as j_l does), flat (n, l) order; both spans ≥ the total count. Set-up time only.
    virtual void evaluate(double r, std::span<double> values, std::span<double> derivatives) const = 0;

    // Optional separable form R_nl(r) = P_n(r) A_l(r), with A_0 ≡ 1 and the same n_max for every l.
    // A SplinedRadialBasis then tabulates the n_max P_n and the l_max factors A_l (l ≥ 1) instead of
    // all n_max·(l_max + 1) products, which is most of the per-neighbour cost of the spline.
    virtual bool separable() const { return false; }
    // P_n, dP_n/dr (n_max each) and A_l, dA_l/dr for l = 1 … l_max (l_max each) at one r, with the
    // parity continuation of evaluate() for r < 0. Only called when separable(). Set-up time only.
    virtual void evaluate_separable(double r, std::span<double> radial, std::span<double> radial_derivatives,
                                    std::span<double> angular, std::span<double> angular_derivatives) const;
};

struct LaplacianEigenstateSettings {
    double cutoff = 5.0;        // r_c, Å
    int max_angular = 6;        // l_max
    int max_radial = 8;         // at most this many n per l
    double max_eigenvalue = 0;  // Å⁻²; when > 0 keep only (z_nl/r_c)² ≤ max_eigenvalue
};

// The exact, unsplined basis R_nl(r) = N_nl j_l(z_nl r/r_c), normalised so that
// ∫_0^{r_c} R_nl R_n'l r² dr = δ_nn'. Used to build splines and by tests; never in hot loops.
class LaplacianEigenstateBasis final : public RadialFunctions {
public:
    // Throws ConfigError for a non-positive cutoff, negative orders, or a truncation that
    // leaves no function at all.
    explicit LaplacianEigenstateBasis(const LaplacianEigenstateSettings& settings);

    double cutoff() const override { return cutoff_; }
    int max_angular() const override { return max_angular_; }
    int n_max(int l) const override { return static_cast<int>(zeros_[static_cast<std::size_t>(l)].size()); }
    void evaluate(double r, std::span<double> values, std::span<double> derivatives) const override;
    // z_nl, the (n+1)-th zero of j_l.
    double zero(int n, int l) const {
        return zeros_[static_cast<std::size_t>(l)][static_cast<std::size_t>(n)];
    }
    double value(int n, int l, double r) const;
    double derivative(int n, int l, double r) const;

private:
    double cutoff_;
    int max_angular_;
    std::vector<std::vector<double>> zeros_;          // [l][n]
    std::vector<std::vector<double>> normalisation_;  // [l][n]
};

// e^{−z} i_l(z) and e^{−z} di_l/dz for l = 0 … values.size() − 1 at z ≥ 0, without overflow for
// any z (i_l grows like e^z/(2z)). Set-up time only.
void scaled_modified_spherical_bessel(double z, std::span<double> values, std::span<double> derivatives);

// Gaussian-type radial functions x^k exp(−x²/(2 s_k²)), s_k = r_c max(√k, 1)/n_max, k = 0 … n_max − 1
// (the "GTO" choice of SOAP codes such as librascal: the same primitives for every l, the angular
// behaviour near r = 0 comes from the smearing's i_l), orthonormalised on [0, r_c] with weight x²
// by Löwdin's S^{−1/2}, so no function is preferred. Uses cutoff, max_angular and max_radial of
// the settings (max_eigenvalue does not apply). Meant to be smeared (GaussianSmearedBasis): on
// their own they lack the r^l factor that makes a density expansion smooth at r = 0. Unlike the
// eigenstates they do not vanish at r_c: the cutoff function does that.
class GaussianTypeOrbitalBasis final : public RadialFunctions {
public:
    explicit GaussianTypeOrbitalBasis(const LaplacianEigenstateSettings& settings);

    double cutoff() const override { return cutoff_; }
    int max_angular() const override { return max_angular_; }
    int n_max(int) const override { return n_max_; }
    void evaluate(double r, std::span<double> values, std::span<double> derivatives) const override;

private:
    double cutoff_;
    int max_angular_;
    int n_max_;
    std::vector<double> widths_;        // s_k
    std::vector<double> coefficients_;  // [l][n][k]: R_nl = Σ_k C x^l exp(−x²/(2 s_k²))
};

// Any radial functions seen through a Gaussian of width σ (header comment): R̃_nl(r), the integral
// evaluated by composite Gauss–Legendre quadrature on panels of width ≤ σ/2 (error far below the
// 1e-8 spline target), its r-derivative by the same quadrature of the differentiated integrand.
class GaussianSmearedBasis final : public RadialFunctions {
public:
    // Throws ConfigError for a smearing that is not positive and finite or wider than r_c/2
    // (beyond that the functions are nearly constant and the features degenerate).
    GaussianSmearedBasis(std::unique_ptr<RadialFunctions> primitive, double smearing);

    double cutoff() const override { return primitive_->cutoff(); }
    int max_angular() const override { return primitive_->max_angular(); }
    int n_max(int l) const override { return primitive_->n_max(l); }
    double smearing() const { return smearing_; }
    void evaluate(double r, std::span<double> values, std::span<double> derivatives) const override;

private:
    std::unique_ptr<RadialFunctions> primitive_;
    double smearing_;
    std::size_t functions_ = 0;
    std::vector<double> nodes_;     // quadrature abscissae x_q in (0, r_c)
    std::vector<double> weighted_;  // [q][f]: w_q x_q² R_f(x_q)
};

// "separable-smeared-gto": the smeared GTO basis with its l-dependence reduced to one factor per l,
//   R_nl(r) = R̃_n0(r) · A_l(r),   A_l(r) = i_l(r²/σ²) / i_0(r²/σ²),
// R̃_n0 the l = 0 smeared GTOs. A_l is the angular part of the smearing taken at the neighbour's own
// radius: the Gaussian of width σ around a neighbour at distance r, projected on the sphere of
// radius r, has its Y_lm components damped by exactly A_l(r) (A_l → 1 for r ≫ σ√(l(l+1)), → 0 as
// r → 0 for l ≥ 1). The full smeared basis weighs that damping over all radii x ≠ r as well; the
// separable one keeps only x = r, which is what lets the spline tabulate n_max + l_max functions
// instead of n_max (l_max + 1). Water (issue 5 trials): the same accuracy as the full basis.
class SeparableSmearedBasis final : public RadialFunctions {
public:
    // Throws ConfigError for a smearing that GaussianSmearedBasis refuses, or a GTO basis it refuses.
    SeparableSmearedBasis(const LaplacianEigenstateSettings& settings, double smearing);

    double cutoff() const override { return radial_.cutoff(); }
    int max_angular() const override { return max_angular_; }
    int n_max(int) const override { return radial_.n_max(0); }
    void evaluate(double r, std::span<double> values, std::span<double> derivatives) const override;
    bool separable() const override { return true; }
    void evaluate_separable(double r, std::span<double> radial, std::span<double> radial_derivatives,
                            std::span<double> angular, std::span<double> angular_derivatives) const override;

private:
    GaussianSmearedBasis radial_;  // the l = 0 smeared GTOs
    int max_angular_;
    double smearing_;
};

// Radial scaling (Willatt, Musil, Ceriotti, PCCP 20, 29661 (2018)): every neighbour's contribution
// to the density is weighted by
//   u(r) = c / (c + (r/r0)^m),     c = prefactor (default 1), so u = 1/(1 + (r/r0)^m),
// which is ½ at r = r0 (for c = 1) and decays like (r0/r)^m beyond. In a dense liquid the number of
// neighbours grows like r², so without it the far shells dominate the density's variance although
// they matter least for the energy; u rebalances near and far shells at no run-time cost, because
// it is folded into the tabulated g_nl(r) = u(r) R_nl(r) f_c(r). u is taken at |r| (even), so the
// parity continuation of R_nl to r < 0 that the spline uses is kept. c/(c + (r/r0)^m) equals
// 1/(1 + (r/r0')^m) with r0' = r0 c^{1/m}, so c only re-parametrises r0; it is kept because
// librascal's hyper-parameters are written in this form. Exponents below 2 make u
// non-smooth at r = 0, which the spline may refuse to tabulate to its accuracy.
struct RadialScaling {
    double r0 = 2.5;         // Å
    double exponent = 4.0;   // m
    double prefactor = 1.0;  // c
    double value(double r) const;
    double derivative(double r) const;  // du/dr, odd in r
};

// Any radial functions times u(|r|) (values multiplied, derivatives by the product rule).
class ScaledRadialFunctions final : public RadialFunctions {
public:
    // Throws ConfigError for r0, exponent or prefactor that are not positive and finite.
    ScaledRadialFunctions(std::unique_ptr<RadialFunctions> primitive, const RadialScaling& scaling);

    double cutoff() const override { return primitive_->cutoff(); }
    int max_angular() const override { return primitive_->max_angular(); }
    int n_max(int l) const override { return primitive_->n_max(l); }
    void evaluate(double r, std::span<double> values, std::span<double> derivatives) const override;
    // u(r) scales the P_n; the A_l are left alone.
    bool separable() const override { return primitive_->separable(); }
    void evaluate_separable(double r, std::span<double> radial, std::span<double> radial_derivatives,
                            std::span<double> angular, std::span<double> angular_derivatives) const override;

private:
    std::unique_ptr<RadialFunctions> primitive_;
    RadialScaling scaling_;
};

// Linear combinations of a larger primitive basis, one matrix per l (Goscinski et al., J. Chem.
// Phys. 155, 104106 (2021), "optimal radial basis"): R'_ql(r) = Σ_n U_l[n, q] R_nl(r). U_l is
// stored row-major, n_prim(l) × n_max, matrices[l][n·n_max + q]. With U_l the leading eigenvectors
// of the covariance of the primitive coefficients, the n_max contracted functions carry the most
// information a linear map of n_max functions can; the hot loop sees n_max functions, as before.
class ContractedRadialFunctions final : public RadialFunctions {
public:
    // Throws ConfigError (naming radial_basis.contraction[l]) unless there is one matrix per l of
    // the primitive basis, each a whole number n_max ≥ 1 of columns of n_prim(l) rows, with the same
    // n_max for every l, and every entry finite.
    ContractedRadialFunctions(std::unique_ptr<RadialFunctions> primitive,
                              std::vector<std::vector<double>> matrices);

    double cutoff() const override { return primitive_->cutoff(); }
    int max_angular() const override { return primitive_->max_angular(); }
    int n_max(int) const override { return n_max_; }
    void evaluate(double r, std::span<double> values, std::span<double> derivatives) const override;

private:
    std::unique_ptr<RadialFunctions> primitive_;
    std::vector<std::vector<double>> matrices_;
    int n_max_ = 0;
    std::size_t primitive_size_ = 0;
};

enum class RadialBasisType {
    laplacian_eigenstate,
    smeared_laplacian_eigenstate,
    smeared_gto,
    separable_smeared_gto
};

struct RadialBasisSettings {
    RadialBasisType type = RadialBasisType::laplacian_eigenstate;
    LaplacianEigenstateSettings eigenstates;
    double smearing = 0.0;  // σ, Å; smeared basis only
    std::optional<RadialScaling> scaling;
    // With a contraction: the primitive basis has primitive_n_max functions per l and
    // contraction[l] (primitive_n_max × eigenstates.max_radial, row-major) maps them to
    // eigenstates.max_radial functions. primitive_n_max > 0 with no matrices is a contraction still
    // to be fitted (`chorus train`), which cannot be evaluated.
    int primitive_n_max = 0;
    std::vector<std::vector<double>> contraction;
};

// The primitive family, smeared if asked, contracted if asked, then scaled if asked (scaling and
// contraction commute: u(r) multiplies every function at the same r).
std::unique_ptr<RadialFunctions> make_radial_functions(const RadialBasisSettings& settings);

// g_nl(r) = R_nl(r) f_c(r) for every (n, l), tabulated on a uniform grid as cubic Hermite splines
// (exact value and derivative at every node). The grid spacing is refined at construction until
// the spline error at cell midpoints, where the Hermite error peaks, is below half of
// `relative_accuracy` times each function's maximum. Immutable after construction; thread safe.
class SplinedRadialBasis {
public:
    SplinedRadialBasis(const RadialFunctions& basis, const CosineCutoff& cutoff,
                       double relative_accuracy = 1e-8);

    double cutoff() const { return cutoff_; }
    int max_angular() const { return static_cast<int>(n_max_.size()) - 1; }
    int n_max(int l) const { return n_max_[static_cast<std::size_t>(l)]; }
    std::size_t offset(int l) const { return offsets_[static_cast<std::size_t>(l)]; }
    // Total number of (n, l) functions.
    std::size_t size() const { return functions_; }
    // Functions the spline interpolates per distance: size(), or n_max + l_max for a separable basis
    // (RadialFunctions::separable), whose products are formed after the interpolation.
    std::size_t tabulated() const { return columns_; }
    std::size_t grid_points() const { return grid_points_; }
    double grid_spacing() const { return spacing_; }

    // All g_nl(r) and dg_nl/dr at one 0 < r, flat (n, l) order; zero for r ≥ r_c.
    // values.size() and derivatives.size() must be ≥ size() (not checked: hot path).
    void compute(double r, std::span<double> values, std::span<double> derivatives) const;

    // g_nl = P_n A_l with A_0 ≡ 1 (RadialFunctions::separable): the component-major kernels apply
    // A_l themselves and read the spline's own rows instead of the size() products.
    bool separable() const { return separable_; }
    // The tabulated() rows for n = r.size() distances at once, component-major for kernels that
    // vectorise over neighbours: values[f·n + i], derivatives[f·n + i]. For a separable basis the
    // rows are P_0 … P_{n_max−1} (cutoff included) and then A_1 … A_l_max; for any other basis they
    // are the g_nl of compute(). Both spans ≥ tabulated()·n (not checked).
    void compute_tabulated_components(std::span<const double> r, std::span<double> values,
                                      std::span<double> derivatives) const;

private:
    void tabulate(const RadialFunctions& basis, const CosineCutoff& cutoff, int cells_in_width);
    double midpoint_error(const RadialFunctions& basis, const CosineCutoff& cutoff) const;
    // The spline's columns at one r, interpolated (columns_ each).
    void interpolate(double r, double* values, double* derivatives) const;

    double cutoff_;
    std::vector<int> n_max_;
    std::vector<std::size_t> offsets_;
    std::size_t functions_ = 0;
    // Separable basis: columns [0, n_max) hold P_n f_c, [n_max, n_max + l_max) hold A_1 … A_l_max.
    bool separable_ = false;
    std::size_t columns_ = 0;
    // Grid: nodes at start_ + k·spacing_, k = 0 … grid_points_ − 1, the last one at r_c, with
    // start_ ≤ 0 so that r_c − w is a node too. Node k stores [g(columns) | g'(columns)] contiguously.
    double start_ = 0;
    double spacing_ = 0;
    double inverse_spacing_ = 0;
    std::size_t grid_points_ = 0;
    std::vector<double> table_;
};

}  // namespace chorus::models::features
