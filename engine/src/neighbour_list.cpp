// Cell binning in fractional coordinates. Three ideas keep it O(N) for any cell:
//  * the cell is first reduced (shortest equivalent lattice vectors), so a skewed cell costs what
//    the equivalent near-orthogonal one costs; the lattice, hence every r_ij, is unchanged;
//  * bins are sized from the perpendicular widths of the cell (face distances), because a sphere
//    of radius r_c spans r_c / d_a in fractional coordinate a, whatever the edge lengths;
//  * a bin offset beyond the cell wraps to (bin, image shift), so thin cells visit exactly the
//    images within reach, and a centre meets its own images but never itself unshifted.
#include "chorus/engine/neighbour_list.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <Eigen/LU>

#include "chorus/error.hpp"

namespace chorus::engine {
namespace {

int floor_divide(int numerator, int denominator) {
    const int quotient = numerator / denominator;
    return (numerator % denominator != 0 && numerator < 0) ? quotient - 1 : quotient;
}

// One direction of a step from a centre's bin to a bin it searches.
struct BinStep {
    int bin = 0;    // inside the grid
    int image = 0;  // lattice shift along this direction
    Eigen::Vector3d translation = Eigen::Vector3d::Zero();
};

// How the structure is cut into bins along each of the three (fractional) directions.
struct BinGrid {
    Eigen::Matrix3d lattice = Eigen::Matrix3d::Zero();        // reduced cell, columns (periodic only)
    Eigen::Matrix3d to_fractional = Eigen::Matrix3d::Zero();  // (r − origin) ↦ fractional coordinates
    Eigen::Vector3d origin = Eigen::Vector3d::Zero();
    std::array<int, 3> bins{1, 1, 1};
    std::array<int, 3> reach{0, 0, 0};  // bin offsets searched on each side of a centre's bin
    bool periodic = false;

    std::size_t total_bins() const {
        return static_cast<std::size_t>(bins[0]) * static_cast<std::size_t>(bins[1]) *
               static_cast<std::size_t>(bins[2]);
    }
    // Bin index `unwrapped` along direction a, folded into the grid: false if it lies outside a
    // non-periodic grid, otherwise the bin, the image shift and its translation.
    bool step(int a, int unwrapped, BinStep& out) const {
        if (!periodic) {
            out.bin = unwrapped;
            return unwrapped >= 0 && unwrapped < bins[a];
        }
        out.image = floor_divide(unwrapped, bins[a]);
        out.bin = unwrapped - out.image * bins[a];
        out.translation = static_cast<double>(out.image) * lattice.col(a);
        return true;
    }

    // Lattice images that bin steps can reach along direction a: image_low[a] … + image_count[a] − 1.
    int image_low(int a) const { return periodic ? floor_divide(-reach[a], bins[a]) : 0; }
    int image_count(int a) const {
        return periodic ? floor_divide(bins[a] - 1 + reach[a], bins[a]) - image_low(a) + 1 : 1;
    }
    int image_index(const BinStep& x, const BinStep& y, const BinStep& z) const {
        return ((x.image - image_low(0)) * image_count(1) + (y.image - image_low(1))) * image_count(2) +
               (z.image - image_low(2));
    }

    std::size_t flat(const std::array<int, 3>& bin) const {
        return (static_cast<std::size_t>(bin[0]) * static_cast<std::size_t>(bins[1]) +
                static_cast<std::size_t>(bin[1])) *
                   static_cast<std::size_t>(bins[2]) +
               static_cast<std::size_t>(bin[2]);
    }
};

// Pairwise (Lagrange–Gauss) reduction: subtract integer multiples of one lattice vector from
// another while that shortens it. Unimodular steps, so the lattice and det h are unchanged; the
// result is close enough to orthogonal that binning cost no longer grows with the skew.
Eigen::Matrix3d reduce_lattice(Eigen::Matrix3d lattice) {
    constexpr int max_sweeps = 64;  // each sweep removes whole multiples at once; a few suffice
    for (int sweep = 0; sweep < max_sweeps; ++sweep) {
        bool changed = false;
        for (int a = 0; a < 3; ++a) {
            for (int b = 0; b < 3; ++b) {
                if (a == b) {
                    continue;
                }
                const double projection = lattice.col(a).dot(lattice.col(b)) / lattice.col(b).squaredNorm();
                // Strictly beyond 1/2, so ties cannot make the loop cycle.
                if (std::abs(projection) > 0.5 + 1e-9) {
                    lattice.col(a) -= std::round(projection) * lattice.col(b);
                    changed = true;
                }
            }
        }
        if (!changed) {
            break;
        }
    }
    return lattice;
}

// Bins of perpendicular width ≥ r_c / 2 where the structure is wide enough, fewer bins (down to
// one) where it is not, and never many more bins than atoms. Half-cutoff bins make the searched
// block (5 r_c / 2)³ instead of (3 r_c)³ — 0.58 times the candidates — and, in boxes only a few
// r_c wide, avoid whole-box bins that would be visited once per image.
void choose_bins(BinGrid& grid, const std::array<double, 3>& widths, double cutoff, std::size_t atoms) {
    constexpr double bins_per_cutoff = 2.0;
    std::array<double, 3> bins{};
    for (int a = 0; a < 3; ++a) {
        // The 1e-9 margin keeps a bin strictly wider than r_c / 2, so rounding in the fractional
        // coordinates cannot push a neighbour one bin beyond the reach.
        bins[a] = std::max(1.0, std::floor(widths[a] / cutoff * bins_per_cutoff * (1.0 - 1e-9)));
    }
    const double limit = 2.0 * std::max(1.0, static_cast<double>(atoms));
    const double total = bins[0] * bins[1] * bins[2];
    if (total > limit) {
        const double shrink = std::cbrt(limit / total);
        for (double& count : bins) {
            count = std::max(1.0, std::floor(count * shrink));
        }
    }
    for (int a = 0; a < 3; ++a) {
        grid.bins[a] = static_cast<int>(bins[a]);
        const int reach =
            widths[a] > 0.0 ? static_cast<int>(std::ceil(cutoff * bins[a] / widths[a] * (1.0 + 1e-9))) : 0;
        // Without periodicity there is nothing beyond the outermost bins.
        grid.reach[a] = grid.periodic ? reach : std::min(reach, grid.bins[a] - 1);
    }
}

BinGrid periodic_grid(const Eigen::Matrix3d& cell, double cutoff, std::size_t atoms) {
    BinGrid grid;
    grid.periodic = true;
    grid.lattice = reduce_lattice(cell);
    grid.to_fractional = grid.lattice.inverse();
    std::array<double, 3> face_distances{};
    for (int a = 0; a < 3; ++a) {
        // Row a of h⁻¹ is normal to the face spanned by the other two vectors, with length 1/d_a.
        face_distances[a] = 1.0 / grid.to_fractional.row(a).norm();
    }
    choose_bins(grid, face_distances, cutoff, atoms);
    return grid;
}

BinGrid bounding_box_grid(const Eigen::Matrix3Xd& positions, double cutoff) {
    BinGrid grid;
    grid.periodic = false;
    std::array<double, 3> extents{0.0, 0.0, 0.0};
    if (positions.cols() > 0) {
        grid.origin = positions.rowwise().minCoeff();
        const Eigen::Vector3d extent = positions.rowwise().maxCoeff() - grid.origin;
        for (int a = 0; a < 3; ++a) {
            extents[a] = extent[a];
            grid.to_fractional(a, a) = extent[a] > 0.0 ? 1.0 / extent[a] : 0.0;
        }
    }
    choose_bins(grid, extents, cutoff, static_cast<std::size_t>(positions.cols()));
    return grid;
}

// S for every image triple the search can step to, summed as the search sums its bin steps'
// translations (x, then y, then z), so that a candidate's T is rebuilt to the bit.
void fill_image_sums(const BinGrid& grid, std::vector<Eigen::Vector3d>& sums) {
    std::array<std::vector<Eigen::Vector3d>, 3> axis;
    for (int a = 0; a < 3; ++a) {
        axis[static_cast<std::size_t>(a)].resize(static_cast<std::size_t>(grid.image_count(a)));
        for (int k = 0; k < grid.image_count(a); ++k) {
            BinStep step{};
            grid.step(a, (grid.image_low(a) + k) * grid.bins[a], step);
            axis[static_cast<std::size_t>(a)][static_cast<std::size_t>(k)] = step.translation;
        }
    }
    sums.clear();
    for (const Eigen::Vector3d& x : axis[0]) {
        for (const Eigen::Vector3d& y : axis[1]) {
            for (const Eigen::Vector3d& z : axis[2]) {
                sums.push_back(x + y + z);
            }
        }
    }
}

[[noreturn]] void throw_overlap(std::size_t centre, int neighbour) {
    std::string message = "atoms ";
    message.append(std::to_string(centre)).append(" and ").append(std::to_string(neighbour));
    message.append(
        " are at the same position (counting periodic images); no interaction is defined at zero "
        "distance, check the structure");
    throw InputError(message);
}

// A cell far too small for its atoms (a cell in the wrong units, a misread CELL line) would
// otherwise ask for millions of pairs and gigabytes before anything else notices. The densest
// solids hold ~0.2 atoms/Å³, ~100 neighbours within 5 Å; 20 000 is beyond any real structure.
void check_density(const System& system, double range) {
    constexpr double most_neighbours = 20'000.0;
    constexpr double pi = 3.14159265358979323846;
    const double volume = system.volume();
    const double density = static_cast<double>(system.size()) / volume;
    const double expected = density * 4.0 / 3.0 * pi * range * range * range;
    if (expected > most_neighbours) {
        throw InputError("the periodic cell of volume " + std::to_string(volume) + " Å³ holds " +
                         std::to_string(system.size()) + " atoms (" + std::to_string(density) +
                         " atoms/Å³, about " + std::to_string(static_cast<long long>(expected)) +
                         " neighbours per atom within " + std::to_string(range) +
                         " Å): no real structure is that dense; check the cell and its units (i-PI "
                         "sends Bohr; an xyz CELL(abcABC) line needs all six numbers)");
    }
}

}  // namespace

NeighbourList::NeighbourList(double cutoff, double skin) : cutoff_(cutoff), skin_(skin) {
    if (!(cutoff > 0.0) || !std::isfinite(cutoff)) {
        throw ConfigError("neighbour list cutoff must be a positive finite distance in Å, got " +
                          std::to_string(cutoff));
    }
    if (!(skin >= 0.0) || !std::isfinite(skin)) {
        throw ConfigError("neighbour list skin must be a finite distance ≥ 0 in Å, got " +
                          std::to_string(skin));
    }
}

void NeighbourList::build(const System& system) {
    if (skin_ > 0.0 && can_reuse(system)) {
        refilter(system);
        return;
    }
    candidates_valid_ = false;
    ++full_builds_;
    if (skin_ == 0.0) {
        search(system, cutoff_, false);
        return;
    }
    search(system, cutoff_ + skin_, true);
    // What the search found is the candidate list; the neighbours are its pairs within the cutoff.
    candidate_offsets_.swap(slot_offsets_);
    candidates_.swap(pair_candidates_);
    binned_shifts_.resize(3, static_cast<Eigen::Index>(system.size()));
    for (std::size_t slot = 0; slot < system.size(); ++slot) {
        binned_shifts_.col(static_cast<Eigen::Index>(slot)) = wrap_shifts_.col(binned_atoms_[slot]);
    }
    reference_positions_ = system.positions();
    reference_cell_ = system.cell();
    reference_periodic_ = system.periodic();
    candidates_valid_ = true;
    refilter(system);
}

bool NeighbourList::can_reuse(const System& system) const {
    if (!candidates_valid_ || system.periodic() != reference_periodic_ ||
        system.positions().cols() != reference_positions_.cols() || system.cell() != reference_cell_) {
        return false;
    }
    const double limit = 0.25 * skin_ * skin_;  // (skin / 2)²
    return ((system.positions() - reference_positions_).colwise().squaredNorm().array() <= limit).all();
}

void NeighbourList::refilter(const System& system) {
    const Eigen::Matrix3Xd& positions = system.positions();
    const std::size_t atoms = system.size();
    const double cutoff_squared = cutoff_ * cutoff_;
    offsets_.resize(atoms);
    ends_.resize(atoms);
    neighbours_.resize(candidates_.size());
    gathered_positions_.resize(3, static_cast<Eigen::Index>(atoms));
    for (std::size_t slot = 0; slot < atoms; ++slot) {
        gathered_positions_.col(static_cast<Eigen::Index>(slot)) = positions.col(binned_atoms_[slot]);
    }
    // Centres in bin order too, so that consecutive centres read the same neighbouring slots; in
    // parallel: each centre writes only its own candidates' room.
    tbb::parallel_for(
        tbb::blocked_range<std::size_t>(0, atoms, 64), [&](const tbb::blocked_range<std::size_t>& range) {
            for (std::size_t centre_slot = range.begin(); centre_slot != range.end(); ++centre_slot) {
                const auto centre = static_cast<std::size_t>(binned_atoms_[centre_slot]);
                const Eigen::Vector3d r_i = gathered_positions_.col(static_cast<Eigen::Index>(centre_slot));
                const Eigen::Vector3d w_i = binned_shifts_.col(static_cast<Eigen::Index>(centre_slot));
                std::size_t out = candidate_offsets_[centre_slot];
                offsets_[centre] = out;
                for (std::size_t k = out; k < candidate_offsets_[centre_slot + 1]; ++k) {
                    const auto slot = static_cast<Eigen::Index>(candidates_[k].slot);
                    const int j = binned_atoms_[static_cast<std::size_t>(slot)];
                    const Eigen::Vector3d translation =
                        image_sums_[static_cast<std::size_t>(candidates_[k].image)] + w_i -
                        binned_shifts_.col(slot);
                    const Eigen::Vector3d vector = gathered_positions_.col(slot) + translation - r_i;
                    const double distance_squared = vector.squaredNorm();
                    if (distance_squared == 0.0) {
                        throw_overlap(centre, j);
                    }
                    if (distance_squared < cutoff_squared) {
                        neighbours_[out++] = Neighbour{j, vector, std::sqrt(distance_squared)};
                    }
                }
                ends_[centre] = out;
            }
        });
    pair_count_ = 0;
    for (std::size_t centre = 0; centre < atoms; ++centre) {
        pair_count_ += ends_[centre] - offsets_[centre];
    }
}

void NeighbourList::search(const System& system, double range, bool images) {
    const Eigen::Matrix3Xd& positions = system.positions();
    const std::size_t atoms = system.size();
    if (system.periodic()) {
        check_density(system, range);
    }
    const BinGrid grid =
        system.periodic() ? periodic_grid(system.cell(), range, atoms) : bounding_box_grid(positions, range);

    // Wrap into the reduced cell and bin. The wrapped position differs from the given one by a
    // lattice vector, so r_j + T − r_i is still what is reported.
    wrapped_positions_.resize(3, static_cast<Eigen::Index>(atoms));
    wrap_shifts_.setZero(3, static_cast<Eigen::Index>(atoms));
    atom_bins_.resize(atoms);
    bin_starts_.assign(grid.total_bins() + 1, 0);
    for (std::size_t atom = 0; atom < atoms; ++atom) {
        const auto column = static_cast<Eigen::Index>(atom);
        Eigen::Vector3d fractional = grid.to_fractional * (positions.col(column) - grid.origin);
        if (grid.periodic) {
            const Eigen::Vector3d image = fractional.array().floor();
            fractional -= image;
            wrap_shifts_.col(column) = grid.lattice * image;
            wrapped_positions_.col(column) = positions.col(column) - wrap_shifts_.col(column);
        } else {
            wrapped_positions_.col(column) = positions.col(column);
        }
        std::array<int, 3>& bin = atom_bins_[atom];
        for (int a = 0; a < 3; ++a) {
            const double scaled = std::floor(fractional[a] * grid.bins[a]);
            bin[a] = std::clamp(static_cast<int>(scaled), 0, grid.bins[a] - 1);
        }
        ++bin_starts_[grid.flat(bin) + 1];
    }
    // Counting sort: each bin's atoms (ascending) and their positions become contiguous, so the
    // search below streams through memory instead of chasing links.
    for (std::size_t flat = 0; flat < grid.total_bins(); ++flat) {
        bin_starts_[flat + 1] += bin_starts_[flat];
    }
    bin_fill_.assign(bin_starts_.begin(), bin_starts_.end() - 1);
    binned_atoms_.resize(atoms);
    binned_positions_.resize(3, static_cast<Eigen::Index>(atoms));
    for (std::size_t atom = 0; atom < atoms; ++atom) {
        const int slot = bin_fill_[grid.flat(atom_bins_[atom])]++;
        binned_atoms_[static_cast<std::size_t>(slot)] = static_cast<int>(atom);
        binned_positions_.col(slot) = wrapped_positions_.col(static_cast<Eigen::Index>(atom));
    }

    const double cutoff_squared = range * range;
    offsets_.resize(atoms);
    ends_.resize(atoms);
    slot_offsets_.resize(atoms + 1);
    slot_offsets_[0] = 0;
    neighbours_.clear();
    pair_candidates_.clear();
    if (images) {
        fill_image_sums(grid, image_sums_);
    }
    // Centres in bin order (centre_order()), so that their pairs are stored, and later visited,
    // in an order that follows space.
    for (std::size_t centre_slot = 0; centre_slot < atoms; ++centre_slot) {
        const auto centre = static_cast<std::size_t>(binned_atoms_[centre_slot]);
        const auto centre_column = static_cast<Eigen::Index>(centre);
        const Eigen::Vector3d r_i = wrapped_positions_.col(centre_column);
        const std::array<int, 3>& home = atom_bins_[centre];
        // Offsets along a become (bin, image shift) pairs; each loop level fixes one direction, so
        // the innermost loop only adds the last translation.
        for (int dx = -grid.reach[0]; dx <= grid.reach[0]; ++dx) {
            BinStep x{};
            if (!grid.step(0, home[0] + dx, x)) {
                continue;
            }
            for (int dy = -grid.reach[1]; dy <= grid.reach[1]; ++dy) {
                BinStep y{};
                if (!grid.step(1, home[1] + dy, y)) {
                    continue;
                }
                for (int dz = -grid.reach[2]; dz <= grid.reach[2]; ++dz) {
                    BinStep z{};
                    if (!grid.step(2, home[2] + dz, z)) {
                        continue;
                    }
                    const bool unshifted = x.image == 0 && y.image == 0 && z.image == 0;
                    const int image = grid.image_index(x, y, z);
                    const Eigen::Vector3d base = x.translation + y.translation + z.translation - r_i;
                    const std::size_t flat =
                        (static_cast<std::size_t>(x.bin) * static_cast<std::size_t>(grid.bins[1]) +
                         static_cast<std::size_t>(y.bin)) *
                            static_cast<std::size_t>(grid.bins[2]) +
                        static_cast<std::size_t>(z.bin);
                    for (int slot = bin_starts_[flat]; slot < bin_starts_[flat + 1]; ++slot) {
                        const int j = binned_atoms_[static_cast<std::size_t>(slot)];
                        if (unshifted && static_cast<std::size_t>(j) == centre) {
                            continue;
                        }
                        const Eigen::Vector3d vector = binned_positions_.col(slot) + base;
                        const double distance_squared = vector.squaredNorm();
                        if (distance_squared == 0.0) {
                            throw_overlap(centre, j);
                        }
                        if (distance_squared < cutoff_squared) {
                            neighbours_.push_back(Neighbour{j, vector, std::sqrt(distance_squared)});
                            if (images) {
                                pair_candidates_.push_back(Candidate{slot, image});
                            }
                        }
                    }
                }
            }
        }
        offsets_[centre] = slot_offsets_[centre_slot];
        ends_[centre] = neighbours_.size();
        slot_offsets_[centre_slot + 1] = neighbours_.size();
    }
    pair_count_ = neighbours_.size();
}

}  // namespace chorus::engine
