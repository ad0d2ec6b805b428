#include "chorus/models/features/spherical_harmonics.hpp"

#include <cmath>
#include <numbers>
#include <string>
#include <utility>

#include "chorus/error.hpp"

namespace chorus::models::features {
namespace {

constexpr std::size_t triangular(int l, int m) { return static_cast<std::size_t>(l * (l + 1) / 2 + m); }

// Q_l^m is kept in a rectangular stack table with row stride l_max + 3 so that the two entries
// right of the diagonal, Q_l^{l+1} and Q_l^{l+2}, exist and are zero: the gradient formulas then
// read Q_{l−1}^{m+1} without branching on m.
constexpr std::size_t max_table_size =
    static_cast<std::size_t>(max_supported_l + 1) * static_cast<std::size_t>(max_supported_l + 3);

struct Tables {
    int l_max;
    const double* normalisation;
    const double* recursion_a;
    const double* recursion_b;
};

// One vector. WithGradients removes the whole gradient branch at compile time for the values-only
// entry points; FixedLMax ≥ 0 makes every loop bound a constant so that the compiler unrolls the
// recursions completely (the common orders get their own instantiation, see dispatch()).
template <bool WithGradients, int FixedLMax>
inline void evaluate_point(const Tables& tables, double x, double y, double z, double* values, double* grad_x,
                           double* grad_y, double* grad_z) {
    const int l_max = FixedLMax >= 0 ? FixedLMax : tables.l_max;
    const double inv_r = 1.0 / std::sqrt(x * x + y * y + z * z);
    x *= inv_r;
    y *= inv_r;
    z *= inv_r;

    // C_m + i S_m = (x + iy)^m on the unit sphere.
    std::array<double, max_supported_l + 1> cos_part;  // filled below, up to l_max
    std::array<double, max_supported_l + 1> sin_part;
    cos_part[0] = 1.0;
    sin_part[0] = 0.0;
    for (int m = 1; m <= l_max; ++m) {
        cos_part[m] = x * cos_part[m - 1] - y * sin_part[m - 1];
        sin_part[m] = x * sin_part[m - 1] + y * cos_part[m - 1];
    }

    // Q_l^m(z, r² = 1) = r^(l−m) d^m P_l/du^m (u = z/r), no Condon–Shortley phase.
    const int stride = l_max + 3;
    std::array<double, max_table_size> q;
    q[0] = 1.0;
    q[1] = 0.0;
    q[2] = 0.0;
    values[0] = tables.normalisation[0];
    if constexpr (WithGradients) {
        grad_x[0] = grad_y[0] = grad_z[0] = 0.0;
    }

    for (int l = 1; l <= l_max; ++l) {
        double* const q_l = q.data() + l * stride;
        const double* const q_l1 = q_l - stride;
        const double* const q_l2 = l >= 2 ? q_l1 - stride : q_l1;  // only read when l ≥ 2
        const std::size_t t = triangular(l, 0);
        for (int m = 0; m <= l - 2; ++m) {
            q_l[m] = tables.recursion_a[t + m] * z * q_l1[m] - tables.recursion_b[t + m] * q_l2[m];
        }
        q_l[l - 1] = (2 * l - 1) * z * q_l1[l - 1];
        q_l[l] = (2 * l - 1) * q_l1[l - 1];
        q_l[l + 1] = 0.0;
        q_l[l + 2] = 0.0;

        const double* const norm = tables.normalisation + t;
        double* const y_l = values + lm_index(l, 0);
        y_l[0] = norm[0] * q_l[0];
        for (int m = 1; m <= l; ++m) {
            const double f = norm[m] * q_l[m];
            y_l[m] = f * cos_part[m];
            y_l[-m] = f * sin_part[m];
        }

        if constexpr (WithGradients) {
            // Gradient of the solid harmonic r^l Y_lm at r̂ from
            //   ∂Q_l^m/∂x = −x Q_{l−1}^{m+1},  ∂Q_l^m/∂y = −y Q_{l−1}^{m+1},  ∂Q_l^m/∂z = (l+m) Q_{l−1}^m,
            //   ∂C_m/∂x = m C_{m−1},  ∂C_m/∂y = −m S_{m−1},  ∂S_m/∂x = m S_{m−1},  ∂S_m/∂y = m C_{m−1},
            // then the radial part l Y r̂ is removed and everything scaled by 1/r.
            double* const gx = grad_x + lm_index(l, 0);
            double* const gy = grad_y + lm_index(l, 0);
            double* const gz = grad_z + lm_index(l, 0);
            // 1/r is folded into the per-(l, m) factors, and the radial projection l Y r̂ shares
            // the factor A = ∂Q/∂x-part − l Y with the x and y components.
            const double radial = l * inv_r;
            const double radial_z = radial * z;
            {
                const double dq_xy = -norm[0] * inv_r * q_l1[1];
                const double dq_z = norm[0] * inv_r * l * q_l1[0];
                const double a = dq_xy - radial * y_l[0];
                gx[0] = x * a;
                gy[0] = y * a;
                gz[0] = dq_z - radial_z * y_l[0];
            }
            for (int m = 1; m <= l; ++m) {
                const double f = norm[m] * inv_r;
                const double dq_xy = -f * q_l1[m + 1];  // times x or y
                const double dq_z = f * (l + m) * q_l1[m];
                const double mq = f * m * q_l[m];
                const double c = cos_part[m];
                const double s = sin_part[m];
                const double c1 = cos_part[m - 1];
                const double s1 = sin_part[m - 1];
                const double yc = y_l[m];
                const double ys = y_l[-m];
                const double a_cos = dq_xy * c - radial * yc;
                const double a_sin = dq_xy * s - radial * ys;
                gx[m] = x * a_cos + mq * c1;
                gy[m] = y * a_cos - mq * s1;
                gz[m] = dq_z * c - radial_z * yc;
                gx[-m] = x * a_sin + mq * s1;
                gy[-m] = y * a_sin + mq * c1;
                gz[-m] = dq_z * s - radial_z * ys;
            }
        }
    }
}

// n vectors given as coordinate arrays; layouts as documented in the header.
template <bool WithGradients, int FixedLMax>
void evaluate_batch(const Tables& tables, std::size_t points, const double* x, const double* y,
                    const double* z, double* values, double* gradients) {
    const std::size_t n = spherical_harmonics_size(tables.l_max);
    for (std::size_t i = 0; i < points; ++i) {
        double* const g = WithGradients ? gradients + i * 3 * n : nullptr;
        evaluate_point<WithGradients, FixedLMax>(tables, x[i], y[i], z[i], values + i * n, g,
                                                 WithGradients ? g + n : nullptr,
                                                 WithGradients ? g + 2 * n : nullptr);
    }
}

// Orders up to this get a compile-time specialisation; higher ones use the generic loops.
constexpr int max_specialised_l = 12;

template <bool WithGradients>
using BatchKernel = void (*)(const Tables&, std::size_t, const double*, const double*, const double*, double*,
                             double*);

template <bool WithGradients, int... L>
BatchKernel<WithGradients> select_kernel(int l_max, std::integer_sequence<int, L...>) {
    BatchKernel<WithGradients> kernel = &evaluate_batch<WithGradients, -1>;
    ((l_max == L ? (kernel = &evaluate_batch<WithGradients, L>, 0) : 0), ...);
    return kernel;
}

template <bool WithGradients>
BatchKernel<WithGradients> dispatch(int l_max) {
    return select_kernel<WithGradients>(l_max, std::make_integer_sequence<int, max_specialised_l + 1>{});
}

void check_span(std::size_t have, std::size_t need, const char* what) {
    if (have < need) {
        throw InputError("spherical harmonics: the " + std::string(what) + " buffer holds " +
                         std::to_string(have) + " values but " + std::to_string(need) +
                         " are needed; size it with size()");
    }
}

}  // namespace

SphericalHarmonics::SphericalHarmonics(int l_max) : l_max_(l_max) {
    if (l_max < 0 || l_max > max_supported_l) {
        throw ConfigError("spherical harmonics: l_max = " + std::to_string(l_max) + " is outside [0, " +
                          std::to_string(max_supported_l) + "]; choose a smaller angular order");
    }
    const std::size_t n = triangular(l_max + 1, 0);
    normalisation_.assign(n, 0.0);
    recursion_a_.assign(n, 0.0);
    recursion_b_.assign(n, 0.0);
    for (int l = 0; l <= l_max; ++l) {
        for (int m = 0; m <= l; ++m) {
            // (l−m)!/(l+m)! as a product, in long double so that l ≈ 30 keeps full precision.
            long double ratio = 1.0L;
            for (int k = l - m + 1; k <= l + m; ++k) {
                ratio /= static_cast<long double>(k);
            }
            const long double base = (2.0L * l + 1.0L) / (4.0L * std::numbers::pi_v<long double>)*ratio;
            normalisation_[triangular(l, m)] = static_cast<double>(std::sqrt(m == 0 ? base : 2.0L * base));
            if (m <= l - 2) {
                recursion_a_[triangular(l, m)] = static_cast<double>(2 * l - 1) / (l - m);
                recursion_b_[triangular(l, m)] = static_cast<double>(l + m - 1) / (l - m);
            }
        }
    }
}

void SphericalHarmonics::compute(const std::array<double, 3>& r, std::span<double> values) const {
    check_span(values.size(), size(), "values");
    const Tables tables{l_max_, normalisation_.data(), recursion_a_.data(), recursion_b_.data()};
    dispatch<false>(l_max_)(tables, 1, &r[0], &r[1], &r[2], values.data(), nullptr);
}

void SphericalHarmonics::compute_with_gradients(const std::array<double, 3>& r, std::span<double> values,
                                                std::span<double> gradients) const {
    const std::size_t n = size();
    check_span(values.size(), n, "values");
    check_span(gradients.size(), 3 * n, "gradients");
    const Tables tables{l_max_, normalisation_.data(), recursion_a_.data(), recursion_b_.data()};
    dispatch<true>(l_max_)(tables, 1, &r[0], &r[1], &r[2], values.data(), gradients.data());
}

void SphericalHarmonics::compute(std::span<const double> x, std::span<const double> y,
                                 std::span<const double> z, std::span<double> values) const {
    const std::size_t points = x.size();
    const std::size_t n = size();
    check_span(y.size(), points, "y coordinates");
    check_span(z.size(), points, "z coordinates");
    check_span(values.size(), points * n, "values");
    const Tables tables{l_max_, normalisation_.data(), recursion_a_.data(), recursion_b_.data()};
    dispatch<false>(l_max_)(tables, points, x.data(), y.data(), z.data(), values.data(), nullptr);
}

void SphericalHarmonics::compute_with_gradients(std::span<const double> x, std::span<const double> y,
                                                std::span<const double> z, std::span<double> values,
                                                std::span<double> gradients) const {
    const std::size_t points = x.size();
    const std::size_t n = size();
    check_span(y.size(), points, "y coordinates");
    check_span(z.size(), points, "z coordinates");
    check_span(values.size(), points * n, "values");
    check_span(gradients.size(), points * 3 * n, "gradients");
    const Tables tables{l_max_, normalisation_.data(), recursion_a_.data(), recursion_b_.data()};
    dispatch<true>(l_max_)(tables, points, x.data(), y.data(), z.data(), values.data(), gradients.data());
}

}  // namespace chorus::models::features
