#pragma once
// Four doubles handled as one value (a GCC vector): the hot kernels say explicitly which loop is
// the SIMD one instead of hoping the auto-vectoriser picks it (it tends to pick the short loop
// over n and then reduce lanes one by one). In the AVX2/AVX-512 clones of the multi-versioned
// kernels a Lanes is one ymm register; in the baseline clone the compiler splits it into two SSE2
// registers. Only used inside those kernels, always inlined, never passed across a call (so GCC's
// -Wpsabi warning about the AVX calling convention, silenced below, does not apply). Arguments
// are taken by reference: the pragma does not silence GCC's separate note about passing them.
#include <cstring>

// For the whole including file (only the kernel sources include this): the note is about calls.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace chorus::models::features::detail {

using Lanes = double __attribute__((vector_size(4 * sizeof(double))));
inline constexpr int kLaneCount = 4;

[[gnu::always_inline]] inline Lanes load_lanes(const double* p) {
    Lanes v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

[[gnu::always_inline]] inline void store_lanes(double* p, const Lanes& v) { std::memcpy(p, &v, sizeof v); }

[[gnu::always_inline]] inline double sum_lanes(const Lanes& v) { return (v[0] + v[1]) + (v[2] + v[3]); }

}  // namespace chorus::models::features::detail
