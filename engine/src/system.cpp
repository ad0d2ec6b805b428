#include "chorus/engine/system.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include <Eigen/LU>

#include "chorus/error.hpp"

namespace chorus::engine {
namespace {

constexpr const char* component_name(Eigen::Index component) {
    constexpr const char* names[] = {"x", "y", "z"};
    return names[component];
}

void check_sizes(std::size_t atoms, const Eigen::Matrix3Xd& positions) {
    if (static_cast<std::size_t>(positions.cols()) != atoms) {
        throw InputError("structure has " + std::to_string(atoms) + " atomic numbers but " +
                         std::to_string(positions.cols()) +
                         " positions; send one position per atom, in the same order");
    }
}

void check_positions(const Eigen::Matrix3Xd& positions) {
    for (Eigen::Index atom = 0; atom < positions.cols(); ++atom) {
        for (Eigen::Index component = 0; component < 3; ++component) {
            const double value = positions(component, atom);
            if (!std::isfinite(value)) {
                throw InputError("position of atom " + std::to_string(atom) + " has a non-finite " +
                                 component_name(component) + " component (" + std::to_string(value) +
                                 " Å); the simulation has probably blown up, check its time step and forces");
            }
        }
    }
}

void check_cell(const Eigen::Matrix3d& cell) {
    for (Eigen::Index vector = 0; vector < 3; ++vector) {
        for (Eigen::Index component = 0; component < 3; ++component) {
            if (!std::isfinite(cell(component, vector))) {
                throw InputError("periodic cell vector " + std::to_string(vector) + " has a non-finite " +
                                 component_name(component) + " component (" +
                                 std::to_string(cell(component, vector)) +
                                 " Å); use --pbc no for molecules, or send a valid cell");
            }
        }
    }
    // Scale-free test: the volume against the cube of the longest edge catches flattened angles
    // and vanishing widths alike, whatever the length unit; a valid cell is far above 1e-9
    // (even a 1 Å slab in 1000 Å of vacuum).
    const double det = cell.determinant();
    const double longest = std::max({cell.col(0).norm(), cell.col(1).norm(), cell.col(2).norm()});
    constexpr double relative_floor = 1e-9;
    if (!(std::abs(det) > relative_floor * longest * longest * longest)) {
        throw InputError("periodic cell is singular (det h = " + std::to_string(det) +
                         " Å³); use --pbc no for molecules, or send a valid cell");
    }
}

}  // namespace

System::System(std::vector<int> atomic_numbers, Eigen::Matrix3Xd positions, Eigen::Matrix3d cell,
               bool periodic)
    : atomic_numbers_(std::move(atomic_numbers)),
      positions_(std::move(positions)),
      cell_(cell),
      periodic_(periodic) {
    validate();
}

void System::update(const Eigen::Matrix3Xd& positions, const Eigen::Matrix3d& cell, bool periodic) {
    // Validate before assigning, so a rejected update leaves the previous structure intact.
    check_sizes(size(), positions);
    check_positions(positions);
    if (periodic) {
        check_cell(cell);
    }
    positions_ = positions;  // same size: Eigen copies without reallocating
    cell_ = cell;
    periodic_ = periodic;
}

double System::volume() const { return std::abs(cell_.determinant()); }

void System::validate() const {
    check_sizes(size(), positions_);
    check_positions(positions_);
    if (periodic_) {
        check_cell(cell_);
    }
}

}  // namespace chorus::engine
