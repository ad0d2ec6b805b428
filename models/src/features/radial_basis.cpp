#include "chorus/models/features/radial_basis.hpp"

#include <algorithm>
#include <vector>

#include <Eigen/Eigenvalues>
#include <cmath>
#include <numbers>
#include <sstream>
#include <string>

#include "chorus/error.hpp"
#include "simd_lanes.hpp"

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

void LaplacianEigenstateBasis::evaluate(double r, std::span<double> values,
                                        std::span<double> derivatives) const {
    std::size_t f = 0;
    for (int l = 0; l <= max_angular_; ++l) {
        for (int n = 0; n < n_max(l); ++n, ++f) {
            values[f] = value(n, l, r);
            derivatives[f] = derivative(n, l, r);
        }
    }
}

// ---------------------------------------------------------------------------------------------
void scaled_modified_spherical_bessel(double z, std::span<double> values, std::span<double> derivatives) {
    const int count = static_cast<int>(values.size());
    // One order more than asked for: the derivative needs i_{l+1}.
    std::vector<double> s(static_cast<std::size_t>(count) + 1, 0.0);
    const int top = count;
    if (z == 0.0) {
        s[0] = 1.0;
    } else if (z <= 30.0) {
        // Power series, all terms positive: i_l(z) = z^l/(2l+1)!! Σ_k (z²/2)^k / (k! Π_j (2l+2j+1)).
        // Up to z = 30 the unscaled values (≤ e^30) cannot overflow.
        const double scale = std::exp(-z);
        double leading = 1.0;  // z^l/(2l+1)!!
        for (int l = 0; l <= top; ++l) {
            if (l > 0) {
                leading *= z / (2 * l + 1);
            }
            double term = 1.0;
            double sum = 1.0;
            for (int k = 1; k < 400; ++k) {
                term *= 0.5 * z * z / (k * (2.0 * l + 2.0 * k + 1.0));
                sum += term;
                if (term < 1e-17 * sum) {
                    break;
                }
            }
            s[static_cast<std::size_t>(l)] = leading * sum * scale;
        }
    } else {
        // Closed form i_l(z) = [e^z Σ_k (−1)^k a_k/(2z)^k − (−1)^l e^{−z} Σ_k a_k/(2z)^k] / (2z),
        // a_k = (l+k)!/(k!(l−k)!). Above z = 30 the alternating sum loses at most a few digits
        // for l ≤ 13, and the second term is below e^{−60}.
        const double decay = std::exp(-2.0 * z);
        for (int l = 0; l <= top; ++l) {
            double a = 1.0;
            double alternating = 1.0;
            double plain = 1.0;
            double power = 1.0;
            for (int k = 1; k <= l; ++k) {
                a *= static_cast<double>((l + k) * (l - k + 1)) / k;
                power *= 2.0 * z;
                alternating += (k % 2 == 1 ? -a : a) / power;
                plain += a / power;
            }
            s[static_cast<std::size_t>(l)] =
                (alternating - (l % 2 == 0 ? 1.0 : -1.0) * decay * plain) / (2.0 * z);
        }
    }
    for (int l = 0; l < count; ++l) {
        const auto u = static_cast<std::size_t>(l);
        values[u] = s[u];
        // i_l' = (l i_{l−1} + (l+1) i_{l+1})/(2l+1); i_0' = i_1.
        derivatives[u] = l == 0 ? s[1] : (l * s[u - 1] + (l + 1) * s[u + 1]) / (2 * l + 1);
    }
}

namespace {

// Gauss–Legendre abscissae and weights on [−1, 1] (Newton on P_n; set-up time only).
void gauss_legendre(int order, std::vector<double>& nodes, std::vector<double>& weights) {
    nodes.assign(static_cast<std::size_t>(order), 0.0);
    weights.assign(static_cast<std::size_t>(order), 0.0);
    for (int i = 0; i < order; ++i) {
        double x = std::cos(pi * (i + 0.75) / (order + 0.5));
        double slope = 1.0;
        for (int iteration = 0; iteration < 100; ++iteration) {
            double p0 = 1.0;
            double p1 = x;
            for (int k = 2; k <= order; ++k) {
                const double p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
                p0 = p1;
                p1 = p2;
            }
            slope = order * (x * p1 - p0) / (x * x - 1.0);
            const double step = p1 / slope;
            x -= step;
            if (std::abs(step) < 1e-16) {
                break;
            }
        }
        nodes[static_cast<std::size_t>(i)] = x;
        weights[static_cast<std::size_t>(i)] = 2.0 / ((1.0 - x * x) * slope * slope);
    }
}

// Points per panel and panels per σ: a Gaussian sampled by 12 Gauss–Legendre points every σ/2 is
// integrated to ~1e-15, far below the spline target.
constexpr int points_per_panel = 12;
constexpr double panels_per_sigma = 2.0;
// Beyond 10 σ the Gaussian weight is below e^{−50}.
constexpr double gaussian_reach = 10.0;

}  // namespace

GaussianTypeOrbitalBasis::GaussianTypeOrbitalBasis(const LaplacianEigenstateSettings& settings)
    : cutoff_(settings.cutoff), max_angular_(settings.max_angular), n_max_(settings.max_radial) {
    if (!(cutoff_ > 0.0) || !std::isfinite(cutoff_) || max_angular_ < 0 || n_max_ < 1) {
        throw ConfigError("GTO radial basis: cutoff " + to_text(cutoff_) + " Å, max_angular " +
                          std::to_string(max_angular_) + " and max_radial " + std::to_string(n_max_) +
                          " must be > 0, ≥ 0 and ≥ 1");
    }
    for (int k = 0; k < n_max_; ++k) {
        widths_.push_back(cutoff_ * std::max(std::sqrt(static_cast<double>(k)), 1.0) / n_max_);
    }
    // Overlaps on [0, r_c] by Gauss–Legendre: 40 panels × 12 points resolve the narrowest
    // Gaussian (s_0 = r_c/n_max) to machine precision.
    std::vector<double> unit_nodes, unit_weights;
    gauss_legendre(points_per_panel, unit_nodes, unit_weights);
    constexpr int panels = 40;
    const auto size = static_cast<Eigen::Index>(n_max_);
    for (int l = 0; l <= max_angular_; ++l) {
        Eigen::MatrixXd overlap = Eigen::MatrixXd::Zero(size, size);
        for (int p = 0; p < panels; ++p) {
            for (int i = 0; i < points_per_panel; ++i) {
                const double width = cutoff_ / panels;
                const double x = width * (p + 0.5 * (1.0 + unit_nodes[static_cast<std::size_t>(i)]));
                const double w = 0.5 * width * unit_weights[static_cast<std::size_t>(i)];
                Eigen::VectorXd g(size);
                for (int k = 0; k < n_max_; ++k) {
                    const double s = widths_[static_cast<std::size_t>(k)];
                    g[k] = std::pow(x, k) * std::exp(-0.5 * x * x / (s * s));
                }
                overlap += w * x * x * g * g.transpose();
            }
        }
        const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(overlap);
        const Eigen::VectorXd& lambda = eigen.eigenvalues();
        if (lambda.minCoeff() <= 1e-14 * lambda.maxCoeff()) {
            throw ConfigError("GTO radial basis: the " + std::to_string(n_max_) + " Gaussians at l = " +
                              std::to_string(l) + " are linearly dependent on [0, r_c]; lower max_radial");
        }
        const Eigen::MatrixXd inverse_root = eigen.eigenvectors() *
                                             lambda.cwiseSqrt().cwiseInverse().asDiagonal() *
                                             eigen.eigenvectors().transpose();
        for (int n = 0; n < n_max_; ++n) {
            for (int k = 0; k < n_max_; ++k) {
                coefficients_.push_back(inverse_root(n, k));
            }
        }
    }
}

void GaussianTypeOrbitalBasis::evaluate(double r, std::span<double> values,
                                        std::span<double> derivatives) const {
    std::vector<double> gaussians(static_cast<std::size_t>(n_max_)), slopes(static_cast<std::size_t>(n_max_));
    std::size_t f = 0;
    for (int l = 0; l <= max_angular_; ++l) {
        // r^k and k r^{k−1} by repeated products (the same primitives for every l).
        double power = 1.0;
        double lower = 0.0;  // r^{k−1}
        for (int k = 0; k < n_max_; ++k) {
            const double s2 = widths_[static_cast<std::size_t>(k)] * widths_[static_cast<std::size_t>(k)];
            const double e = std::exp(-0.5 * r * r / s2);
            gaussians[static_cast<std::size_t>(k)] = power * e;
            slopes[static_cast<std::size_t>(k)] = (k * lower - r * power / s2) * e;
            lower = power;
            power *= r;
        }
        for (int n = 0; n < n_max_; ++n, ++f) {
            const double* c = coefficients_.data() +
                              (static_cast<std::size_t>(l * n_max_ + n)) * static_cast<std::size_t>(n_max_);
            double value = 0.0;
            double slope = 0.0;
            for (int k = 0; k < n_max_; ++k) {
                value += c[k] * gaussians[static_cast<std::size_t>(k)];
                slope += c[k] * slopes[static_cast<std::size_t>(k)];
            }
            values[f] = value;
            derivatives[f] = slope;
        }
    }
}

GaussianSmearedBasis::GaussianSmearedBasis(std::unique_ptr<RadialFunctions> primitive, double smearing)
    : primitive_(std::move(primitive)), smearing_(smearing) {
    if (!(smearing > 0.0) || !std::isfinite(smearing) || smearing > 0.5 * primitive_->cutoff()) {
        throw ConfigError("radial basis: the smearing σ = " + to_text(smearing) +
                          " Å must be positive and at most r_c/2 = " + to_text(0.5 * primitive_->cutoff()) +
                          " Å; typical values are 0.3–0.5 Å");
    }
    for (int l = 0; l <= primitive_->max_angular(); ++l) {
        functions_ += static_cast<std::size_t>(primitive_->n_max(l));
    }
    std::vector<double> unit_nodes, unit_weights;
    gauss_legendre(points_per_panel, unit_nodes, unit_weights);
    const double r_c = primitive_->cutoff();
    const auto panels = static_cast<int>(std::ceil(r_c * panels_per_sigma / smearing));
    const double width = r_c / panels;
    std::vector<double> values(functions_), derivatives(functions_);
    for (int p = 0; p < panels; ++p) {
        for (int i = 0; i < points_per_panel; ++i) {
            const double x = width * (p + 0.5 * (1.0 + unit_nodes[static_cast<std::size_t>(i)]));
            const double w = 0.5 * width * unit_weights[static_cast<std::size_t>(i)];
            primitive_->evaluate(x, values, derivatives);
            nodes_.push_back(x);
            for (const double value : values) {
                weighted_.push_back(w * x * x * value);
            }
        }
    }
}

void GaussianSmearedBasis::evaluate(double r, std::span<double> values, std::span<double> derivatives) const {
    const double distance = std::abs(r);
    const double variance = smearing_ * smearing_;
    const double prefactor = 4.0 * pi * std::pow(2.0 * pi * variance, -1.5);
    const int orders = primitive_->max_angular() + 1;
    std::vector<double> s(static_cast<std::size_t>(orders)), t(static_cast<std::size_t>(orders));
    std::fill_n(values.begin(), functions_, 0.0);
    std::fill_n(derivatives.begin(), functions_, 0.0);
    const auto first = static_cast<std::size_t>(
        std::lower_bound(nodes_.begin(), nodes_.end(), distance - gaussian_reach * smearing_) -
        nodes_.begin());
    for (std::size_t q = first; q < nodes_.size() && nodes_[q] <= distance + gaussian_reach * smearing_;
         ++q) {
        const double x = nodes_[q];
        // exp(−(x² + r²)/(2σ²)) i_l(xr/σ²) = exp(−(x − r)²/(2σ²)) · e^{−z} i_l(z), z = xr/σ².
        const double gaussian = std::exp(-0.5 * (x - distance) * (x - distance) / variance);
        scaled_modified_spherical_bessel(x * distance / variance, s, t);
        const double* row = weighted_.data() + q * functions_;
        std::size_t f = 0;
        for (int l = 0; l < orders; ++l) {
            const auto u = static_cast<std::size_t>(l);
            const double value = gaussian * s[u];
            // d/dr [exp(−(x²+r²)/(2σ²)) i_l(xr/σ²)] = exp(…)(−r i_l + x i_l')/σ²
            const double slope = gaussian * (x * t[u] - distance * s[u]) / variance;
            for (int n = 0; n < primitive_->n_max(l); ++n, ++f) {
                values[f] += row[f] * value;
                derivatives[f] += row[f] * slope;
            }
        }
    }
    std::size_t f = 0;
    for (int l = 0; l < orders; ++l) {
        // R̃_nl(−r) = (−1)^l R̃_nl(r), like j_l, so the spline's nodes at r ≤ 0 stay smooth.
        const double value_sign = (r < 0.0 && l % 2 == 1) ? -1.0 : 1.0;
        const double slope_sign = (r < 0.0 && l % 2 == 0) ? -1.0 : 1.0;
        for (int n = 0; n < primitive_->n_max(l); ++n, ++f) {
            values[f] *= prefactor * value_sign;
            derivatives[f] *= prefactor * slope_sign;
        }
    }
}

// ---------------------------------------------------------------------------------------------
double RadialScaling::value(double r) const {
    const double x = std::abs(r) / r0;
    return prefactor / (prefactor + std::pow(x, exponent));
}

double RadialScaling::derivative(double r) const {
    const double x = std::abs(r) / r0;
    if (x == 0.0) {
        // The one-sided slope at 0 vanishes for m > 1 (u is even there); for m ≤ 1 u has a kink
        // that no smooth table represents, so 0 is as good as any value.
        return 0.0;
    }
    const double power = std::pow(x, exponent);
    const double denominator = prefactor + power;
    const double slope = -prefactor * exponent * power / (x * r0 * denominator * denominator);
    return r < 0.0 ? -slope : slope;
}

void RadialFunctions::evaluate_separable(double, std::span<double>, std::span<double>, std::span<double>,
                                         std::span<double>) const {
    throw ConfigError("radial basis: this basis is not separable into P_n(r) A_l(r); evaluate it whole");
}

namespace {

LaplacianEigenstateSettings l0_only(LaplacianEigenstateSettings settings) {
    settings.max_angular = 0;
    return settings;
}

}  // namespace

SeparableSmearedBasis::SeparableSmearedBasis(const LaplacianEigenstateSettings& settings, double smearing)
    : radial_(std::make_unique<GaussianTypeOrbitalBasis>(l0_only(settings)), smearing),
      max_angular_(settings.max_angular),
      smearing_(smearing) {}

void SeparableSmearedBasis::evaluate_separable(double r, std::span<double> radial,
                                               std::span<double> radial_derivatives,
                                               std::span<double> angular,
                                               std::span<double> angular_derivatives) const {
    radial_.evaluate(r, radial, radial_derivatives);
    // A_l = i_l(z)/i_0(z) at z = r²/σ², from the scaled e^{−z} i_l (the e^{−z} cancel):
    // dA_l/dz = (i_l' i_0 − i_l i_0')/i_0², dz/dr = 2r/σ². Even in r, like the l = 0 functions.
    const double variance = smearing_ * smearing_;
    const double distance = std::abs(r);
    const auto orders = static_cast<std::size_t>(max_angular_) + 1;
    std::vector<double> scaled(orders), slopes(orders);
    scaled_modified_spherical_bessel(distance * distance / variance, scaled, slopes);
    const double chain = 2.0 * r / variance;
    for (std::size_t l = 1; l < orders; ++l) {
        angular[l - 1] = scaled[l] / scaled[0];
        angular_derivatives[l - 1] =
            (slopes[l] * scaled[0] - scaled[l] * slopes[0]) / (scaled[0] * scaled[0]) * chain;
    }
}

void SeparableSmearedBasis::evaluate(double r, std::span<double> values,
                                     std::span<double> derivatives) const {
    const auto n = static_cast<std::size_t>(n_max(0));
    const auto l_max = static_cast<std::size_t>(max_angular_);
    std::vector<double> p(n), dp(n), a(l_max), da(l_max);
    evaluate_separable(r, p, dp, a, da);
    for (std::size_t k = 0; k < n; ++k) {
        values[k] = p[k];
        derivatives[k] = dp[k];
    }
    for (std::size_t l = 1; l <= l_max; ++l) {
        for (std::size_t k = 0; k < n; ++k) {
            values[l * n + k] = p[k] * a[l - 1];
            derivatives[l * n + k] = dp[k] * a[l - 1] + p[k] * da[l - 1];
        }
    }
}

ScaledRadialFunctions::ScaledRadialFunctions(std::unique_ptr<RadialFunctions> primitive,
                                             const RadialScaling& scaling)
    : primitive_(std::move(primitive)), scaling_(scaling) {
    const auto check = [](double x, const char* key, const char* example) {
        if (!(x > 0.0) || !std::isfinite(x)) {
            throw ConfigError(std::string("radial basis: `radial_basis.radial_scaling.") + key +
                              "` = " + to_text(x) + " must be positive and finite, e.g. " + example);
        }
    };
    check(scaling.r0, "r0", "2.5 (Å)");
    check(scaling.exponent, "exponent", "4");
    check(scaling.prefactor, "prefactor", "1");
}

void ScaledRadialFunctions::evaluate(double r, std::span<double> values,
                                     std::span<double> derivatives) const {
    primitive_->evaluate(r, values, derivatives);
    const double u = scaling_.value(r);
    const double du = scaling_.derivative(r);
    std::size_t f = 0;
    for (int l = 0; l <= max_angular(); ++l) {
        for (int n = 0; n < n_max(l); ++n, ++f) {
            derivatives[f] = u * derivatives[f] + du * values[f];
            values[f] *= u;
        }
    }
}

void ScaledRadialFunctions::evaluate_separable(double r, std::span<double> radial,
                                               std::span<double> radial_derivatives,
                                               std::span<double> angular,
                                               std::span<double> angular_derivatives) const {
    primitive_->evaluate_separable(r, radial, radial_derivatives, angular, angular_derivatives);
    const double u = scaling_.value(r);
    const double du = scaling_.derivative(r);
    for (int n = 0; n < n_max(0); ++n) {
        const auto k = static_cast<std::size_t>(n);
        radial_derivatives[k] = u * radial_derivatives[k] + du * radial[k];
        radial[k] *= u;
    }
}

ContractedRadialFunctions::ContractedRadialFunctions(std::unique_ptr<RadialFunctions> primitive,
                                                     std::vector<std::vector<double>> matrices)
    : primitive_(std::move(primitive)), matrices_(std::move(matrices)) {
    const int orders = primitive_->max_angular() + 1;
    if (static_cast<int>(matrices_.size()) != orders) {
        throw ConfigError("radial basis: `radial_basis.contraction` has " + std::to_string(matrices_.size()) +
                          " matrices but the density needs one per l = 0 … " + std::to_string(orders - 1) +
                          "; refit the contraction for these settings");
    }
    for (int l = 0; l < orders; ++l) {
        const auto& matrix = matrices_[static_cast<std::size_t>(l)];
        const auto rows = static_cast<std::size_t>(primitive_->n_max(l));
        const std::string key = "`radial_basis.contraction[" + std::to_string(l) + "]`";
        if (rows == 0 || matrix.empty() || matrix.size() % rows != 0) {
            throw ConfigError("radial basis: " + key + " has " + std::to_string(matrix.size()) +
                              " entries, not a multiple of the " + std::to_string(rows) +
                              " primitive functions (primitive_n_max); it must be row-major "
                              "primitive_n_max × n_max");
        }
        const int columns = static_cast<int>(matrix.size() / rows);
        if (l == 0) {
            n_max_ = columns;
        } else if (columns != n_max_) {
            throw ConfigError("radial basis: " + key + " has " + std::to_string(columns) +
                              " columns but contraction[0] has " + std::to_string(n_max_) +
                              "; every l must map to the same n_max");
        }
        for (std::size_t k = 0; k < matrix.size(); ++k) {
            if (!std::isfinite(matrix[k])) {
                throw ConfigError("radial basis: " + key + " entry " + std::to_string(k) + " is " +
                                  to_text(matrix[k]) + "; every entry must be finite");
            }
        }
        primitive_size_ += rows;
    }
}

void ContractedRadialFunctions::evaluate(double r, std::span<double> values,
                                         std::span<double> derivatives) const {
    std::vector<double> value(primitive_size_), slope(primitive_size_);
    primitive_->evaluate(r, value, slope);
    std::size_t first = 0;  // this l's block in the primitive flat order
    std::size_t out = 0;
    for (int l = 0; l <= max_angular(); ++l) {
        const auto& matrix = matrices_[static_cast<std::size_t>(l)];
        const auto rows = static_cast<std::size_t>(primitive_->n_max(l));
        const auto columns = static_cast<std::size_t>(n_max_);
        for (std::size_t q = 0; q < columns; ++q, ++out) {
            double v = 0.0;
            double d = 0.0;
            for (std::size_t n = 0; n < rows; ++n) {
                v += matrix[n * columns + q] * value[first + n];
                d += matrix[n * columns + q] * slope[first + n];
            }
            values[out] = v;
            derivatives[out] = d;
        }
        first += rows;
    }
}

std::unique_ptr<RadialFunctions> make_radial_functions(const RadialBasisSettings& settings) {
    const bool contracted = settings.primitive_n_max > 0;
    if (contracted && settings.contraction.empty()) {
        throw ConfigError(
            "radial basis: `radial_basis.contraction` is still to be fitted (\"pca\"); only `chorus train` "
            "can fit it (from the training frames): train the model first and use its settings");
    }
    LaplacianEigenstateSettings primitive_settings = settings.eigenstates;
    if (contracted) {
        primitive_settings.max_radial = settings.primitive_n_max;
    }
    std::unique_ptr<RadialFunctions> functions;
    switch (settings.type) {
        case RadialBasisType::laplacian_eigenstate:
            functions = std::make_unique<LaplacianEigenstateBasis>(primitive_settings);
            break;
        case RadialBasisType::smeared_laplacian_eigenstate:
            functions = std::make_unique<GaussianSmearedBasis>(
                std::make_unique<LaplacianEigenstateBasis>(primitive_settings), settings.smearing);
            break;
        case RadialBasisType::smeared_gto:
            functions = std::make_unique<GaussianSmearedBasis>(
                std::make_unique<GaussianTypeOrbitalBasis>(primitive_settings), settings.smearing);
            break;
        case RadialBasisType::separable_smeared_gto:
            functions = std::make_unique<SeparableSmearedBasis>(primitive_settings, settings.smearing);
            break;
        default:
            throw ConfigError("radial basis: unknown basis type");
    }
    if (contracted) {
        functions = std::make_unique<ContractedRadialFunctions>(std::move(functions), settings.contraction);
        if (functions->n_max(0) != settings.eigenstates.max_radial) {
            throw ConfigError("radial basis: `radial_basis.contraction` maps to " +
                              std::to_string(functions->n_max(0)) + " functions but the features need " +
                              std::to_string(settings.eigenstates.max_radial) +
                              " (the largest n_max); refit the contraction for these settings");
        }
    }
    if (settings.scaling) {
        functions = std::make_unique<ScaledRadialFunctions>(std::move(functions), *settings.scaling);
    }
    return functions;
}

// ---------------------------------------------------------------------------------------------
namespace {

// g = R f_c and its derivative for all functions at one r (zero from r_c on).
void exact_products(const RadialFunctions& basis, const CosineCutoff& cutoff, double r,
                    std::span<double> values, std::span<double> derivatives) {
    if (r >= cutoff.cutoff()) {
        std::fill(values.begin(), values.end(), 0.0);
        std::fill(derivatives.begin(), derivatives.end(), 0.0);
        return;
    }
    basis.evaluate(r, values, derivatives);
    const double f = cutoff.value(r);
    const double df = cutoff.derivative(r);
    for (std::size_t k = 0; k < values.size(); ++k) {
        derivatives[k] = derivatives[k] * f + values[k] * df;
        values[k] *= f;
    }
}

// The spline's columns at one r: g = R f_c for every function, or, for a separable basis,
// P_n f_c followed by the A_l (l ≥ 1), which the cutoff does not touch (it is in the P_n already).
void exact_columns(const RadialFunctions& basis, const CosineCutoff& cutoff, double r, std::size_t n_max,
                   std::span<double> values, std::span<double> derivatives) {
    if (!basis.separable()) {
        exact_products(basis, cutoff, r, values, derivatives);
        return;
    }
    const std::size_t angular = values.size() - n_max;
    basis.evaluate_separable(r, values.first(n_max), derivatives.first(n_max), values.last(angular),
                             derivatives.last(angular));
    const bool outside = r >= cutoff.cutoff();
    const double f = outside ? 0.0 : cutoff.value(r);
    const double df = outside ? 0.0 : cutoff.derivative(r);
    for (std::size_t k = 0; k < n_max; ++k) {
        derivatives[k] = derivatives[k] * f + values[k] * df;
        values[k] *= f;
    }
}

}  // namespace

SplinedRadialBasis::SplinedRadialBasis(const RadialFunctions& basis, const CosineCutoff& cutoff,
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
    separable_ = basis.separable();
    columns_ = separable_ ? static_cast<std::size_t>(basis.n_max(0) + basis.max_angular()) : functions_;

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

void SplinedRadialBasis::tabulate(const RadialFunctions& basis, const CosineCutoff& cutoff,
                                  int cells_in_width) {
    spacing_ = cutoff.width() / cells_in_width;
    inverse_spacing_ = 1.0 / spacing_;
    // Cells from r_c downwards until r = 0 is covered; the first node may sit at a small negative r,
    // where j_l is still smooth (it is even or odd), so nothing special happens there.
    const auto cells = static_cast<std::size_t>(std::ceil(cutoff_ / spacing_ - 1e-9));
    grid_points_ = cells + 1;
    start_ = cutoff_ - static_cast<double>(cells) * spacing_;
    table_.assign(grid_points_ * 2 * columns_, 0.0);
    for (std::size_t k = 0; k < grid_points_; ++k) {
        // the last node is exactly r_c, where everything vanishes with its derivative
        const double r = k + 1 == grid_points_ ? cutoff_ : start_ + static_cast<double>(k) * spacing_;
        double* node = table_.data() + k * 2 * columns_;
        exact_columns(basis, cutoff, r, static_cast<std::size_t>(n_max_[0]), {node, columns_},
                      {node + columns_, columns_});
    }
}

double SplinedRadialBasis::midpoint_error(const RadialFunctions& basis, const CosineCutoff& cutoff) const {
    std::vector<double> values(columns_), derivatives(columns_), exact(columns_), unused(columns_);
    std::vector<double> largest(columns_, 0.0), worst(columns_, 0.0);
    for (std::size_t k = 0; k < grid_points_; ++k) {
        const double* node = table_.data() + k * 2 * columns_;
        for (std::size_t f = 0; f < columns_; ++f) {
            largest[f] = std::max(largest[f], std::abs(node[f]));
        }
    }
    for (std::size_t k = 0; k + 1 < grid_points_; ++k) {
        const double r = start_ + (static_cast<double>(k) + 0.5) * spacing_;
        if (r <= 0.0) {
            continue;
        }
        interpolate(r, values.data(), derivatives.data());
        exact_columns(basis, cutoff, r, static_cast<std::size_t>(n_max_[0]), exact, unused);
        for (std::size_t f = 0; f < columns_; ++f) {
            worst[f] = std::max(worst[f], std::abs(values[f] - exact[f]));
        }
    }
    double error = 0.0;
    for (std::size_t f = 0; f < columns_; ++f) {
        error = std::max(error, worst[f] / largest[f]);
    }
    return error;
}

namespace {

using detail::Lanes;
using detail::load_lanes;
using detail::store_lanes;
constexpr auto kLaneCount = static_cast<std::size_t>(detail::kLaneCount);

// Functions the transposing spline kernel buffers per distance (larger bases take the plain loop).
constexpr std::size_t kSplineChunk = 128;

struct SplineGrid {
    const double* table;
    std::size_t functions;
    std::size_t grid_points;
    double start;
    double spacing;
    double inverse_spacing;
    double cutoff;
};

// One distance, all functions, at values[f·step] and derivatives[f·step] (the formulas of
// compute()). With step = 1 the loop over f vectorises with unit-stride stores.
[[gnu::always_inline]] inline void spline_point(const SplineGrid& grid, double r, double* values,
                                                double* derivatives, std::size_t step) {
    const std::size_t count = grid.functions;
    if (!(r < grid.cutoff)) {
        for (std::size_t f = 0; f < count; ++f) {
            values[f * step] = 0.0;
            derivatives[f * step] = 0.0;
        }
        return;
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
        values[f * step] = h00 * value0[f] + h10 * slope0[f] + h01 * value1[f] + h11 * slope1[f];
        derivatives[f * step] = d00 * (value0[f] - value1[f]) + d10 * slope0[f] + d11 * slope1[f];
    }
}

// rows[f·n + q] = buffer[q][f] for q < 4, f < count: a 4 × 4 transpose per four functions, in
// registers (__builtin_shufflevector: both g++ ≥ 12 and clang have it); the last count mod 4
// functions (e.g. 10 radial × 5 angular = 50) are stored one by one.
[[gnu::always_inline]] inline void transpose_into_rows(const double (*buffer)[kSplineChunk],
                                                       std::size_t count, std::size_t n, double* rows) {
    const std::size_t whole = count / kLaneCount * kLaneCount;
    for (std::size_t f = whole; f < count; ++f) {
        for (std::size_t q = 0; q < kLaneCount; ++q) {
            rows[f * n + q] = buffer[q][f];
        }
    }
    for (std::size_t f = 0; f < whole; f += kLaneCount) {
        const Lanes a = load_lanes(buffer[0] + f);
        const Lanes b = load_lanes(buffer[1] + f);
        const Lanes c = load_lanes(buffer[2] + f);
        const Lanes d = load_lanes(buffer[3] + f);
        const Lanes ab_low = __builtin_shufflevector(a, b, 0, 4, 2, 6);   // a0 b0 a2 b2
        const Lanes ab_high = __builtin_shufflevector(a, b, 1, 5, 3, 7);  // a1 b1 a3 b3
        const Lanes cd_low = __builtin_shufflevector(c, d, 0, 4, 2, 6);
        const Lanes cd_high = __builtin_shufflevector(c, d, 1, 5, 3, 7);
        store_lanes(rows + f * n, __builtin_shufflevector(ab_low, cd_low, 0, 1, 4, 5));
        store_lanes(rows + (f + 1) * n, __builtin_shufflevector(ab_high, cd_high, 0, 1, 4, 5));
        store_lanes(rows + (f + 2) * n, __builtin_shufflevector(ab_low, cd_low, 2, 3, 6, 7));
        store_lanes(rows + (f + 3) * n, __builtin_shufflevector(ab_high, cd_high, 2, 3, 6, 7));
    }
}

// compute() for many distances, written to the component-major layout (values[f·n + i]). Four
// distances at a time are evaluated into small contiguous buffers and transposed in registers:
// storing every function straight into its strided row cost about as much as evaluating it.
[[gnu::target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")]] void spline_components(
    const SplineGrid& grid, const double* distances, std::size_t n, double* values, double* derivatives) {
    const std::size_t count = grid.functions;
    std::size_t i = 0;
    if (count <= kSplineChunk) {
        alignas(32) double value_buffer[kLaneCount][kSplineChunk];
        alignas(32) double derivative_buffer[kLaneCount][kSplineChunk];
        for (; i + kLaneCount <= n; i += kLaneCount) {
            for (std::size_t q = 0; q < kLaneCount; ++q) {
                spline_point(grid, distances[i + q], value_buffer[q], derivative_buffer[q], 1);
            }
            transpose_into_rows(value_buffer, count, n, values + i);
            transpose_into_rows(derivative_buffer, count, n, derivatives + i);
        }
    }
    // The rest, and bases whose size does not fit the buffers: straight into the rows.
    for (; i < n; ++i) {
        spline_point(grid, distances[i], values + i, derivatives + i, n);
    }
}

// The products g_nl = P_n A_l of a separable basis for l ≥ 1, with g'_nl = P'_n A_l + P_n A'_l, at
// one distance (compute): the P_n are values/derivatives[0 … n_max − 1], which are also the l = 0
// entries since A_0 = 1, and A_l is angular/angular_derivatives[l − 1]. The component-major
// kernels never form the products (centre_terms.hpp).
[[gnu::target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")]] void separable_products(
    std::size_t n_max, std::size_t l_max, const double* angular, const double* angular_derivatives,
    double* values, double* derivatives) {
    for (std::size_t l = 1; l <= l_max; ++l) {
        const double a = angular[l - 1];
        const double da = angular_derivatives[l - 1];
        for (std::size_t k = 0; k < n_max; ++k) {
            const double p = values[k];
            const double dp = derivatives[k];
            values[l * n_max + k] = p * a;
            derivatives[l * n_max + k] = dp * a + p * da;
        }
    }
}

}  // namespace

void SplinedRadialBasis::compute_tabulated_components(std::span<const double> r, std::span<double> values,
                                                      std::span<double> derivatives) const {
    const SplineGrid grid{table_.data(), columns_, grid_points_, start_, spacing_, inverse_spacing_, cutoff_};
    spline_components(grid, r.data(), r.size(), values.data(), derivatives.data());
}

void SplinedRadialBasis::compute(double r, std::span<double> values, std::span<double> derivatives) const {
    if (!separable_) {
        interpolate(r, values.data(), derivatives.data());
        return;
    }
    thread_local std::vector<double> columns;  // per-thread scratch: this const method stays thread safe
    if (columns.size() < 2 * columns_) {
        columns.resize(2 * columns_);
    }
    interpolate(r, columns.data(), columns.data() + columns_);
    const auto n_max = static_cast<std::size_t>(n_max_[0]);
    std::copy_n(columns.data(), n_max, values.data());
    std::copy_n(columns.data() + columns_, n_max, derivatives.data());
    separable_products(n_max, columns_ - n_max, columns.data() + n_max, columns.data() + columns_ + n_max,
                       values.data(), derivatives.data());
}

void SplinedRadialBasis::interpolate(double r, double* out_value, double* out_derivative) const {
    const std::size_t count = columns_;
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
