#pragma once
// A liquid-argon-like configuration for benchmarks and tests: fcc sites scaled to the density of
// liquid argon near its boiling point, with a little random displacement so that no two pair
// distances coincide.
#include <cstdint>

#include <Eigen/Core>

namespace chorus::server {

// Number density of liquid argon at 87 K (1.40 g/cm³, 39.948 g/mol), atoms per Å³.
inline constexpr double liquid_argon_density = 0.0211;

struct ArgonBox {
    Eigen::Matrix3Xd positions;  // Å
    Eigen::Matrix3d cell;        // cubic, lattice vectors as columns, Å
};

// `atoms` atoms on the first sites of an fcc lattice filling a cubic periodic box, displaced by
// uniform noise of ±`noise` Å; deterministic for a given seed.
ArgonBox make_argon_box(int atoms, double noise = 0.1, std::uint32_t seed = 20261123);

}  // namespace chorus::server
