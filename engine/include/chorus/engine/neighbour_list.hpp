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
    // skin > 0 (Å) turns on Verlet reuse: a full build keeps every candidate within cutoff + skin,
    // and later builds only re-measure those candidates while no atom has moved more than skin / 2
    // from where it was at the full build (and atoms, cell and periodicity are the same), which
    // cannot miss a pair: the result equals a fresh build up to rounding in the last digit of
    // r_ij. Throws ConfigError for a cutoff ≤ 0, or a negative or non-finite skin.
    explicit NeighbourList(double cutoff, double skin = 0.0);

    // Rebuilds for the current coordinates, reusing storage (and the candidates, see above).
    void build(const System& system);

    double cutoff() const { return cutoff_; }
    double skin() const { return skin_; }
    std::size_t centres() const { return offsets_.empty() ? 0 : offsets_.size() - 1; }
    std::size_t pairs() const { return pair_count_; }
    std::span<const Neighbour> neighbours(std::size_t centre) const {
        return {neighbours_.data() + offsets_[centre], neighbours_.data() + ends_[centre]};
    }
    // How many builds searched the bins (the rest re-measured candidates); for tests and logs.
    std::size_t full_builds() const { return full_builds_; }

private:
    // The cell search for pairs within `range`: into neighbours_/offsets_ (keeping each pair's
    // image in pair_images_ when `images`).
    void search(const System& system, double range, bool images);
    bool can_reuse(const System& system) const;
    void refilter(const System& system);

    double cutoff_;
    double skin_;
    // Centre i's neighbours are neighbours_[offsets_[i] .. ends_[i]): after a re-measure each centre
    // keeps the room of its candidates, so that centres can be filled in parallel.
    std::vector<std::size_t> offsets_;
    std::vector<std::size_t> ends_;
    std::vector<Neighbour> neighbours_;
    std::size_t pair_count_ = 0;
    // binning scratch, reused between builds
    std::vector<int> bin_starts_;         // atoms of bin b: binned_atoms_[bin_starts_[b] .. bin_starts_[b+1])
    std::vector<int> bin_fill_;           // insertion cursor per bin while sorting
    std::vector<int> binned_atoms_;       // atom indices sorted by bin
    Eigen::Matrix3Xd binned_positions_;   // their wrapped positions, in the same order
    Eigen::Matrix3Xd wrapped_positions_;  // positions shifted into the (reduced) cell
    Eigen::Matrix3Xd wrap_shifts_;        // given − wrapped position of each atom (a lattice vector)
    std::vector<std::array<int, 3>> atom_bins_;  // bin of each atom
    // Verlet reuse (skin > 0): candidates within cutoff + skin as (j, image), with
    // r_ij = r_j + T − r_i in the coordinates given at the full build and T = (S + w_i) − w_j:
    // S = image_sums_[image] the bin steps' lattice shift, w the wrap shifts of that build.
    // Summed in the order search() sums, so a re-measure gives a fresh build's r_ij to the bit;
    // 8 bytes per candidate instead of 28 is what keeps large systems' re-measure cheap.
    struct Candidate {
        int atom;
        int image;
    };
    std::vector<std::size_t> candidate_offsets_;
    std::vector<Candidate> candidates_;
    std::vector<int> pair_images_;  // search() output, per pair found
    std::vector<Eigen::Vector3d> image_sums_;
    Eigen::Matrix3Xd reference_positions_;
    Eigen::Matrix3d reference_cell_ = Eigen::Matrix3d::Zero();
    bool reference_periodic_ = false;
    bool candidates_valid_ = false;
    std::size_t full_builds_ = 0;
};

}  // namespace chorus::engine
