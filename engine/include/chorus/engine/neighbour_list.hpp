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
    std::size_t centres() const { return ends_.size(); }
    std::size_t pairs() const { return pair_count_; }
    std::span<const Neighbour> neighbours(std::size_t centre) const {
        return {neighbours_.data() + offsets_[centre], neighbours_.data() + ends_[centre]};
    }
    // Every centre once, in the order their neighbours are stored: bin by bin, so that centres
    // visited in this order are close in space and share their neighbours' data in cache. In a
    // large liquid the atom order says nothing about place; walking it costs a cache miss per pair.
    std::span<const int> centre_order() const { return binned_atoms_; }
    // How many builds searched the bins (the rest re-measured candidates); for tests and logs.
    std::size_t full_builds() const { return full_builds_; }

private:
    // The cell search for pairs within `range`: into neighbours_/offsets_ (keeping each pair's
    // bin slot and image in pair_candidates_ when `images`).
    void search(const System& system, double range, bool images);
    bool can_reuse(const System& system) const;
    void refilter(const System& system);

    double cutoff_;
    double skin_;
    // Centre i's neighbours are neighbours_[offsets_[i] .. ends_[i]), stored in centre_order();
    // after a re-measure each centre keeps the room of its candidates, so that centres can be
    // filled in parallel.
    std::vector<std::size_t> offsets_;
    std::vector<std::size_t> ends_;
    std::vector<std::size_t> slot_offsets_;  // search() output: where each slot's pairs begin, and the end
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
    // Verlet reuse (skin > 0): candidates within cutoff + skin as (slot, image). The slot is j's
    // place in the full build's bin order (binned_atoms_[slot] = j), so that neighbouring atoms,
    // close in space, are close in memory too: a re-measure gathers the positions into that order
    // once per build and then reads them locally, where reading them by atom index jumped across
    // the whole array once per candidate (in a large liquid, atom order says nothing about place).
    // r_ij = r_j + T − r_i in the coordinates given at the full build, T = (S + w_i) − w_j with
    // S = image_sums_[image] the bin steps' lattice shift and w the wrap shifts of that build,
    // summed in the order search() sums them: r_ij is what storing T would give, to the bit.
    struct Candidate {
        int slot;
        int image;
    };
    std::vector<std::size_t> candidate_offsets_;  // by slot, as slot_offsets_
    std::vector<Candidate> candidates_;
    std::vector<Candidate> pair_candidates_;  // search() output, per pair found
    std::vector<Eigen::Vector3d> image_sums_;
    Eigen::Matrix3Xd binned_shifts_;       // wrap shifts in bin order, from the full build
    Eigen::Matrix3Xd gathered_positions_;  // the current positions in bin order (re-measure scratch)
    Eigen::Matrix3Xd reference_positions_;
    Eigen::Matrix3d reference_cell_ = Eigen::Matrix3d::Zero();
    bool reference_periodic_ = false;
    bool candidates_valid_ = false;
    std::size_t full_builds_ = 0;
};

}  // namespace chorus::engine
