#include "chorus/models/features/radial_basis.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <sstream>
#include <string>

#include "chorus/error.hpp"

namespace chorus::models::features {
namespace {

constexpr double pi = std::numbers::pi;

// Above this the table would no longer fit any cache and something is wrong with the settings.
constexpr std::size_t max_grid_points = 200000;

// Shortest readable form for error messages (std::to_string would print 1e-9 as 0.000000).
std::string to_text(double x) {
    std::ostringstream text;
    text << x;
    return text.str();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
CosineCutoff::CosineCutoff(double cutoff, double width) : cutoff_(cutoff), width_(width) {
    if (!(cutoff > 0.0) || !std::isfinite(cutoff)) {
        throw ConfigError("cosine cutoff: the cutoff radius " + to_text(cutoff) +
                          " Å must be positive and finite");
    }
    if (!(width > 0.0) || width > cutoff) {
        throw ConfigError("cosine cutoff: the switching width " + to_text(width) +
                          " Å must be in (0, r_c = " + to_text(cutoff) + " Å]");
    }
}

double CosineCutoff::value(double r) const {
    const double start = cutoff_ - width_;
    if (r <= start) {
        return 1.0;
    }
    if (r >= cutoff_) {
        return 0.0;
    }
    return 0.5 * (1.0 + std::cos(pi * (r - start) / width_));
}

double CosineCutoff::derivative(double r) const {
    const double start = cutoff_ - width_;
    if (r <= start || r >= cutoff_) {
        return 0.0;
    }
    return -0.5 * pi / width_ * std::sin(pi * (r - start) / width_);
}

// ---------------------------------------------------------------------------------------------
double spherical_bessel(int l, double x) {
    const double value = std::sph_bessel(static_cast<unsigned>(l), std::abs(x));
    return (x < 0.0 && l % 2 == 1) ? -value : value;
}

double spherical_bessel_derivative(int l, double x) {
    if (l == 0) {
        return -spherical_bessel(1, x);
    }
    // The three-term form stays finite at x = 0, unlike j_{l−1} − (l+1) j_l / x.
    return (l * spherical_bessel(l - 1, x) - (l + 1) * spherical_bessel(l + 1, x)) / (2 * l + 1);
}

std::vector<double> spherical_bessel_zeros(int l, int count) {
    if (l < 0 || count < 0) {
        throw ConfigError("spherical Bessel zeros: l = " + std::to_string(l) +
                          " and count = " + std::to_string(count) + " must be non-negative");
    }
    std::vector<double> zeros;
    zeros.reserve(static_cast<std::size_t>(count));
    // Consecutive zeros are ≈ π apart and the first lies above l, so a step of 0.1 from l + 0.1
    // cannot jump over a pair of them.
    constexpr double step = 0.1;
    double left = l + step;
    double f_left = spherical_bessel(l, left);
    while (static_cast<int>(zeros.size()) < count) {
        const double right = left + step;
        const double f_right = spherical_bessel(l, right);
        if (f_right == 0.0) {
            zeros.push_back(right);
        } else if ((f_left < 0.0) != (f_right < 0.0)) {
            double a = left;
            double b = right;
            double f_a = f_left;
            // Bisection down to neighbouring doubles: 0.1 / 2^60 is far below one ulp.
            for (int iteration = 0; iteration < 60 && a < b; ++iteration) {
                const double middle = 0.5 * (a + b);
                if (middle <= a || middle >= b) {
                    break;
                }
                const double f_middle = spherical_bessel(l, middle);
                if ((f_middle < 0.0) == (f_a < 0.0)) {
                    a = middle;
                    f_a = f_middle;
                } else {
                    b = middle;
                }
            }
            zeros.push_back(0.5 * (a + b));
        }
        left = right;
        f_left = f_right;
    }
    return zeros;
}

// ---------------------------------------------------------------------------------------------
LaplacianEigenstateBasis::LaplacianEigenstateBasis(const LaplacianEigenstateSettings& settings)
    : cutoff_(settings.cutoff), max_angular_(settings.max_angular) {
    if (!(settings.cutoff > 0.0) || !std::isfinite(settings.cutoff)) {
        throw ConfigError("radial basis: the cutoff " + to_text(settings.cutoff) +
                          " Å must be positive and finite");
    }
    if (settings.max_angular < 0 || settings.max_radial < 1) {
        throw ConfigError("radial basis: max_angular = " + std::to_string(settings.max_angular) +
                          " and max_radial = " + std::to_string(settings.max_radial) +
                          " must be ≥ 0 and ≥ 1");
    }
    std::size_t total = 0;
    for (int l = 0; l <= settings.max_angular; ++l) {
        std::vector<double> zeros = spherical_bessel_zeros(l, settings.max_radial);
        if (settings.max_eigenvalue > 0.0) {
            const double max_zero = std::sqrt(settings.max_eigenvalue) * settings.cutoff;
            std::erase_if(zeros, [max_zero](double z) { return z > max_zero; });
        }
        std::vector<double> normalisation;
        for (const double z : zeros) {
            // ∫_0^{r_c} j_l(z r/r_c)² r² dr = r_c³/2 · j_{l+1}(z)² when j_l(z) = 0.
            normalisation.push_back(std::sqrt(2.0 / (cutoff_ * cutoff_ * cutoff_)) /
                                    std::abs(spherical_bessel(l + 1, z)));
        }
        total += zeros.size();
        zeros_.push_back(std::move(zeros));
        normalisation_.push_back(std::move(normalisation));
    }
    if (total == 0) {
        throw ConfigError("radial basis: max_eigenvalue = " + to_text(settings.max_eigenvalue) +
                          " Å⁻² keeps no function at all (the smallest eigenvalue is (π/r_c)² = " +
                          to_text(pi * pi / (cutoff_ * cutoff_)) + " Å⁻²); raise it");
    }
}

double LaplacianEigenstateBasis::value(int n, int l, double r) const {
    const double z = zero(n, l);
    return normalisation_[static_cast<std::size_t>(l)][static_cast<std::size_t>(n)] *
           spherical_bessel(l, z * r / cutoff_);
}

double LaplacianEigenstateBasis::derivative(int n, int l, double r) const {
    const double z = zero(n, l);
    return normalisation_[static_cast<std::size_t>(l)][static_cast<std::size_t>(n)] * z / cutoff_ *
           spherical_bessel_derivative(l, z * r / cutoff_);
}

// ---------------------------------------------------------------------------------------------
namespace {

struct ValueAndDerivative {
    double value;
    double derivative;
};

ValueAndDerivative exact_product(const LaplacianEigenstateBasis& basis, const CosineCutoff& cutoff, int n,
                                 int l, double r) {
    if (r >= cutoff.cutoff()) {
        return {0.0, 0.0};
    }
    const double f = cutoff.value(r);
    const double df = cutoff.derivative(r);
    const double g = basis.value(n, l, r);
    const double dg = basis.derivative(n, l, r);
    return {g * f, dg * f + g * df};
}

}  // namespace

SplinedRadialBasis::SplinedRadialBasis(const LaplacianEigenstateBasis& basis, const CosineCutoff& cutoff,
                                       double relative_accuracy)
    : cutoff_(basis.cutoff()) {
    if (std::abs(cutoff.cutoff() - basis.cutoff()) > 1e-12 * basis.cutoff()) {
        throw ConfigError("radial basis: the cutoff function ends at " + to_text(cutoff.cutoff()) +
                          " Å but the basis at " + to_text(basis.cutoff()) + " Å; use the same r_c");
    }
    if (!(relative_accuracy > 0.0)) {
        throw ConfigError("radial basis: the spline accuracy " + to_text(relative_accuracy) +
                          " must be positive");
    }
    for (int l = 0; l <= basis.max_angular(); ++l) {
        n_max_.push_back(basis.n_max(l));
        offsets_.push_back(functions_);
        functions_ += static_cast<std::size_t>(basis.n_max(l));
    }

    // Hermite error ∝ h⁴: start at h ≈ 0.05 Å and jump straight to the spacing the measured
    // error asks for (with 10 % margin), which converges in one or two rounds.
    const double target = 0.5 * relative_accuracy;
    int cells_in_width = std::max(1, static_cast<int>(std::ceil(cutoff.width() / 0.05)));
    for (int round = 0;; ++round) {
        tabulate(basis, cutoff, cells_in_width);
        const double error = midpoint_error(basis, cutoff);
        if (error <= target) {
            break;
        }
        const double factor = std::max(1.1 * std::pow(error / target, 0.25), 1.2);
        cells_in_width = static_cast<int>(std::ceil(cells_in_width * factor));
        if (round > 20 || static_cast<double>(cells_in_width) * cutoff_ / cutoff.width() > max_grid_points) {
            throw ConfigError("radial basis: a spline accuracy of " + to_text(relative_accuracy) +
                              " would need more than " + std::to_string(max_grid_points) +
                              " grid points; relax it or use fewer/smoother functions");
        }
    }
}

void SplinedRadialBasis::tabulate(const LaplacianEigenstateBasis& basis, const CosineCutoff& cutoff,
                                  int cells_in_width) {
    spacing_ = cutoff.width() / cells_in_width;
    inverse_spacing_ = 1.0 / spacing_;
    // Cells from r_c downwards until r = 0 is covered; the first node may sit at a small negative r,
    // where j_l is still smooth (it is even or odd), so nothing special happens there.
    const auto cells = static_cast<std::size_t>(std::ceil(cutoff_ / spacing_ - 1e-9));
    grid_points_ = cells + 1;
    start_ = cutoff_ - static_cast<double>(cells) * spacing_;
    table_.assign(grid_points_ * 2 * functions_, 0.0);
    for (std::size_t k = 0; k < grid_points_; ++k) {
        // the last node is exactly r_c, where everything vanishes with its derivative
        const double r = k + 1 == grid_points_ ? cutoff_ : start_ + static_cast<double>(k) * spacing_;
        double* node = table_.data() + k * 2 * functions_;
        for (int l = 0; l <= max_angular(); ++l) {
            for (int n = 0; n < n_max(l); ++n) {
                const auto [g, dg] = exact_product(basis, cutoff, n, l, r);
                node[offset(l) + static_cast<std::size_t>(n)] = g;
                node[functions_ + offset(l) + static_cast<std::size_t>(n)] = dg;
            }
        }
    }
}

double SplinedRadialBasis::midpoint_error(const LaplacianEigenstateBasis& basis,
                                          const CosineCutoff& cutoff) const {
    std::vector<double> values(functions_), derivatives(functions_);
    std::vector<double> largest(functions_, 0.0), worst(functions_, 0.0);
    for (std::size_t k = 0; k < grid_points_; ++k) {
        const double* node = table_.data() + k * 2 * functions_;
        for (std::size_t f = 0; f < functions_; ++f) {
            largest[f] = std::max(largest[f], std::abs(node[f]));
        }
    }
    for (std::size_t k = 0; k + 1 < grid_points_; ++k) {
        const double r = start_ + (static_cast<double>(k) + 0.5) * spacing_;
        if (r <= 0.0) {
            continue;
        }
        compute(r, values, derivatives);
        for (int l = 0; l <= max_angular(); ++l) {
            for (int n = 0; n < n_max(l); ++n) {
                const std::size_t f = offset(l) + static_cast<std::size_t>(n);
                worst[f] =
                    std::max(worst[f], std::abs(values[f] - exact_product(basis, cutoff, n, l, r).value));
            }
        }
    }
    double error = 0.0;
    for (std::size_t f = 0; f < functions_; ++f) {
        error = std::max(error, worst[f] / largest[f]);
    }
    return error;
}

namespace {

struct SplineGrid {
    const double* table;
    std::size_t functions;
    std::size_t grid_points;
    double start;
    double spacing;
    double inverse_spacing;
    double cutoff;
};

// compute() for many distances, written to the component-major layout. One grid lookup per
// distance; the loop over functions reads four contiguous table rows and vectorises.
[[gnu::target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")]] void spline_components(
    const SplineGrid& grid, const double* distances, std::size_t n, double* values, double* derivatives) {
    const std::size_t count = grid.functions;
    for (std::size_t i = 0; i < n; ++i) {
        const double r = distances[i];
        if (!(r < grid.cutoff)) {
            for (std::size_t f = 0; f < count; ++f) {
                values[f * n + i] = 0.0;
                derivatives[f * n + i] = 0.0;
            }
            continue;
        }
        const double t = (r - grid.start) * grid.inverse_spacing;
        auto cell = static_cast<std::size_t>(t);
        cell = cell < grid.grid_points - 2 ? cell : grid.grid_points - 2;
        const double u = t - static_cast<double>(cell);
        const double u2 = u * u;
        const double v = 1.0 - u;
        const double h00 = (1.0 + 2.0 * u) * v * v;
        const double h10 = u * v * v * grid.spacing;
        const double h01 = u2 * (3.0 - 2.0 * u);
        const double h11 = u2 * (u - 1.0) * grid.spacing;
        const double d00 = 6.0 * (u2 - u) * grid.inverse_spacing;
        const double d10 = 3.0 * u2 - 4.0 * u + 1.0;
        const double d11 = 3.0 * u2 - 2.0 * u;
        const double* const value0 = grid.table + cell * 2 * count;
        const double* const slope0 = value0 + count;
        const double* const value1 = slope0 + count;
        const double* const slope1 = value1 + count;
        for (std::size_t f = 0; f < count; ++f) {
            values[f * n + i] = h00 * value0[f] + h10 * slope0[f] + h01 * value1[f] + h11 * slope1[f];
            derivatives[f * n + i] = d00 * (value0[f] - value1[f]) + d10 * slope0[f] + d11 * slope1[f];
        }
    }
}

}  // namespace

void SplinedRadialBasis::compute_components(std::span<const double> r, std::span<double> values,
                                            std::span<double> derivatives) const {
    const SplineGrid grid{table_.data(), functions_,       grid_points_, start_,
                          spacing_,      inverse_spacing_, cutoff_};
    spline_components(grid, r.data(), r.size(), values.data(), derivatives.data());
}

void SplinedRadialBasis::compute(double r, std::span<double> values, std::span<double> derivatives) const {
    double* const out_value = values.data();
    double* const out_derivative = derivatives.data();
    const std::size_t count = functions_;
    if (!(r < cutoff_)) {
        std::fill_n(out_value, count, 0.0);
        std::fill_n(out_derivative, count, 0.0);
        return;
    }
    const double t = (r - start_) * inverse_spacing_;
    auto cell = static_cast<std::size_t>(t);
    cell = std::min(cell, grid_points_ - 2);
    const double u = t - static_cast<double>(cell);

    // Cubic Hermite basis on the unit interval and its u-derivative.
    const double u2 = u * u;
    const double v = 1.0 - u;
    const double h00 = (1.0 + 2.0 * u) * v * v;
    const double h10 = u * v * v * spacing_;
    const double h01 = u2 * (3.0 - 2.0 * u);
    const double h11 = u2 * (u - 1.0) * spacing_;
    const double d00 = 6.0 * (u2 - u) * inverse_spacing_;
    const double d10 = 3.0 * u2 - 4.0 * u + 1.0;
    const double d11 = 3.0 * u2 - 2.0 * u;

    const double* const value0 = table_.data() + cell * 2 * count;
    const double* const slope0 = value0 + count;
    const double* const value1 = slope0 + count;
    const double* const slope1 = value1 + count;
    for (std::size_t f = 0; f < count; ++f) {
        out_value[f] = h00 * value0[f] + h10 * slope0[f] + h01 * value1[f] + h11 * slope1[f];
        out_derivative[f] = d00 * (value0[f] - value1[f]) + d10 * slope0[f] + d11 * slope1[f];
    }
}

}  // namespace chorus::models::features
