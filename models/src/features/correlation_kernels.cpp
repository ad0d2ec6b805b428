#include "correlation_kernels.hpp"

#include <algorithm>

#include "bispectrum_linear.hpp"
#include "simd_lanes.hpp"

namespace chorus::models::features::detail {
namespace {

// Largest 2l+1 any kernel sees (l ≤ 12, FeatureSettings' limit) and largest n_max (32).
constexpr int max_width = 25;
constexpr int max_radial = 32;

// ---- ν = 1 ----------------------------------------------------------------------------------
void radial_density(const KernelContext& k, const double* a, double* x) {
    const auto& layout = k.layout;
    double* out = x + layout.nu1_offset;
    for (int s = 0; s < layout.species; ++s) {
        for (int n = 0; n < layout.nu1_n_max; ++n) {
            *out++ = a[layout.density_row(s, n)];  // the l = 0 entry leads each row
        }
    }
}

// ---- ν = 2: p_f = Σ_m A[a, n1, lm] B[b, n2, lm] ----------------------------------------------
// Computed per l as the K × K matrix P_l = Σ_m A_m B_mᵀ (K = S·n_pad, A_m contiguous), four
// entries of a row at a time with the short sum over m kept in a register, then gathered into
// feature order. `accumulate` adds to `products` instead; `upper` (for A = B, where P_l is
// symmetric) computes only the lane blocks on and above the diagonal.
// Blocks lane blocks of one row of P_l: out[q] (+)= Σ_m a[m·channels] b[m·channels + q·lanes…].
template <int Blocks>
[[gnu::always_inline]] inline void product_blocks(const double* a, const double* b, std::size_t channels,
                                                  std::size_t width, double* out, bool accumulate) {
    Lanes sum[Blocks] = {};
    for (std::size_t m = 0; m < width; ++m) {
        const double am = a[m * channels];
        const double* const bm = b + m * channels;
        for (int q = 0; q < Blocks; ++q) {
            sum[q] += am * load_lanes(bm + static_cast<std::size_t>(q * kLaneCount));
        }
    }
    for (int q = 0; q < Blocks; ++q) {
        double* const at = out + static_cast<std::size_t>(q * kLaneCount);
        store_lanes(at, accumulate ? load_lanes(at) + sum[q] : sum[q]);
    }
}

[[gnu::target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")]] void power_spectrum_products(
    std::size_t channels, int l_max, const double* a, const double* b, double* products, bool accumulate,
    bool upper) {
    const bool whole_lanes = channels % kLaneCount == 0;
    for (int l = 0; l <= l_max; ++l) {
        double* const p = products + static_cast<std::size_t>(l) * channels * channels;
        const double* const a_l = a + lm_start(l) * channels;
        const double* const b_l = b + lm_start(l) * channels;
        const std::size_t width = static_cast<std::size_t>(2 * l + 1);
        for (std::size_t k1 = 0; k1 < channels; ++k1) {
            double* const row = p + k1 * channels;
            if (whole_lanes) {
                std::size_t k2 = upper ? k1 / kLaneCount * kLaneCount : 0;
                // Up to four lane blocks of the row per pass over m: one broadcast of A feeds four
                // multiply-adds (each block's sum over m runs in the same order as one at a time).
                for (; k2 + 4 * kLaneCount <= channels; k2 += 4 * kLaneCount) {
                    product_blocks<4>(a_l + k1, b_l + k2, channels, width, row + k2, accumulate);
                }
                switch ((channels - k2) / kLaneCount) {
                    case 3:
                        product_blocks<3>(a_l + k1, b_l + k2, channels, width, row + k2, accumulate);
                        break;
                    case 2:
                        product_blocks<2>(a_l + k1, b_l + k2, channels, width, row + k2, accumulate);
                        break;
                    case 1:
                        product_blocks<1>(a_l + k1, b_l + k2, channels, width, row + k2, accumulate);
                        break;
                    default:
                        break;
                }
            } else {
                for (std::size_t k2 = upper ? k1 : 0; k2 < channels; ++k2) {
                    double sum = 0.0;
                    for (std::size_t m = 0; m < width; ++m) {
                        sum += a_l[m * channels + k1] * b_l[m * channels + k2];
                    }
                    row[k2] = accumulate ? row[k2] + sum : sum;
                }
            }
        }
    }
}

void power_spectrum_matrices(const KernelContext& k, const double* a, const double* b, double* products) {
    power_spectrum_products(k.layout.lm_stride, k.layout.nu2_l_max, a, b, products, false, false);
}

template <bool Accumulate>
void power_spectrum(const KernelContext& k, const double* a, const double* b, double* x, double* products) {
    const auto& layout = k.layout;
    if (layout.nu2.empty()) {
        return;
    }
    power_spectrum_matrices(k, a, b, products);
    const std::size_t channels = layout.lm_stride;
    double* out = x + layout.nu2_offset;
    for (const auto& e : layout.nu2) {
        const double value =
            products[(static_cast<std::size_t>(e.l) * channels + layout.density_row(e.a, e.n1)) * channels +
                     layout.density_row(e.b, e.n2)];
        if constexpr (Accumulate) {
            *out++ += value;
        } else {
            *out++ = value;
        }
    }
}

// g_m += (Q_l + Q_lᵀ) c_m with Q_l[k1][k2] = ∂E/∂p for the feature (k1, k2) of that l.
void power_spectrum_backward(const KernelContext& k, const double* c, const double* dx, double* g,
                             double* scratch) {
    const auto& layout = k.layout;
    if (layout.nu2.empty()) {
        return;
    }
    const std::size_t channels = layout.lm_stride;
    const int l_max = layout.nu2_l_max;
    std::fill_n(scratch, static_cast<std::size_t>(l_max + 1) * channels * channels, 0.0);
    const double* in = dx + layout.nu2_offset;
    for (const auto& e : layout.nu2) {
        const double d = *in++;
        const std::size_t k1 = layout.density_row(e.a, e.n1);
        const std::size_t k2 = layout.density_row(e.b, e.n2);
        double* q = scratch + static_cast<std::size_t>(e.l) * channels * channels;
        q[k1 * channels + k2] += d;
        q[k2 * channels + k1] += d;
    }
    for (int l = 0; l <= l_max; ++l) {
        const double* q = scratch + static_cast<std::size_t>(l) * channels * channels;
        for (int m = 0; m <= 2 * l; ++m) {
            const std::size_t lm = lm_start(l) + static_cast<std::size_t>(m);
            const double* c_m = c + lm * channels;
            double* g_m = g + lm * channels;
            // Q + Qᵀ is symmetric: column k2 is row k2, so this is a contiguous axpy per k2
            for (std::size_t k2 = 0; k2 < channels; ++k2) {
                const double c_k2 = c_m[k2];
                const double* row = q + k2 * channels;
                for (std::size_t k1 = 0; k1 < channels; ++k1) {
                    g_m[k1] += row[k1] * c_k2;
                }
            }
        }
    }
}

// ---- ν = 3: the λ = l3 coupling T[k1, k2] of two densities, dotted with the third -------------
// Channels k = a·n_max + n of the ν = 3 truncation.
std::size_t channel_row(const FeatureLayout& layout, int channel) {
    return layout.nu3_rows[static_cast<std::size_t>(channel)];
}

void couple_pairs(const KernelContext& k, const BispectrumTriple& t, const double* a, const double* b,
                  double* coupled) {
    const auto& layout = k.layout;
    const int channels = layout.species * layout.nu3_truncation.n_max;
    const int width = 2 * t.l3 + 1;
    const auto coefficients = k.cg.coefficients(t.l1, t.l2, t.l3);
    std::fill_n(coupled, static_cast<std::size_t>(channels * channels * width), 0.0);
    const std::size_t stride = layout.lm_stride;
    for (int k1 = 0; k1 < channels; ++k1) {
        const double* row_a = a + channel_row(layout, k1) + lm_start(t.l1) * stride;
        for (int k2 = t.l1 == t.l2 ? k1 : 0; k2 < channels; ++k2) {
            const double* row_b = b + channel_row(layout, k2) + lm_start(t.l2) * stride;
            double* out = coupled + static_cast<std::size_t>((k1 * channels + k2) * width);
            for (const auto& c : coefficients) {
                out[c.mu] += c.value * row_a[c.m1 * stride] * row_b[c.m2 * stride];
            }
        }
    }
}

template <bool Accumulate>
void bispectrum(const KernelContext& k, const double* a, const double* b, const double* c, double* x,
                double* scratch) {
    const auto& layout = k.layout;
    const int channels = layout.species * layout.nu3_truncation.n_max;
    for (const auto& t : layout.nu3) {
        couple_pairs(k, t, a, b, scratch);
        const int width = 2 * t.l3 + 1;
        double* out = x + layout.nu3_offset + t.first;
        for (const auto& [k1, k2, k3] : t.ks) {
            const double* coupled = scratch + static_cast<std::size_t>((k1 * channels + k2) * width);
            const double* row_c = c + channel_row(layout, k3) + lm_start(t.l3) * layout.lm_stride;
            double sum = 0.0;
            for (int mu = 0; mu < width; ++mu) {
                sum += coupled[mu] * row_c[mu * layout.lm_stride];
            }
            if constexpr (Accumulate) {
                *out++ += sum;
            } else {
                *out++ = sum;
            }
        }
    }
}

void bispectrum_backward(const KernelContext& k, const double* c, const double* dx, double* g,
                         double* scratch) {
    const auto& layout = k.layout;
    const int channels = layout.species * layout.nu3_truncation.n_max;
    const std::size_t stride = layout.lm_stride;
    for (const auto& t : layout.nu3) {
        const int width = 2 * t.l3 + 1;
        const std::size_t block = static_cast<std::size_t>(channels * channels * width);
        double* coupled = scratch;
        double* dcoupled = scratch + block;
        couple_pairs(k, t, c, c, coupled);
        std::fill_n(dcoupled, block, 0.0);
        const double* in = dx + layout.nu3_offset + t.first;
        for (const auto& [k1, k2, k3] : t.ks) {
            const double d = *in++;
            if (d == 0.0) {
                continue;
            }
            const std::size_t pair = static_cast<std::size_t>((k1 * channels + k2) * width);
            const std::size_t row_c = channel_row(layout, k3) + lm_start(t.l3) * stride;
            for (int mu = 0; mu < width; ++mu) {
                dcoupled[pair + mu] += d * c[row_c + mu * stride];
                g[row_c + mu * stride] += d * coupled[pair + mu];
            }
        }
        const auto coefficients = k.cg.coefficients(t.l1, t.l2, t.l3);
        for (int k1 = 0; k1 < channels; ++k1) {
            const std::size_t row_a = channel_row(layout, k1) + lm_start(t.l1) * stride;
            for (int k2 = t.l1 == t.l2 ? k1 : 0; k2 < channels; ++k2) {
                const std::size_t row_b = channel_row(layout, k2) + lm_start(t.l2) * stride;
                const double* d = dcoupled + static_cast<std::size_t>((k1 * channels + k2) * width);
                for (const auto& cc : coefficients) {
                    const double w = cc.value * d[cc.mu];
                    g[row_a + cc.m1 * stride] += w * c[row_b + cc.m2 * stride];
                    g[row_b + cc.m2 * stride] += w * c[row_a + cc.m1 * stride];
                }
            }
        }
    }
}

}  // namespace

// ---- per-pair gradients ([1←1], design) -------------------------------------------------------------
std::array<double, 3> pair_gradient(const KernelContext& k, const PairTerms& pair, const double* adjoint_a,
                                    int n_max, int l_max) {
    // G_lm = Σ_n A[lm][n] g_nl and G'_lm = Σ_n A[lm][n] g'_nl (contiguous in n), then
    // ∂E/∂r = r̂ Σ_lm G'_lm Y_lm + Σ_lm G_lm ∇Y_lm. (An m-first variant with axpys over n instead
    // of these short reductions was 1.5× slower in the portable build and 8 % faster with AVX-512.)
    const std::size_t stride = k.layout.lm_stride;
    const std::size_t lm_size = k.layout.lm_size;
    const double* dy_x = pair.harmonic_gradients;
    const double* dy_y = dy_x + lm_size;
    const double* dy_z = dy_y + lm_size;
    double along = 0.0;
    std::array<double, 3> across{0.0, 0.0, 0.0};
    for (int l = 0; l <= l_max; ++l) {
        const double* g = pair.radial + k.radial.offset(l);
        const double* dg = pair.radial_derivatives + k.radial.offset(l);
        for (std::size_t lm = lm_start(l); lm < lm_start(l + 1); ++lm) {
            const double* row = adjoint_a + lm * stride;
            double value = 0.0;
            double slope = 0.0;
            for (int n = 0; n < n_max; ++n) {
                value += row[n] * g[n];
                slope += row[n] * dg[n];
            }
            along += slope * pair.harmonics[lm];
            across[0] += value * dy_x[lm];
            across[1] += value * dy_y[lm];
            across[2] += value * dy_z[lm];
        }
    }
    return {along * pair.direction[0] + across[0], along * pair.direction[1] + across[1],
            along * pair.direction[2] + across[2]};
}

void density_tangent(const KernelContext& k, const PairTerms& pair, int d, double* out_a) {
    const auto& layout = k.layout;
    const double radial_part = pair.direction[static_cast<std::size_t>(d)];
    const double* dy_d = pair.harmonic_gradients + static_cast<std::size_t>(d) * layout.lm_size;
    for (int l = 0; l <= layout.l_max; ++l) {
        const double* g = pair.radial + k.radial.offset(l);
        const double* dg = pair.radial_derivatives + k.radial.offset(l);
        for (std::size_t lm = lm_start(l); lm < lm_start(l + 1); ++lm) {
            double* row = out_a + lm * layout.lm_stride;
            for (int n = 0; n < layout.n_pad; ++n) {
                row[n] = dg[n] * radial_part * pair.harmonics[lm] + g[n] * dy_d[lm];
            }
        }
    }
}

// ---- local invariants -----------------------------------------------------------------------------
std::size_t invariant_sums_size(const FeatureLayout& layout) {
    const std::size_t channels = layout.lm_stride;
    return channels +
           (layout.nu2.empty() ? 0 : static_cast<std::size_t>(layout.nu2_l_max + 1) * channels * channels);
}

void accumulate_invariant_sums(const KernelContext& k, const double* c, double* sums) {
    const auto& layout = k.layout;
    const std::size_t channels = layout.lm_stride;
    for (std::size_t q = 0; q < channels; ++q) {
        sums[q] += c[q];  // the l = 0 row: ν = 1
    }
    if (!layout.nu2.empty()) {
        // Σ_m c_m c_mᵀ is symmetric: only the blocks on and above the diagonal (whole SIMD lanes).
        power_spectrum_products(channels, layout.nu2_l_max, c, c, sums + channels, true, true);
    }
}

void invariant_sums_to_features(const KernelContext& k, const double* sums, double* x) {
    const auto& layout = k.layout;
    radial_density(k, sums, x);
    const std::size_t channels = layout.lm_stride;
    const double* const products = sums + channels;
    double* out = x + layout.nu2_offset;
    for (const auto& e : layout.nu2) {
        // Only the upper triangle was accumulated.
        const std::size_t k1 = layout.density_row(e.a, e.n1);
        const std::size_t k2 = layout.density_row(e.b, e.n2);
        *out++ = products[(static_cast<std::size_t>(e.l) * channels + std::min(k1, k2)) * channels +
                          std::max(k1, k2)];
    }
}

std::size_t local_scratch_size(const FeatureLayout& layout) {
    const auto channels = static_cast<std::size_t>(layout.species * layout.nu3_truncation.n_max);
    const auto width = static_cast<std::size_t>(2 * layout.nu3_truncation.l_max + 1);
    const std::size_t products =
        static_cast<std::size_t>(layout.nu2_l_max + 1) * layout.lm_stride * layout.lm_stride;
    return std::max<std::size_t>({1, 2 * channels * channels * width, products});
}

void local_features(const KernelContext& k, const double* c, double* x, double* scratch) {
    local_features_below_nu3(k, c, x, scratch);
    bispectrum<false>(k, c, c, c, x, scratch);
}

void local_features_below_nu3(const KernelContext& k, const double* c, double* x, double* scratch) {
    radial_density(k, c, x);
    power_spectrum<false>(k, c, c, x, scratch);
}

void local_backward(const KernelContext& k, const double* c, const double* dx, double* g, double* scratch) {
    const auto& layout = k.layout;
    const double* in = dx + layout.nu1_offset;
    for (int s = 0; s < layout.species; ++s) {
        for (int n = 0; n < layout.nu1_n_max; ++n) {
            g[layout.density_row(s, n)] += *in++;
        }
    }
    power_spectrum_backward(k, c, dx, g, scratch);
    bispectrum_backward(k, c, dx, g, scratch);
}

void local_tangent(const KernelContext& k, const double* c, const double* dc, double* x, double* scratch) {
    radial_density(k, dc, x);
    power_spectrum<false>(k, dc, c, x, scratch);
    power_spectrum<true>(k, c, dc, x, scratch);
    bispectrum<false>(k, dc, c, c, x, scratch);
    bispectrum<true>(k, c, dc, c, x, scratch);
    bispectrum<true>(k, c, c, dc, x, scratch);
}

// ---- linear models over ν = 1, 2 (ν = 3: bispectrum_linear.cpp) -----------------------------
namespace {
std::size_t nu2_matrices_size(const FeatureLayout& layout) {
    return static_cast<std::size_t>(layout.nu2_l_max + 1) * layout.lm_stride * layout.lm_stride;
}
}  // namespace

std::size_t linear_matrices_size(const FeatureLayout& layout) {
    return nu2_matrices_size(layout) + bispectrum_weights_size(layout);
}

const double* nu3_weight_blocks(const FeatureLayout& layout, const double* matrices) {
    return matrices + nu2_matrices_size(layout);
}

void linear_matrices(const FeatureLayout& layout, const double* w, double* matrices) {
    const std::size_t channels = layout.lm_stride;
    std::fill_n(matrices, nu2_matrices_size(layout), 0.0);
    bispectrum_weights(layout, w, matrices + nu2_matrices_size(layout));
    const double* in = w + layout.nu2_offset;
    for (const auto& e : layout.nu2) {
        const double d = *in++;
        const std::size_t k1 = layout.density_row(e.a, e.n1);
        const std::size_t k2 = layout.density_row(e.b, e.n2);
        double* s = matrices + static_cast<std::size_t>(e.l) * channels * channels;
        s[k1 * channels + k2] += d;
        s[k2 * channels + k1] += d;
    }
}

namespace {

struct LinearShape {
    std::size_t channels;  // K = lm_stride
    std::size_t density_size;
    int nu2_l_max;
};

// G_l rows for three m at a time when K = Blocks·4 channels fit in registers (K = 16, 20, 24: two
// species with n_max 8, 10, 12): 3·Blocks accumulators, so that each broadcast c_m[k2] feeds
// Blocks multiply-adds and each row of S_l three (the two-m loop below is load-bound: one row load
// per two multiply-adds). Every g entry sums over k2 in the same order as that loop, so the result
// is bit-identical. Returns the first lm it did not do.
template <std::size_t Blocks>
[[gnu::always_inline]] inline std::size_t three_m_rows(const double* s, const double* c, double* g,
                                                       std::size_t first, std::size_t last) {
    constexpr std::size_t channels = Blocks * kLaneCount;
    std::size_t lm = first;
    for (; lm + 3 <= last; lm += 3) {
        const double* const c0 = c + lm * channels;
        Lanes g0[Blocks]{}, g1[Blocks]{}, g2[Blocks]{};
        for (std::size_t k2 = 0; k2 < channels; ++k2) {
            const double* const row = s + k2 * channels;
            const double a0 = c0[k2];
            const double a1 = c0[channels + k2];
            const double a2 = c0[2 * channels + k2];
            for (std::size_t b = 0; b < Blocks; ++b) {
                const Lanes r = load_lanes(row + b * kLaneCount);
                g0[b] += a0 * r;
                g1[b] += a1 * r;
                g2[b] += a2 * r;
            }
        }
        double* const out = g + lm * channels;
        for (std::size_t b = 0; b < Blocks; ++b) {
            store_lanes(out + b * kLaneCount, g0[b]);
            store_lanes(out + channels + b * kLaneCount, g1[b]);
            store_lanes(out + 2 * channels + b * kLaneCount, g2[b]);
        }
    }
    return lm;
}

// G_l = C_l S_l (rows m) for two m at a time and four channels k1 at a time, so that the partial
// sums stay in registers; E = ½ Σ c·g. S_l is symmetric, so its rows are its columns.
[[gnu::target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")]] double power_spectrum_linear(
    const LinearShape& shape, const double* matrices, const double* c, double* g) {
    const std::size_t channels = shape.channels;
    // Every row of l ≤ nu2_l_max is overwritten below; only the rows above need zeros.
    for (std::size_t k = lm_start(shape.nu2_l_max + 1) * channels; k < shape.density_size; ++k) {
        g[k] = 0.0;
    }
    const bool whole_lanes = channels % kLaneCount == 0;
    Lanes energy{};
    double tail_energy = 0.0;
    for (int l = 0; l <= shape.nu2_l_max; ++l) {
        const double* const s = matrices + static_cast<std::size_t>(l) * channels * channels;
        const std::size_t first = lm_start(l);
        const std::size_t last = lm_start(l + 1);
        if (!whole_lanes) {
            for (std::size_t lm = first; lm < last; ++lm) {
                const double* const c_m = c + lm * channels;
                double* const g_m = g + lm * channels;
                for (std::size_t k1 = 0; k1 < channels; ++k1) {
                    double sum = 0.0;
                    for (std::size_t k2 = 0; k2 < channels; ++k2) {
                        sum += s[k1 * channels + k2] * c_m[k2];
                    }
                    g_m[k1] = sum;
                    tail_energy += c_m[k1] * sum;
                }
            }
            continue;
        }
        std::size_t lm = first;
        switch (channels / kLaneCount) {
            case 4:
                lm = three_m_rows<4>(s, c, g, first, last);
                break;
            case 5:
                lm = three_m_rows<5>(s, c, g, first, last);
                break;
            case 6:
                lm = three_m_rows<6>(s, c, g, first, last);
                break;
            default:
                break;
        }
        for (; lm < last; lm += 2) {
            const bool pair = lm + 1 < last;
            const double* const c0 = c + lm * channels;
            const double* const c1 = pair ? c0 + channels : c0;
            for (std::size_t k1 = 0; k1 < channels; k1 += kLaneCount) {
                Lanes g0{}, g1{};
                for (std::size_t k2 = 0; k2 < channels; ++k2) {
                    const Lanes row = load_lanes(s + k2 * channels + k1);
                    g0 += c0[k2] * row;
                    g1 += c1[k2] * row;
                }
                store_lanes(g + lm * channels + k1, g0);
                if (pair) {
                    store_lanes(g + (lm + 1) * channels + k1, g1);
                }
            }
        }
        // E = ½ Σ c·g, summed in pairs of m as it always was (the energy does not depend on how
        // g was blocked).
        for (lm = first; lm < last; lm += 2) {
            const bool pair = lm + 1 < last;
            for (std::size_t k1 = 0; k1 < channels; k1 += kLaneCount) {
                energy += load_lanes(g + lm * channels + k1) * load_lanes(c + lm * channels + k1);
                if (pair) {
                    energy +=
                        load_lanes(g + (lm + 1) * channels + k1) * load_lanes(c + (lm + 1) * channels + k1);
                }
            }
        }
    }
    return 0.5 * (sum_lanes(energy) + tail_energy);
}

}  // namespace

double linear_local_adjoint(const FeatureLayout& layout, const double* matrices, const double* w,
                            const double* c, double* g) {
    double energy = 0.0;
    if (!layout.nu2.empty()) {
        energy =
            power_spectrum_linear({layout.lm_stride, layout.density_size, layout.nu2_l_max}, matrices, c, g);
    } else {
        std::fill_n(g, layout.density_size, 0.0);
    }
    const double* in = w + layout.nu1_offset;
    for (int s = 0; s < layout.species; ++s) {
        for (int n = 0; n < layout.nu1_n_max; ++n) {
            const std::size_t row = layout.density_row(s, n);
            energy += *in * c[row];
            g[row] += *in++;
        }
    }
    return energy;
}

// ---- [1←1] --------------------------------------------------------------------------------------
// Message layout per (e, b, triple): [n2][n3][μ], μ over 2l1+1; couplings C^{l1 μ}_{l2 m2; l3 m3}
// with m2 on the neighbour's density and m3 on the bond harmonics.
void accumulate_message(const KernelContext& k, const PairTerms& bond, int e, const double* c_j,
                        double* message) {
    const auto& layout = k.layout;
    const int n_max = layout.mp_truncation.n_max;
    for (int b = 0; b < layout.species; ++b) {
        for (std::size_t t = 0; t < layout.mp_triples.size(); ++t) {
            const auto [l1, l2, l3] = layout.mp_triples[t];
            const int width = 2 * l1 + 1;
            const auto coefficients = k.cg.coefficients(l2, l3, l1);
            const double* y = bond.harmonics + lm_start(l3);
            const double* g = bond.radial + k.radial.offset(l3);
            double* block = message + layout.message_offset(e, b, t);
            for (int n2 = 0; n2 < n_max; ++n2) {
                const double* row = c_j + layout.density_row(b, n2) + lm_start(l2) * layout.lm_stride;
                std::array<double, max_width> coupled{};
                for (const auto& c : coefficients) {
                    coupled[c.mu] += c.value * row[c.m1 * layout.lm_stride] * y[c.m2];
                }
                for (int n3 = 0; n3 < n_max; ++n3) {
                    double* out = block + static_cast<std::size_t>((n2 * n_max + n3) * width);
                    for (int mu = 0; mu < width; ++mu) {
                        out[mu] += g[n3] * coupled[mu];
                    }
                }
            }
        }
    }
}

namespace {

// Walks every [1←1] feature with its centre row and message row; f(feature index, centre row, message row,
// width).
template <typename Visit>
void for_each_message_feature(const FeatureLayout& layout, Visit&& visit) {
    const int n_max = layout.mp_truncation.n_max;
    const int s = layout.species;
    const auto per_triple = static_cast<std::size_t>(n_max * n_max * n_max);
    for (int a = 0; a < s; ++a) {
        for (int e = 0; e < s; ++e) {
            for (int b = 0; b < s; ++b) {
                const std::size_t base = layout.mp_offset + static_cast<std::size_t>((a * s + e) * s + b) *
                                                                layout.mp_feature_eb_size;
                for (std::size_t t = 0; t < layout.mp_triples.size(); ++t) {
                    const int l1 = layout.mp_triples[t].l1;
                    const int width = 2 * l1 + 1;
                    const std::size_t message = layout.message_offset(e, b, t);
                    std::size_t feature = base + t * per_triple;
                    for (int n1 = 0; n1 < n_max; ++n1) {
                        const std::size_t centre =
                            layout.density_row(a, n1) + lm_start(l1) * layout.lm_stride;
                        for (int n23 = 0; n23 < n_max * n_max; ++n23) {
                            visit(feature++, centre, message + static_cast<std::size_t>(n23 * width), width);
                        }
                    }
                }
            }
        }
    }
}

}  // namespace

void message_features(const KernelContext& k, const double* c_i, const double* message, double* x) {
    const std::size_t stride = k.layout.lm_stride;
    for_each_message_feature(k.layout, [&](std::size_t f, std::size_t centre, std::size_t row, int width) {
        double sum = 0.0;
        for (int mu = 0; mu < width; ++mu) {
            sum += c_i[centre + mu * stride] * message[row + mu];
        }
        x[f] = sum;
    });
}

void message_backward(const KernelContext& k, const double* c_i, const double* message, const double* dx,
                      double* g_i, double* dmessage) {
    std::fill_n(dmessage, k.layout.mp_message_size, 0.0);
    const std::size_t stride = k.layout.lm_stride;
    for_each_message_feature(k.layout, [&](std::size_t f, std::size_t centre, std::size_t row, int width) {
        const double d = dx[f];
        if (d == 0.0) {
            return;
        }
        for (int mu = 0; mu < width; ++mu) {
            g_i[centre + mu * stride] += d * message[row + mu];
            dmessage[row + mu] += d * c_i[centre + mu * stride];
        }
    });
}

std::array<double, 3> message_bond_gradient(const KernelContext& k, const PairTerms& bond, int e,
                                            const double* c_j, const double* dmessage_i, double* adjoint) {
    const auto& layout = k.layout;
    const int n_max = layout.mp_truncation.n_max;
    const std::size_t stride = layout.lm_stride;
    const auto l_max = layout.mp_truncation.l_max;
    std::fill_n(adjoint, static_cast<std::size_t>((l_max + 1) * (l_max + 1)) * stride, 0.0);
    for (int b = 0; b < layout.species; ++b) {
        for (std::size_t t = 0; t < layout.mp_triples.size(); ++t) {
            const auto [l1, l2, l3] = layout.mp_triples[t];
            const int width = 2 * l1 + 1;
            const auto coefficients = k.cg.coefficients(l2, l3, l1);
            const double* block = dmessage_i + layout.message_offset(e, b, t);
            for (int n2 = 0; n2 < n_max; ++n2) {
                const double* row = c_j + layout.density_row(b, n2) + lm_start(l2) * stride;
                const double* d = block + static_cast<std::size_t>(n2 * n_max * width);
                for (const auto& c : coefficients) {
                    const double w = c.value * row[c.m1 * stride];
                    double* out = adjoint + (lm_start(l3) + c.m2) * stride;
                    for (int n3 = 0; n3 < n_max; ++n3) {
                        out[n3] += w * d[n3 * width + c.mu];
                    }
                }
            }
        }
    }
    return pair_gradient(k, bond, adjoint, n_max, l_max);
}

void message_neighbour_adjoint(const KernelContext& k, const PairTerms& bond, bool reversed, int e,
                               const double* dmessage_i, double* g_j) {
    const auto& layout = k.layout;
    const int n_max = layout.mp_truncation.n_max;
    for (int b = 0; b < layout.species; ++b) {
        for (std::size_t t = 0; t < layout.mp_triples.size(); ++t) {
            const auto [l1, l2, l3] = layout.mp_triples[t];
            const int width = 2 * l1 + 1;
            const double* block = dmessage_i + layout.message_offset(e, b, t);
            const double* g = bond.radial + k.radial.offset(l3);
            // P[n2][μ] = Σ_n3 g_{n3 l3} ∂E/∂M[n2][n3][μ]
            std::array<double, max_radial * max_width> contracted{};
            for (int n2 = 0; n2 < n_max; ++n2) {
                for (int n3 = 0; n3 < n_max; ++n3) {
                    const double* d = block + static_cast<std::size_t>((n2 * n_max + n3) * width);
                    for (int mu = 0; mu < width; ++mu) {
                        contracted[static_cast<std::size_t>(n2 * width + mu)] += g[n3] * d[mu];
                    }
                }
            }
            // Y_l(−r̂) = (−1)^l Y_l(r̂): the bond seen from the other end
            const double parity = reversed && l3 % 2 == 1 ? -1.0 : 1.0;
            const double* y = bond.harmonics + lm_start(l3);
            for (const auto& c : k.cg.coefficients(l2, l3, l1)) {
                const double w = parity * c.value * y[c.m2];
                for (int n2 = 0; n2 < n_max; ++n2) {
                    g_j[layout.density_row(b, n2) + (lm_start(l2) + c.m1) * layout.lm_stride] +=
                        w * contracted[static_cast<std::size_t>(n2 * width + c.mu)];
                }
            }
        }
    }
}

// ---- λ-SOAP -------------------------------------------------------------------------------------
void equivariant_features(const KernelContext& k, int lambda, std::span<const EquivariantEntry> entries,
                          const double* c, double* out) {
    const auto& layout = k.layout;
    const std::size_t count = entries.size();
    std::fill_n(out, count * static_cast<std::size_t>(2 * lambda + 1), 0.0);
    for (std::size_t f = 0; f < count; ++f) {
        const auto& e = entries[f];
        const std::size_t stride = layout.lm_stride;
        const double* row_a = c + layout.density_row(e.a, e.n1) + lm_start(e.l1) * stride;
        const double* row_b = c + layout.density_row(e.b, e.n2) + lm_start(e.l2) * stride;
        for (const auto& coefficient : k.cg.coefficients(e.l1, e.l2, lambda)) {
            out[coefficient.mu * count + f] +=
                coefficient.value * row_a[coefficient.m1 * stride] * row_b[coefficient.m2 * stride];
        }
    }
}

}  // namespace chorus::models::features::detail
