#pragma once
// Full neighbour list (each pair appears from both ends) built in O(N) by cell binning.
// Periodic systems: triclinic cells of any shape, including cells thinner than twice the cutoff
// (a centre then sees several images of a neighbour, and its own images). Positions need not be
// wrapped into the cell.
#include <array>
#include <cstddef>
#include <span>
#include <vector>

#include <Eigen/Core>

#include "chorus/engine/system.hpp"

namespace chorus::engine {

struct Neighbour {
    int index;               // the neighbour atom j (an image of it when periodic)
    Eigen::Vector3d vector;  // r_ij = r_j + T − r_i, Å
    double distance;         // |r_ij| < cutoff, > 0
};

class NeighbourList {
public:
    explicit NeighbourList(double cutoff);

    // Rebuilds for the current coordinates, reusing storage.
    void build(const System& system);

    double cutoff() const { return cutoff_; }
    std::size_t centres() const { return offsets_.empty() ? 0 : offsets_.size() - 1; }
    std::size_t pairs() const { return neighbours_.size(); }
    std::span<const Neighbour> neighbours(std::size_t centre) const {
        return {neighbours_.data() + offsets_[centre], neighbours_.data() + offsets_[centre + 1]};
    }

private:
    double cutoff_;
    std::vector<std::size_t> offsets_;
    std::vector<Neighbour> neighbours_;
    // binning scratch, reused between builds
    std::vector<int> bin_starts_;         // atoms of bin b: binned_atoms_[bin_starts_[b] .. bin_starts_[b+1])
    std::vector<int> bin_fill_;           // insertion cursor per bin while sorting
    std::vector<int> binned_atoms_;       // atom indices sorted by bin
    Eigen::Matrix3Xd binned_positions_;   // their wrapped positions, in the same order
    Eigen::Matrix3Xd wrapped_positions_;  // positions shifted into the (reduced) cell
    std::vector<std::array<int, 3>> atom_bins_;  // bin of each atom
};

}  // namespace chorus::engine
