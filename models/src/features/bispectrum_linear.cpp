#include "bispectrum_linear.hpp"

#include <algorithm>

#include "simd_lanes.hpp"

namespace chorus::models::features::detail {
namespace {

struct Shape {
    std::size_t channels;  // K
    std::size_t padded;    // K4
    std::size_t rows;      // (l_max + 1)² packed (l, m) rows
    std::size_t width;     // 2 l_max + 1

    explicit Shape(const FeatureLayout& layout)
        : channels(static_cast<std::size_t>(layout.species * layout.nu3_truncation.n_max)),
          padded((channels + kLaneCount - 1) / kLaneCount * kLaneCount),
          rows(lm_start(layout.nu3_truncation.l_max + 1)),
          width(static_cast<std::size_t>(2 * layout.nu3_truncation.l_max + 1)) {}

    std::size_t block() const { return channels * channels * padded; }  // dense weights of a triple
};

// One triple's operands; the k2 lanes are processed in chunks of up to four lane blocks.
struct Triple {
    std::size_t channels, padded;
    std::size_t w1, w3;
    const double* p1;  // packed rows of l1: p1[m1·padded + k]
    const double* p2;
    const double* p3;
    std::span<const CouplingCoefficient> terms;  // sorted by μ
    double* coupled;                             // [k1][μ][k2]
    double* features;                            // [k1][k3][k2]
    double* dcoupled;                            // [k1][μ][k2], one member at a time
    double* z;                                   // [μ][m1][k2], one member at a time
    double* r;                                   // [μ][m1][k2]
    std::span<const double* const> dense;        // per member: all triples' blocks
    std::size_t dense_offset;                    // this triple's block
    double* energies;                            // per member, added to
    double* gradients;                           // per member: packed rows
    std::size_t gradient_stride;
    std::size_t g1, g2, g3;  // offsets of the l1, l2, l3 rows in a packed gradient
};

// out[u·out_step + q·4 …] = Σ_{j < count} scale[j·scale_step + u·scale_next] · rows[j·row_step + q·4 …]
// for u < outputs: the rows are loaded once for Group outputs at a time, so that 2·Blocks to
// 4·Blocks independent sums are in flight instead of Blocks dependent ones.
template <int Blocks, int Group>
[[gnu::always_inline]] inline void scaled_row_group(const double* rows, std::size_t row_step,
                                                    std::size_t out_step, const double* scale,
                                                    std::size_t scale_step, std::size_t count,
                                                    std::size_t scale_next, double* out) {
    Lanes sum[Group][Blocks] = {};
    for (std::size_t j = 0; j < count; ++j) {
        Lanes row[Blocks];
        for (int q = 0; q < Blocks; ++q) {
            row[q] = load_lanes(rows + j * row_step + static_cast<std::size_t>(q * kLaneCount));
        }
        for (int u = 0; u < Group; ++u) {
            const double s = scale[j * scale_step + static_cast<std::size_t>(u) * scale_next];
            for (int q = 0; q < Blocks; ++q) {
                sum[u][q] += s * row[q];
            }
        }
    }
    for (int u = 0; u < Group; ++u) {
        for (int q = 0; q < Blocks; ++q) {
            store_lanes(
                out + static_cast<std::size_t>(u) * out_step + static_cast<std::size_t>(q * kLaneCount),
                sum[u][q]);
        }
    }
}

template <int Blocks>
[[gnu::always_inline]] inline void scaled_row_sums(const double* rows, std::size_t row_step,
                                                   std::size_t out_step, const double* scale,
                                                   std::size_t scale_step, std::size_t scale_next,
                                                   std::size_t count, std::size_t outputs, double* out) {
    constexpr int group = Blocks <= 2 ? 4 : 2;
    std::size_t u = 0;
    for (; u + group <= outputs; u += group) {
        scaled_row_group<Blocks, group>(rows, row_step, out_step, scale + u * scale_next, scale_step, count,
                                        scale_next, out + u * out_step);
    }
    for (; u < outputs; ++u) {
        scaled_row_group<Blocks, 1>(rows, row_step, out_step, scale + u * scale_next, scale_step, count,
                                    scale_next, out + u * out_step);
    }
}

// out[u·out_step] += Σ_{j < count} a[j·a_step + q…] · b[j·b_step + u·padded + q…] summed over the
// lanes, for u < outputs, Group outputs at a time (the a rows loaded once for all of them).
template <int Blocks, int Group>
[[gnu::always_inline]] inline void row_dot_group(const double* a, std::size_t a_step, const double* b,
                                                 std::size_t b_step, std::size_t padded, std::size_t count,
                                                 double* out, std::size_t out_step) {
    Lanes sum[Group][Blocks] = {};
    for (std::size_t j = 0; j < count; ++j) {
        for (int q = 0; q < Blocks; ++q) {
            const Lanes row = load_lanes(a + j * a_step + static_cast<std::size_t>(q * kLaneCount));
            for (int u = 0; u < Group; ++u) {
                sum[u][q] += row * load_lanes(b + j * b_step + static_cast<std::size_t>(u) * padded +
                                              static_cast<std::size_t>(q * kLaneCount));
            }
        }
    }
    for (int u = 0; u < Group; ++u) {
        Lanes total = sum[u][0];
        for (int q = 1; q < Blocks; ++q) {
            total += sum[u][q];
        }
        out[static_cast<std::size_t>(u) * out_step] += sum_lanes(total);
    }
}

template <int Blocks>
[[gnu::always_inline]] inline void row_dots(const double* a, std::size_t a_step, const double* b,
                                            std::size_t b_step, std::size_t padded, std::size_t count,
                                            std::size_t outputs, double* out, std::size_t out_step) {
    constexpr int group = Blocks <= 2 ? 4 : 2;
    std::size_t u = 0;
    for (; u + group <= outputs; u += group) {
        row_dot_group<Blocks, group>(a, a_step, b + u * padded, b_step, padded, count, out + u * out_step,
                                     out_step);
    }
    for (; u < outputs; ++u) {
        row_dot_group<Blocks, 1>(a, a_step, b + u * padded, b_step, padded, count, out + u * out_step,
                                 out_step);
    }
}

template <int Blocks>
[[gnu::always_inline]] inline void triple_chunk(const Triple& t, std::size_t o) {
    const std::size_t channels = t.channels;
    const std::size_t padded = t.padded;
    const std::size_t w3 = t.w3;
    auto at = [&]<typename Value>(Value* base, std::size_t row, int q) {
        return base + row * padded + o + static_cast<std::size_t>(q * kLaneCount);
    };

    // R[μ][m1][k2] = Σ_{m2} C^μ_{m1 m2} c_{k2 m2}: the coupling with c1 left open, shared by all
    // k1 and members. Then T[k1][μ] = Σ_m1 c_{k1 m1} R[μ][m1] as a dense sum.
    std::fill_n(t.r, w3 * t.w1 * padded, 0.0);
    for (const CouplingCoefficient& cc : t.terms) {
        for (int q = 0; q < Blocks; ++q) {
            double* const r = at(t.r, cc.mu * t.w1 + cc.m1, q);
            store_lanes(r, load_lanes(r) + cc.value * load_lanes(at(t.p2, cc.m2, q)));
        }
    }
    for (std::size_t mu = 0; mu < w3; ++mu) {
        scaled_row_sums<Blocks>(at(t.r, mu * t.w1, 0), padded, w3 * padded, t.p1, padded, 1, t.w1, channels,
                                at(t.coupled, mu, 0));
    }

    // X[k1][k3][k2] = Σ_μ T[k1][μ][k2] c_{k3 μ}.
    for (std::size_t k1 = 0; k1 < channels; ++k1) {
        scaled_row_sums<Blocks>(at(t.coupled, k1 * w3, 0), padded, padded, t.p3, padded, 1, w3, channels,
                                at(t.features, k1 * channels, 0));
    }

    for (std::size_t m = 0; m < t.dense.size(); ++m) {
        const double* const d = t.dense[m] + t.dense_offset;
        double* const g = t.gradients + m * t.gradient_stride;
        // E = Σ D ⊙ X over this chunk.
        Lanes energy{};
        for (std::size_t row = 0; row < channels * channels; ++row) {
            for (int q = 0; q < Blocks; ++q) {
                energy += load_lanes(at(d, row, q)) * load_lanes(at(t.features, row, q));
            }
        }
        t.energies[m] += sum_lanes(energy);
        // ∂E/∂T[k1][μ][k2] = Σ_k3 D[k1][k3][k2] c_{k3 μ}.
        for (std::size_t k1 = 0; k1 < channels; ++k1) {
            scaled_row_sums<Blocks>(at(d, k1 * channels, 0), padded, padded, t.p3, 1, padded, channels, w3,
                                    at(t.dcoupled, k1 * w3, 0));
        }
        // ∂E/∂c_{k3 μ} (the c of l3) = Σ_{k1 k2} D[k1][k3][k2] T[k1][μ][k2], over this chunk's k2.
        for (std::size_t k3 = 0; k3 < channels; ++k3) {
            row_dots<Blocks>(at(d, k3, 0), channels * padded, at(t.coupled, 0, 0), w3 * padded, padded,
                             channels, w3, g + t.g3 + k3, padded);
        }
        // Back through the coupling. ∂E/∂c_{k2 m2} = Σ_terms v Z[μ][m1][k2] with Z[μ][m1] =
        // Σ_k1 c_{k1 m1} ∂E/∂T[k1][μ] (a dense sum, then one lane-wise update per term, not per
        // term and k1); ∂E/∂c_{k1 m1} = Σ_terms v Σ_k2 ∂E/∂T[k1][μ][k2] c_{k2 m2}, finished across lanes.
        for (std::size_t mu = 0; mu < w3; ++mu) {
            scaled_row_sums<Blocks>(at(t.dcoupled, mu, 0), w3 * padded, padded, t.p1, 1, padded, channels,
                                    t.w1, at(t.z, mu * t.w1, 0));
        }
        double* const g2 = g + t.g2;
        for (const CouplingCoefficient& cc : t.terms) {
            for (int q = 0; q < Blocks; ++q) {
                store_lanes(at(g2, cc.m2, q), load_lanes(at(g2, cc.m2, q)) +
                                                  cc.value * load_lanes(at(t.z, cc.mu * t.w1 + cc.m1, q)));
            }
        }
        for (std::size_t k1 = 0; k1 < channels; ++k1) {
            row_dots<Blocks>(at(t.dcoupled, k1 * w3, 0), padded, at(t.r, 0, 0), t.w1 * padded, padded, w3,
                             t.w1, g + t.g1 + k1, padded);
        }
    }
}

[[gnu::target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")]] void triple_kernel(const Triple& t) {
    std::size_t o = 0;
    while (o < t.padded) {
        switch (std::min<std::size_t>((t.padded - o) / kLaneCount, 4)) {
            case 4:
                triple_chunk<4>(t, o);
                o += 4 * kLaneCount;
                break;
            case 3:
                triple_chunk<3>(t, o);
                o += 3 * kLaneCount;
                break;
            case 2:
                triple_chunk<2>(t, o);
                o += 2 * kLaneCount;
                break;
            default:
                triple_chunk<1>(t, o);
                o += kLaneCount;
                break;
        }
    }
}

}  // namespace

std::size_t bispectrum_weights_size(const FeatureLayout& layout) {
    return layout.nu3.size() * Shape(layout).block();
}

void bispectrum_weights(const FeatureLayout& layout, const double* w, double* dense) {
    const Shape shape(layout);
    std::fill_n(dense, bispectrum_weights_size(layout), 0.0);
    for (const auto& t : layout.nu3) {
        const double* in = w + layout.nu3_offset + t.first;
        for (const auto& [k1, k2, k3] : t.ks) {
            dense[(k1 * shape.channels + k3) * shape.padded + k2] = *in++;
        }
        dense += shape.block();
    }
}

std::size_t bispectrum_linear_scratch_size(const FeatureLayout& layout, std::size_t members) {
    const Shape shape(layout);
    const std::size_t packed = shape.rows * shape.padded;
    const std::size_t coupled = shape.channels * shape.width * shape.padded;
    return packed * (1 + members) + 2 * coupled + shape.channels * shape.channels * shape.padded +
           2 * shape.width * shape.width * shape.padded;
}

namespace {

// x's entries of triple t from its dense block [k1][k3][k2].
void gather_triple(const Shape& shape, const BispectrumTriple& t, const double* block, double* x) {
    for (const auto& [k1, k2, k3] : t.ks) {
        *x++ = block[(k1 * shape.channels + k3) * shape.padded + k2];
    }
}

}  // namespace

void bispectrum_dense_to_features(const FeatureLayout& layout, const double* dense, double* x) {
    const Shape shape(layout);
    for (const auto& t : layout.nu3) {
        gather_triple(shape, t, dense, x + layout.nu3_offset + t.first);
        dense += shape.block();
    }
}

void bispectrum_linear_adjoint(const KernelContext& k, const double* c, std::span<const double* const> dense,
                               const BispectrumLinearOutputs& out, double* scratch) {
    const auto& layout = k.layout;
    const Shape shape(layout);
    const std::size_t members = dense.size();
    const std::size_t packed_size = shape.rows * shape.padded;
    double* const packed = scratch;
    double* const gradients = packed + packed_size;
    double* const coupled = gradients + members * packed_size;
    double* const dcoupled = coupled + shape.channels * shape.width * shape.padded;
    double* const features = dcoupled + shape.channels * shape.width * shape.padded;
    double* const z = features + shape.channels * shape.channels * shape.padded;
    double* const r = z + shape.width * shape.width * shape.padded;

    // The ν = 3 channels of c, packed into rows of whole lanes (the padding stays zero).
    std::fill_n(packed, packed_size * (1 + members), 0.0);
    for (std::size_t lm = 0; lm < shape.rows; ++lm) {
        for (std::size_t kc = 0; kc < shape.channels; ++kc) {
            packed[lm * shape.padded + kc] = c[lm * layout.lm_stride + layout.nu3_rows[kc]];
        }
    }

    std::size_t offset = 0;
    for (const auto& t : layout.nu3) {
        const auto terms = k.cg.coefficients(t.l1, t.l2, t.l3);
        const auto w3 = static_cast<std::size_t>(2 * t.l3 + 1);
        const Triple triple{.channels = shape.channels,
                            .padded = shape.padded,
                            .w1 = static_cast<std::size_t>(2 * t.l1 + 1),
                            .w3 = w3,
                            .p1 = packed + lm_start(t.l1) * shape.padded,
                            .p2 = packed + lm_start(t.l2) * shape.padded,
                            .p3 = packed + lm_start(t.l3) * shape.padded,
                            .terms = terms,
                            .coupled = coupled,
                            .features = features,
                            .dcoupled = dcoupled,
                            .z = z,
                            .r = r,
                            .dense = dense,
                            .dense_offset = offset,
                            .energies = out.energies.data(),
                            .gradients = gradients,
                            .gradient_stride = packed_size,
                            .g1 = lm_start(t.l1) * shape.padded,
                            .g2 = lm_start(t.l2) * shape.padded,
                            .g3 = lm_start(t.l3) * shape.padded};
        triple_kernel(triple);
        if (out.features != nullptr) {
            gather_triple(shape, t, features, out.features + layout.nu3_offset + t.first);
        }
        if (out.dense_sums != nullptr) {
            double* const sum = out.dense_sums + offset;
            for (std::size_t e = 0; e < shape.block(); ++e) {
                sum[e] += features[e];
            }
        }
        offset += shape.block();
    }

    for (std::size_t m = 0; m < members; ++m) {
        const double* const from = gradients + m * packed_size;
        for (std::size_t lm = 0; lm < shape.rows; ++lm) {
            for (std::size_t kc = 0; kc < shape.channels; ++kc) {
                out.gradients[m][lm * layout.lm_stride + layout.nu3_rows[kc]] += from[lm * shape.padded + kc];
            }
        }
    }
}

}  // namespace chorus::models::features::detail
