#include "centre_terms.hpp"

#include <algorithm>
#include <array>
#include <string>

#include "chorus/error.hpp"
#include "simd_lanes.hpp"

namespace chorus::models::features::detail {
namespace {

constexpr std::size_t kLanes = kLaneCount;
static_assert(kSlotGroup % kLanes == 0, "species runs must hold whole SIMD groups");

template <typename T>
void grow(std::vector<T>& buffer, std::size_t size) {
    if (buffer.size() < size) {
        buffer.resize(size);
    }
}

std::size_t round_up(std::size_t value, std::size_t multiple) {
    return (value + multiple - 1) / multiple * multiple;
}

// Sizes shared by the kernels, flattened so that the multi-versioned functions see plain data.
struct KernelShape {
    std::size_t stride;  // slots per table row
    int species;
    int l_max;
    int n_pad;
    std::size_t lm_stride;                                       // density: species · n_pad
    std::size_t lm_count;                                        // (l_max+1)²
    std::array<std::size_t, max_supported_l + 2> radial_offset;  // per l
    std::array<int, max_supported_l + 1> radial_count;           // n_max(l)
    const std::size_t* block;
    // Separable basis (g_nl = P_n A_l): every l reads the P_n rows (radial_offset 0) and scales by
    // A_l, the table row angular_row + l − 1 (the spline's own rows, no products).
    bool separable;
    std::size_t angular_row;
};

KernelShape shape_of(const FeatureLayout& layout, const SplinedRadialBasis& radial,
                     const CentreTerms& terms) {
    KernelShape shape{terms.stride,
                      layout.species,
                      layout.l_max,
                      layout.n_pad,
                      layout.lm_stride,
                      layout.lm_size,
                      {},
                      {},
                      terms.block.data(),
                      radial.separable(),
                      static_cast<std::size_t>(radial.n_max(0))};
    for (int l = 0; l <= layout.l_max; ++l) {
        shape.radial_offset[static_cast<std::size_t>(l)] = radial.separable() ? 0 : radial.offset(l);
        shape.radial_count[static_cast<std::size_t>(l)] = std::min(radial.n_max(l), layout.n_pad);
    }
    return shape;
}

// out[n] = Σ_j w_j g[n][j] over one species run [begin, end), n < n_max, with w = Y_lm, or
// Y_lm A_l (Scaled: a separable basis, the A_l row in `scale`), in per-lane partial sums.
template <bool Scaled>
[[gnu::always_inline]] inline void density_channels(const double* y, const double* scale, const double* g,
                                                    std::size_t stride, std::size_t begin, std::size_t end,
                                                    int n_max, double* out) {
    const auto weight = [y, scale](std::size_t j) {
        if constexpr (Scaled) {
            return load_lanes(y + j) * load_lanes(scale + j);
        } else {
            return load_lanes(y + j);
        }
    };
    int n = 0;
    // Eight radial channels per pass over the run: Y is loaded once for eight sums.
    for (; n + 8 <= n_max; n += 8) {
        const double* const g0 = g + static_cast<std::size_t>(n) * stride;
        Lanes acc0{}, acc1{}, acc2{}, acc3{}, acc4{}, acc5{}, acc6{}, acc7{};
        for (std::size_t j = begin; j < end; j += kLanes) {
            const Lanes yj = weight(j);
            acc0 += yj * load_lanes(g0 + j);
            acc1 += yj * load_lanes(g0 + stride + j);
            acc2 += yj * load_lanes(g0 + 2 * stride + j);
            acc3 += yj * load_lanes(g0 + 3 * stride + j);
            acc4 += yj * load_lanes(g0 + 4 * stride + j);
            acc5 += yj * load_lanes(g0 + 5 * stride + j);
            acc6 += yj * load_lanes(g0 + 6 * stride + j);
            acc7 += yj * load_lanes(g0 + 7 * stride + j);
        }
        out[n] = sum_lanes(acc0);
        out[n + 1] = sum_lanes(acc1);
        out[n + 2] = sum_lanes(acc2);
        out[n + 3] = sum_lanes(acc3);
        out[n + 4] = sum_lanes(acc4);
        out[n + 5] = sum_lanes(acc5);
        out[n + 6] = sum_lanes(acc6);
        out[n + 7] = sum_lanes(acc7);
    }
    for (; n + 4 <= n_max; n += 4) {
        const double* const g0 = g + static_cast<std::size_t>(n) * stride;
        const double* const g1 = g0 + stride;
        const double* const g2 = g1 + stride;
        const double* const g3 = g2 + stride;
        Lanes acc0{}, acc1{}, acc2{}, acc3{};
        for (std::size_t j = begin; j < end; j += kLanes) {
            const Lanes yj = weight(j);
            acc0 += yj * load_lanes(g0 + j);
            acc1 += yj * load_lanes(g1 + j);
            acc2 += yj * load_lanes(g2 + j);
            acc3 += yj * load_lanes(g3 + j);
        }
        out[n] = sum_lanes(acc0);
        out[n + 1] = sum_lanes(acc1);
        out[n + 2] = sum_lanes(acc2);
        out[n + 3] = sum_lanes(acc3);
    }
    for (; n < n_max; ++n) {
        const double* const g0 = g + static_cast<std::size_t>(n) * stride;
        Lanes acc{};
        for (std::size_t j = begin; j < end; j += kLanes) {
            acc += weight(j) * load_lanes(g0 + j);
        }
        out[n] = sum_lanes(acc);
    }
}

// c[lm][a][n] = Σ_j Y[lm][j] g[l,n][j]: for each (lm, four n) a dot product over the species run,
// kept in per-lane partial sums (the lanes are summed once at the end).
[[gnu::target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")]] void density_kernel(
    const KernelShape& s, const double* harmonics, const double* radial, double* c) {
    // Only the entries no sum below writes are zeroed (empty species, n past n_max(l)): zeroing
    // all of c first cost as much as a tenth of the sums themselves.
    for (int a = 0; a < s.species; ++a) {
        const std::size_t begin = s.block[a];
        const std::size_t end = s.block[a + 1];
        if (begin == end) {
            for (std::size_t lm = 0; lm < s.lm_count; ++lm) {
                double* const out = c + lm * s.lm_stride + static_cast<std::size_t>(a * s.n_pad);
                for (int n = 0; n < s.n_pad; ++n) {
                    out[n] = 0.0;
                }
            }
            continue;
        }
        for (int l = 0; l <= s.l_max; ++l) {
            const int n_max = s.radial_count[static_cast<std::size_t>(l)];
            const double* const g = radial + s.radial_offset[static_cast<std::size_t>(l)] * s.stride;
            const bool scaled = s.separable && l > 0;
            const double* const scale =
                scaled ? radial + (s.angular_row + static_cast<std::size_t>(l) - 1) * s.stride : nullptr;
            for (std::size_t lm = static_cast<std::size_t>(l * l);
                 lm < static_cast<std::size_t>((l + 1) * (l + 1)); ++lm) {
                const double* const y = harmonics + lm * s.stride;
                double* const out = c + lm * s.lm_stride + static_cast<std::size_t>(a * s.n_pad);
                for (int n = n_max; n < s.n_pad; ++n) {
                    out[n] = 0.0;
                }
                if (scaled) {
                    density_channels<true>(y, scale, g, s.stride, begin, end, n_max, out);
                } else {
                    density_channels<false>(y, nullptr, g, s.stride, begin, end, n_max, out);
                }
            }
        }
    }
}

// A_l and A'_l of kLanes neighbours (a separable basis, l ≥ 1): G = A_l Σ_n A_nlm P_n and
// G' = A_l Σ_n A_nlm P'_n + A'_l Σ_n A_nlm P_n, from the sums over the P_n rows. Both pair-gradient
// kernels apply it with the same expressions, so that a member's result does not depend on the path.
struct Factor {
    Lanes value{}, slope{};
    [[gnu::always_inline]] void apply(Lanes& sum, Lanes& sum_slope) const {
        sum_slope = value * sum_slope + slope * sum;
        sum = value * sum;
    }
};

[[gnu::always_inline]] inline Factor angular_factor(const KernelShape& s, int l, const double* radial,
                                                    const double* radial_derivatives, std::size_t j) {
    const std::size_t at = (s.angular_row + static_cast<std::size_t>(l) - 1) * s.stride + j;
    return {load_lanes(radial + at), load_lanes(radial_derivatives + at)};
}

// For kLanes neighbours at a time: G_lm and G'_lm by contracting the adjoint over n, then the
// reduction over lm into the along-r̂ and ∇Y parts. Everything is element-wise over neighbours.
//
// N > 0: every l has N radial channels, known at compile time, so that the contraction over n is
// unrolled (the loop overhead was as large as the multiply-adds); N = 0: n_max(l) read at run time.
// The sums run in the same order either way.
template <int N, bool Separable>
[[gnu::always_inline]] inline void pair_gradient_body(const KernelShape& s, const double* adjoint,
                                                      const double* x, const double* y, const double* z,
                                                      const double* distance, const double* harmonics,
                                                      const double* harmonic_gradients, const double* radial,
                                                      const double* radial_derivatives, double* out) {
    const std::size_t stride = s.stride;
    const double* const dy_x = harmonic_gradients;
    const double* const dy_y = dy_x + s.lm_count * stride;
    const double* const dy_z = dy_y + s.lm_count * stride;
    for (int a = 0; a < s.species; ++a) {
        const double* const adjoint_a = adjoint + static_cast<std::size_t>(a * s.n_pad);
        for (std::size_t j = s.block[a]; j < s.block[a + 1]; j += kLanes) {
            Lanes along{}, across_x{}, across_y{}, across_z{};
            for (int l = 0; l <= s.l_max; ++l) {
                const int n_max = N > 0 ? N : s.radial_count[static_cast<std::size_t>(l)];
                const double* const g = radial + s.radial_offset[static_cast<std::size_t>(l)] * stride + j;
                const double* const dg =
                    radial_derivatives + s.radial_offset[static_cast<std::size_t>(l)] * stride + j;
                const bool scaled = Separable && l > 0;
                const Factor factor = scaled ? angular_factor(s, l, radial, radial_derivatives, j) : Factor{};
                for (std::size_t lm = static_cast<std::size_t>(l * l);
                     lm < static_cast<std::size_t>((l + 1) * (l + 1)); ++lm) {
                    const double* const row = adjoint_a + lm * s.lm_stride;
                    Lanes value{}, slope{};
                    for (int n = 0; n < n_max; ++n) {
                        const double w = row[n];
                        value += w * load_lanes(g + static_cast<std::size_t>(n) * stride);
                        slope += w * load_lanes(dg + static_cast<std::size_t>(n) * stride);
                    }
                    if (scaled) {
                        factor.apply(value, slope);
                    }
                    const std::size_t at = lm * stride + j;
                    along += slope * load_lanes(harmonics + at);
                    across_x += value * load_lanes(dy_x + at);
                    across_y += value * load_lanes(dy_y + at);
                    across_z += value * load_lanes(dy_z + at);
                }
            }
            const Lanes radial_part = along / load_lanes(distance + j);
            store_lanes(out + j, radial_part * load_lanes(x + j) + across_x);
            store_lanes(out + stride + j, radial_part * load_lanes(y + j) + across_y);
            store_lanes(out + 2 * stride + j, radial_part * load_lanes(z + j) + across_z);
        }
    }
}

// The pair gradients of several adjoints (members of a committee) over the same pair terms, two
// adjoints at a time: g, g', Y and ∇Y are loaded once per pair of members, and each member's sums
// run in the same order as in pair_gradient_kernel (so a member's result does not depend on the
// path). Two members keep 12 vector accumulators live, which fits the 16 AVX2 registers.
template <int N, bool Separable>
[[gnu::always_inline]] inline void member_pair_gradient_body(
    const KernelShape& s, const double* adjoints, std::size_t adjoint_stride, std::size_t members,
    const double* x, const double* y, const double* z, const double* distance, const double* harmonics,
    const double* harmonic_gradients, const double* radial, const double* radial_derivatives, double* out) {
    const std::size_t stride = s.stride;
    const double* const dy_x = harmonic_gradients;
    const double* const dy_y = dy_x + s.lm_count * stride;
    const double* const dy_z = dy_y + s.lm_count * stride;
    for (std::size_t k = 0; k < members; k += 2) {
        // An odd last member is paired with itself; its second result is discarded.
        const std::size_t k1 = k + 1 < members ? k + 1 : k;
        double* const out0 = out + k * 3 * stride;
        double* const out1 = out + k1 * 3 * stride;
        for (int a = 0; a < s.species; ++a) {
            const std::size_t column = static_cast<std::size_t>(a * s.n_pad);
            const double* const adjoint0 = adjoints + k * adjoint_stride + column;
            const double* const adjoint1 = adjoints + k1 * adjoint_stride + column;
            for (std::size_t j = s.block[a]; j < s.block[a + 1]; j += kLanes) {
                Lanes along0{}, across_x0{}, across_y0{}, across_z0{};
                Lanes along1{}, across_x1{}, across_y1{}, across_z1{};
                for (int l = 0; l <= s.l_max; ++l) {
                    const int n_max = N > 0 ? N : s.radial_count[static_cast<std::size_t>(l)];
                    const std::size_t offset = s.radial_offset[static_cast<std::size_t>(l)] * stride + j;
                    const double* const g = radial + offset;
                    const double* const dg = radial_derivatives + offset;
                    const bool scaled = Separable && l > 0;
                    const Factor factor =
                        scaled ? angular_factor(s, l, radial, radial_derivatives, j) : Factor{};
                    for (std::size_t lm = static_cast<std::size_t>(l * l);
                         lm < static_cast<std::size_t>((l + 1) * (l + 1)); ++lm) {
                        const double* const row0 = adjoint0 + lm * s.lm_stride;
                        const double* const row1 = adjoint1 + lm * s.lm_stride;
                        Lanes value0{}, slope0{}, value1{}, slope1{};
                        for (int n = 0; n < n_max; ++n) {
                            const Lanes gn = load_lanes(g + static_cast<std::size_t>(n) * stride);
                            const Lanes dgn = load_lanes(dg + static_cast<std::size_t>(n) * stride);
                            const double w0 = row0[n];
                            const double w1 = row1[n];
                            value0 += w0 * gn;
                            slope0 += w0 * dgn;
                            value1 += w1 * gn;
                            slope1 += w1 * dgn;
                        }
                        if (scaled) {
                            factor.apply(value0, slope0);
                            factor.apply(value1, slope1);
                        }
                        const std::size_t at = lm * stride + j;
                        const Lanes ylm = load_lanes(harmonics + at);
                        const Lanes dx = load_lanes(dy_x + at);
                        const Lanes dy = load_lanes(dy_y + at);
                        const Lanes dz = load_lanes(dy_z + at);
                        along0 += slope0 * ylm;
                        across_x0 += value0 * dx;
                        across_y0 += value0 * dy;
                        across_z0 += value0 * dz;
                        along1 += slope1 * ylm;
                        across_x1 += value1 * dx;
                        across_y1 += value1 * dy;
                        across_z1 += value1 * dz;
                    }
                }
                const Lanes distance_j = load_lanes(distance + j);
                const Lanes ux = load_lanes(x + j);
                const Lanes uy = load_lanes(y + j);
                const Lanes uz = load_lanes(z + j);
                const Lanes radial0 = along0 / distance_j;
                const Lanes radial1 = along1 / distance_j;
                store_lanes(out0 + j, radial0 * ux + across_x0);
                store_lanes(out0 + stride + j, radial0 * uy + across_y0);
                store_lanes(out0 + 2 * stride + j, radial0 * uz + across_z0);
                store_lanes(out1 + j, radial1 * ux + across_x1);
                store_lanes(out1 + stride + j, radial1 * uy + across_y1);
                store_lanes(out1 + 2 * stride + j, radial1 * uz + across_z1);
            }
        }
    }
}

// The common radial channel count of every l (then the kernels unroll over n), or 0.
int uniform_radial_count(const KernelShape& s) {
    const int first = s.radial_count[0];
    for (int l = 1; l <= s.l_max; ++l) {
        if (s.radial_count[static_cast<std::size_t>(l)] != first) {
            return 0;
        }
    }
    return first;
}

template <bool Separable>
[[gnu::always_inline]] inline void pair_gradient_channels(const KernelShape& s, const double* adjoint,
                                                          const double* x, const double* y, const double* z,
                                                          const double* distance, const double* harmonics,
                                                          const double* harmonic_gradients,
                                                          const double* radial,
                                                          const double* radial_derivatives, double* out) {
    switch (uniform_radial_count(s)) {
        case 8:
            pair_gradient_body<8, Separable>(s, adjoint, x, y, z, distance, harmonics, harmonic_gradients,
                                             radial, radial_derivatives, out);
            return;
        case 10:
            pair_gradient_body<10, Separable>(s, adjoint, x, y, z, distance, harmonics, harmonic_gradients,
                                              radial, radial_derivatives, out);
            return;
        case 12:
            pair_gradient_body<12, Separable>(s, adjoint, x, y, z, distance, harmonics, harmonic_gradients,
                                              radial, radial_derivatives, out);
            return;
        default:
            pair_gradient_body<0, Separable>(s, adjoint, x, y, z, distance, harmonics, harmonic_gradients,
                                             radial, radial_derivatives, out);
    }
}

template <bool Separable>
[[gnu::always_inline]] inline void member_pair_gradient_channels(
    const KernelShape& s, const double* adjoints, std::size_t adjoint_stride, std::size_t members,
    const double* x, const double* y, const double* z, const double* distance, const double* harmonics,
    const double* harmonic_gradients, const double* radial, const double* radial_derivatives, double* out) {
    switch (uniform_radial_count(s)) {
        case 8:
            member_pair_gradient_body<8, Separable>(s, adjoints, adjoint_stride, members, x, y, z, distance,
                                                    harmonics, harmonic_gradients, radial, radial_derivatives,
                                                    out);
            return;
        case 10:
            member_pair_gradient_body<10, Separable>(s, adjoints, adjoint_stride, members, x, y, z, distance,
                                                     harmonics, harmonic_gradients, radial,
                                                     radial_derivatives, out);
            return;
        case 12:
            member_pair_gradient_body<12, Separable>(s, adjoints, adjoint_stride, members, x, y, z, distance,
                                                     harmonics, harmonic_gradients, radial,
                                                     radial_derivatives, out);
            return;
        default:
            member_pair_gradient_body<0, Separable>(s, adjoints, adjoint_stride, members, x, y, z, distance,
                                                    harmonics, harmonic_gradients, radial, radial_derivatives,
                                                    out);
    }
}

[[gnu::target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")]] void pair_gradient_kernel(
    const KernelShape& s, const double* adjoint, const double* x, const double* y, const double* z,
    const double* distance, const double* harmonics, const double* harmonic_gradients, const double* radial,
    const double* radial_derivatives, double* out) {
    if (s.separable) {
        pair_gradient_channels<true>(s, adjoint, x, y, z, distance, harmonics, harmonic_gradients, radial,
                                     radial_derivatives, out);
    } else {
        pair_gradient_channels<false>(s, adjoint, x, y, z, distance, harmonics, harmonic_gradients, radial,
                                      radial_derivatives, out);
    }
}

[[gnu::target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")]] void member_pair_gradient_kernel(
    const KernelShape& s, const double* adjoints, std::size_t adjoint_stride, std::size_t members,
    const double* x, const double* y, const double* z, const double* distance, const double* harmonics,
    const double* harmonic_gradients, const double* radial, const double* radial_derivatives, double* out) {
    if (s.separable) {
        member_pair_gradient_channels<true>(s, adjoints, adjoint_stride, members, x, y, z, distance,
                                            harmonics, harmonic_gradients, radial, radial_derivatives, out);
    } else {
        member_pair_gradient_channels<false>(s, adjoints, adjoint_stride, members, x, y, z, distance,
                                             harmonics, harmonic_gradients, radial, radial_derivatives, out);
    }
}

}  // namespace

void evaluate_centre(const FeatureLayout& layout, const SphericalHarmonics& harmonics,
                     const SplinedRadialBasis& radial, std::span<const engine::Neighbour> neighbours,
                     const int* channels, bool gradients, std::size_t centre, CentreTerms& terms) {
    const auto species = static_cast<std::size_t>(layout.species);
    terms.block.assign(species + 1, 0);
    terms.fill.assign(species, 0);
    for (const auto& neighbour : neighbours) {
        ++terms.fill[static_cast<std::size_t>(channels[neighbour.index])];
    }
    for (std::size_t a = 0; a < species; ++a) {
        terms.block[a + 1] = terms.block[a] + round_up(terms.fill[a], kSlotGroup);
        terms.fill[a] = terms.block[a];
    }
    // The harmonics are evaluated in groups of their own batch width; slots past the last
    // species run are padding as well.
    const std::size_t stride =
        round_up(std::max<std::size_t>(terms.block[species], 1), SphericalHarmonics::component_batch_width);
    terms.stride = stride;
    grow(terms.source, stride);
    grow(terms.x, stride);
    grow(terms.y, stride);
    grow(terms.z, stride);
    grow(terms.distance, stride);
    // Padding: a dummy neighbour on the cutoff sphere, where every g_nl and g'_nl vanish.
    const double cutoff = radial.cutoff();
    std::fill_n(terms.source.begin(), stride, -1);
    std::fill_n(terms.x.begin(), stride, 0.0);
    std::fill_n(terms.y.begin(), stride, 0.0);
    std::fill_n(terms.z.begin(), stride, cutoff);
    std::fill_n(terms.distance.begin(), stride, cutoff);
    for (std::size_t j = 0; j < neighbours.size(); ++j) {
        const auto& neighbour = neighbours[j];
        if (!(neighbour.distance > 0.0)) {
            throw InputError("features: atoms " + std::to_string(centre) + " and " +
                             std::to_string(neighbour.index) +
                             " sit on top of each other (distance 0); fix the structure");
        }
        const std::size_t slot = terms.fill[static_cast<std::size_t>(channels[neighbour.index])]++;
        terms.source[slot] = static_cast<int>(j);
        terms.x[slot] = neighbour.vector[0];
        terms.y[slot] = neighbour.vector[1];
        terms.z[slot] = neighbour.vector[2];
        terms.distance[slot] = neighbour.distance;
    }

    const std::size_t lm = harmonics.size();
    grow(terms.harmonics, lm * stride);
    grow(terms.radial, radial.tabulated() * stride);
    grow(terms.radial_derivatives, radial.tabulated() * stride);
    const std::span<const double> x(terms.x.data(), stride);
    const std::span<const double> y(terms.y.data(), stride);
    const std::span<const double> z(terms.z.data(), stride);
    if (gradients) {
        grow(terms.harmonic_gradients, 3 * lm * stride);
        harmonics.compute_components(x, y, z, {terms.harmonics.data(), lm * stride},
                                     {terms.harmonic_gradients.data(), 3 * lm * stride});
    } else {
        harmonics.compute_components(x, y, z, {terms.harmonics.data(), lm * stride}, {});
    }
    // A separable basis leaves its products to the kernels (KernelShape::separable).
    radial.compute_tabulated_components({terms.distance.data(), stride}, terms.radial,
                                        terms.radial_derivatives);
}

void centre_density(const FeatureLayout& layout, const SplinedRadialBasis& radial, const CentreTerms& terms,
                    double* c) {
    const KernelShape shape = shape_of(layout, radial, terms);
    density_kernel(shape, terms.harmonics.data(), terms.radial.data(), c);
}

void centre_pair_gradients(const FeatureLayout& layout, const SplinedRadialBasis& radial,
                           const double* adjoint, CentreTerms& terms) {
    const KernelShape shape = shape_of(layout, radial, terms);
    grow(terms.pair_gradients, 3 * terms.stride);
    pair_gradient_kernel(shape, adjoint, terms.x.data(), terms.y.data(), terms.z.data(),
                         terms.distance.data(), terms.harmonics.data(), terms.harmonic_gradients.data(),
                         terms.radial.data(), terms.radial_derivatives.data(), terms.pair_gradients.data());
}

void centre_member_pair_gradients(const FeatureLayout& layout, const SplinedRadialBasis& radial,
                                  const double* adjoints, std::size_t adjoint_stride, std::size_t members,
                                  const CentreTerms& terms, double* out) {
    const KernelShape shape = shape_of(layout, radial, terms);
    member_pair_gradient_kernel(shape, adjoints, adjoint_stride, members, terms.x.data(), terms.y.data(),
                                terms.z.data(), terms.distance.data(), terms.harmonics.data(),
                                terms.harmonic_gradients.data(), terms.radial.data(),
                                terms.radial_derivatives.data(), out);
}

}  // namespace chorus::models::features::detail
