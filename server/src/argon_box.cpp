#include "argon_box.hpp"

#include <cmath>
#include <random>

namespace chorus::server {

ArgonBox make_argon_box(int atoms, double noise, std::uint32_t seed) {
    // Smallest n with 4 n³ ≥ atoms fcc sites; when atoms < 4 n³, evenly strided sites are taken
    // so that the box is filled uniformly rather than layer by layer.
    int cells = 1;
    while (4 * cells * cells * cells < atoms) {
        ++cells;
    }
    const long sites = 4L * cells * cells * cells;
    const double length = std::cbrt(atoms / liquid_argon_density);
    const double spacing = length / cells;
    constexpr double basis[4][3] = {{0.0, 0.0, 0.0}, {0.5, 0.5, 0.0}, {0.5, 0.0, 0.5}, {0.0, 0.5, 0.5}};

    std::mt19937 generator(seed);
    std::uniform_real_distribution<double> displacement(-noise, noise);

    ArgonBox box;
    box.cell = Eigen::Matrix3d::Identity() * length;
    box.positions.resize(3, atoms);
    for (int atom = 0; atom < atoms; ++atom) {
        const long site = atom * sites / atoms;
        const long b = site % 4;
        const long cell_index = site / 4;
        const long i = cell_index / (cells * cells);
        const long j = (cell_index / cells) % cells;
        const long k = cell_index % cells;
        box.positions(0, atom) = (i + basis[b][0]) * spacing + displacement(generator);
        box.positions(1, atom) = (j + basis[b][1]) * spacing + displacement(generator);
        box.positions(2, atom) = (k + basis[b][2]) * spacing + displacement(generator);
    }
    return box;
}

}  // namespace chorus::server
