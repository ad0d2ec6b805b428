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
// Indexing: all functions in one flat array ordered by l, then n: index = offset(l) + n,
// n = 0 … n_max(l) − 1 (n = 0 uses the first zero). n_max may depend on l (eigenvalue truncation).
#include <cstddef>
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

struct LaplacianEigenstateSettings {
    double cutoff = 5.0;        // r_c, Å
    int max_angular = 6;        // l_max
    int max_radial = 8;         // at most this many n per l
    double max_eigenvalue = 0;  // Å⁻²; when > 0 keep only (z_nl/r_c)² ≤ max_eigenvalue
};

// The exact, unsplined basis R_nl(r) = N_nl j_l(z_nl r/r_c), normalised so that
// ∫_0^{r_c} R_nl R_n'l r² dr = δ_nn'. Used to build splines and by tests; never in hot loops.
class LaplacianEigenstateBasis {
public:
    // Throws ConfigError for a non-positive cutoff, negative orders, or a truncation that
    // leaves no function at all.
    explicit LaplacianEigenstateBasis(const LaplacianEigenstateSettings& settings);

    double cutoff() const { return cutoff_; }
    int max_angular() const { return max_angular_; }
    int n_max(int l) const { return static_cast<int>(zeros_[static_cast<std::size_t>(l)].size()); }
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

// g_nl(r) = R_nl(r) f_c(r) for every (n, l), tabulated on a uniform grid as cubic Hermite splines
// (exact value and derivative at every node). The grid spacing is refined at construction until
// the spline error at cell midpoints, where the Hermite error peaks, is below half of
// `relative_accuracy` times each function's maximum. Immutable after construction; thread safe.
class SplinedRadialBasis {
public:
    SplinedRadialBasis(const LaplacianEigenstateBasis& basis, const CosineCutoff& cutoff,
                       double relative_accuracy = 1e-8);

    double cutoff() const { return cutoff_; }
    int max_angular() const { return static_cast<int>(n_max_.size()) - 1; }
    int n_max(int l) const { return n_max_[static_cast<std::size_t>(l)]; }
    std::size_t offset(int l) const { return offsets_[static_cast<std::size_t>(l)]; }
    // Total number of (n, l) functions.
    std::size_t size() const { return functions_; }
    std::size_t grid_points() const { return grid_points_; }
    double grid_spacing() const { return spacing_; }

    // All g_nl(r) and dg_nl/dr at one 0 < r, flat (n, l) order; zero for r ≥ r_c.
    // values.size() and derivatives.size() must be ≥ size() (not checked: hot path).
    void compute(double r, std::span<double> values, std::span<double> derivatives) const;

    // The same for n = r.size() distances at once, component-major for kernels that vectorise
    // over neighbours: values[f·n + i], derivatives[f·n + i]. Both spans ≥ size()·n (not checked).
    void compute_components(std::span<const double> r, std::span<double> values,
                            std::span<double> derivatives) const;

private:
    void tabulate(const LaplacianEigenstateBasis& basis, const CosineCutoff& cutoff, int cells_in_width);
    double midpoint_error(const LaplacianEigenstateBasis& basis, const CosineCutoff& cutoff) const;

    double cutoff_;
    std::vector<int> n_max_;
    std::vector<std::size_t> offsets_;
    std::size_t functions_ = 0;
    // Grid: nodes at start_ + k·spacing_, k = 0 … grid_points_ − 1, the last one at r_c, with
    // start_ ≤ 0 so that r_c − w is a node too. Node k stores [g(size) | g'(size)] contiguously.
    double start_ = 0;
    double spacing_ = 0;
    double inverse_spacing_ = 0;
    std::size_t grid_points_ = 0;
    std::vector<double> table_;
};

}  // namespace chorus::models::features
