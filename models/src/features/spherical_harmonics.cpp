#include "chorus/models/features/spherical_harmonics.hpp"

#include <cmath>
#include <numbers>
#include <string>
#include <utility>
#include <vector>

#include "chorus/error.hpp"
#include "simd_lanes.hpp"

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

// ---- component-major batches ----------------------------------------------------------------
// The recursion of evaluate_point, run on kBatch points at once: every scalar becomes a Lanes
// value (one SIMD register of points), and the results land directly in the component-major
// layout (values[lm·n + i]).
constexpr int kBatch = static_cast<int>(SphericalHarmonics::component_batch_width);
static_assert(kBatch == detail::kLaneCount, "one group of points is one Lanes value");
using detail::Lanes;
using detail::load_lanes;
using detail::store_lanes;

template <bool WithGradients, int L>
[[gnu::always_inline]] inline void evaluate_group(const Tables& tables, const double* px, const double* py,
                                                  const double* pz, std::size_t n, double* values,
                                                  double* gradients) {
    const Lanes raw_x = load_lanes(px);
    const Lanes raw_y = load_lanes(py);
    const Lanes raw_z = load_lanes(pz);
    Lanes inv_r;
    const Lanes r2 = raw_x * raw_x + raw_y * raw_y + raw_z * raw_z;
    for (int k = 0; k < kBatch; ++k) {
        inv_r[k] = 1.0 / std::sqrt(r2[k]);
    }
    const Lanes x = raw_x * inv_r;
    const Lanes y = raw_y * inv_r;
    const Lanes z = raw_z * inv_r;

    Lanes cos_part[L + 1];
    Lanes sin_part[L + 1];
    cos_part[0] = Lanes{} + 1.0;
    sin_part[0] = Lanes{};
    for (int m = 1; m <= L; ++m) {
        cos_part[m] = x * cos_part[m - 1] - y * sin_part[m - 1];
        sin_part[m] = x * sin_part[m - 1] + y * cos_part[m - 1];
    }
    // Q rows padded by two zero entries right of the diagonal, as in evaluate_point.
    constexpr int stride = L + 3;
    Lanes q[(L + 1) * stride];
    q[0] = Lanes{} + 1.0;
    q[1] = Lanes{};
    q[2] = Lanes{};
    store_lanes(values, Lanes{} + tables.normalisation[0]);
    const std::size_t lm_count = spherical_harmonics_size(L);
    double* const grad_x = gradients;
    double* const grad_y = gradients + lm_count * n;
    double* const grad_z = gradients + 2 * lm_count * n;
    if constexpr (WithGradients) {
        store_lanes(grad_x, Lanes{});
        store_lanes(grad_y, Lanes{});
        store_lanes(grad_z, Lanes{});
    }
    for (int l = 1; l <= L; ++l) {
        Lanes* const q_l = q + l * stride;
        const Lanes* const q_l1 = q_l - stride;
        const Lanes* const q_l2 = l >= 2 ? q_l1 - stride : q_l1;
        const std::size_t t = triangular(l, 0);
        for (int m = 0; m <= l - 2; ++m) {
            q_l[m] = tables.recursion_a[t + m] * z * q_l1[m] - tables.recursion_b[t + m] * q_l2[m];
        }
        q_l[l - 1] = static_cast<double>(2 * l - 1) * z * q_l1[l - 1];
        q_l[l] = static_cast<double>(2 * l - 1) * q_l1[l - 1];
        q_l[l + 1] = Lanes{};
        q_l[l + 2] = Lanes{};

        const double* const norm = tables.normalisation + t;
        const std::size_t centre = lm_index(l, 0);
        Lanes y_c[L + 1];
        Lanes y_s[L + 1];
        y_c[0] = norm[0] * q_l[0];
        store_lanes(values + centre * n, y_c[0]);
        for (int m = 1; m <= l; ++m) {
            const Lanes f = norm[m] * q_l[m];
            y_c[m] = f * cos_part[m];
            y_s[m] = f * sin_part[m];
            store_lanes(values + (centre + m) * n, y_c[m]);
            store_lanes(values + (centre - m) * n, y_s[m]);
        }
        if constexpr (WithGradients) {
            // The formulas of evaluate_point, on groups of points.
            const Lanes radial = static_cast<double>(l) * inv_r;
            const Lanes radial_z = radial * z;
            {
                const Lanes dq_xy = -norm[0] * inv_r * q_l1[1];
                const Lanes dq_z = norm[0] * static_cast<double>(l) * inv_r * q_l1[0];
                const Lanes a = dq_xy - radial * y_c[0];
                store_lanes(grad_x + centre * n, x * a);
                store_lanes(grad_y + centre * n, y * a);
                store_lanes(grad_z + centre * n, dq_z - radial_z * y_c[0]);
            }
            for (int m = 1; m <= l; ++m) {
                const Lanes f = norm[m] * inv_r;
                const Lanes dq_xy = -f * q_l1[m + 1];
                const Lanes dq_z = static_cast<double>(l + m) * f * q_l1[m];
                const Lanes mq = static_cast<double>(m) * f * q_l[m];
                const Lanes a_cos = dq_xy * cos_part[m] - radial * y_c[m];
                const Lanes a_sin = dq_xy * sin_part[m] - radial * y_s[m];
                const std::size_t up = (centre + m) * n;
                const std::size_t down = (centre - m) * n;
                store_lanes(grad_x + up, x * a_cos + mq * cos_part[m - 1]);
                store_lanes(grad_y + up, y * a_cos - mq * sin_part[m - 1]);
                store_lanes(grad_z + up, dq_z * cos_part[m] - radial_z * y_c[m]);
                store_lanes(grad_x + down, x * a_sin + mq * sin_part[m - 1]);
                store_lanes(grad_y + down, y * a_sin + mq * cos_part[m - 1]);
                store_lanes(grad_z + down, dq_z * sin_part[m] - radial_z * y_s[m]);
            }
        }
    }
}

template <bool WithGradients, int L>
[[gnu::always_inline]] inline void evaluate_components(const Tables& tables, const double* x, const double* y,
                                                       const double* z, std::size_t n, double* values,
                                                       double* gradients) {
    for (std::size_t i = 0; i < n; i += kBatch) {
        evaluate_group<WithGradients, L>(tables, x + i, y + i, z + i, n, values + i,
                                         WithGradients ? gradients + i : nullptr);
    }
}

// Orders without a batched instantiation: point by point, then scattered into the layout.
template <bool WithGradients>
void evaluate_components_generic(const Tables& tables, const double* x, const double* y, const double* z,
                                 std::size_t n, double* values, double* gradients) {
    const std::size_t lm_count = spherical_harmonics_size(tables.l_max);
    std::vector<double> point(4 * lm_count);
    for (std::size_t i = 0; i < n; ++i) {
        evaluate_point<WithGradients, -1>(tables, x[i], y[i], z[i], point.data(), point.data() + lm_count,
                                          point.data() + 2 * lm_count, point.data() + 3 * lm_count);
        for (std::size_t lm = 0; lm < lm_count; ++lm) {
            values[lm * n + i] = point[lm];
            if constexpr (WithGradients) {
                for (std::size_t d = 0; d < 3; ++d) {
                    gradients[(d * lm_count + lm) * n + i] = point[(d + 1) * lm_count + lm];
                }
            }
        }
    }
}

// One entry point per instruction set (GCC function multi-versioning; the loader picks the
// widest the CPU supports), so the portable build still uses AVX2/AVX-512 where they exist.
template <bool WithGradients>
[[gnu::always_inline]] inline void dispatch_components(const Tables& tables, const double* x, const double* y,
                                                       const double* z, std::size_t n, double* values,
                                                       double* gradients) {
    switch (tables.l_max) {
        case 0:
            return evaluate_components<WithGradients, 0>(tables, x, y, z, n, values, gradients);
        case 1:
            return evaluate_components<WithGradients, 1>(tables, x, y, z, n, values, gradients);
        case 2:
            return evaluate_components<WithGradients, 2>(tables, x, y, z, n, values, gradients);
        case 3:
            return evaluate_components<WithGradients, 3>(tables, x, y, z, n, values, gradients);
        case 4:
            return evaluate_components<WithGradients, 4>(tables, x, y, z, n, values, gradients);
        case 5:
            return evaluate_components<WithGradients, 5>(tables, x, y, z, n, values, gradients);
        case 6:
            return evaluate_components<WithGradients, 6>(tables, x, y, z, n, values, gradients);
        case 7:
            return evaluate_components<WithGradients, 7>(tables, x, y, z, n, values, gradients);
        case 8:
            return evaluate_components<WithGradients, 8>(tables, x, y, z, n, values, gradients);
        default:
            return evaluate_components_generic<WithGradients>(tables, x, y, z, n, values, gradients);
    }
}

[[gnu::target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")]] void components_with_gradients(
    const Tables& tables, const double* x, const double* y, const double* z, std::size_t n, double* values,
    double* gradients) {
    dispatch_components<true>(tables, x, y, z, n, values, gradients);
}

[[gnu::target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")]] void components_values(
    const Tables& tables, const double* x, const double* y, const double* z, std::size_t n, double* values) {
    dispatch_components<false>(tables, x, y, z, n, values, nullptr);
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

void SphericalHarmonics::compute_components(std::span<const double> x, std::span<const double> y,
                                            std::span<const double> z, std::span<double> values,
                                            std::span<double> gradients) const {
    const std::size_t points = x.size();
    const std::size_t n = size();
    if (points % component_batch_width != 0) {
        throw InputError("spherical harmonics: " + std::to_string(points) +
                         " points is not a multiple of component_batch_width = " +
                         std::to_string(component_batch_width) + "; pad the batch");
    }
    check_span(y.size(), points, "y coordinates");
    check_span(z.size(), points, "z coordinates");
    check_span(values.size(), points * n, "values");
    const Tables tables{l_max_, normalisation_.data(), recursion_a_.data(), recursion_b_.data()};
    if (gradients.empty()) {
        components_values(tables, x.data(), y.data(), z.data(), points, values.data());
        return;
    }
    check_span(gradients.size(), points * 3 * n, "gradients");
    components_with_gradients(tables, x.data(), y.data(), z.data(), points, values.data(), gradients.data());
}

}  // namespace chorus::models::features
