#pragma once
// A structure to evaluate, in chorus's internal units (Å). Immutable species, updatable
// coordinates: a connection keeps one System and updates it for every request.
#include <cstddef>
#include <vector>

#include <Eigen/Core>

namespace chorus::engine {

class System {
public:
    // positions: 3×N (one column per atom), Å. cell: lattice vectors as COLUMNS, Å (i-PI's h).
    // Throws InputError for mismatched sizes, non-finite values, or a singular periodic cell.
    System(std::vector<int> atomic_numbers, Eigen::Matrix3Xd positions, Eigen::Matrix3d cell, bool periodic);

    // New coordinates for the same atoms; validated as in the constructor.
    void update(const Eigen::Matrix3Xd& positions, const Eigen::Matrix3d& cell, bool periodic);

    std::size_t size() const { return atomic_numbers_.size(); }
    const std::vector<int>& atomic_numbers() const { return atomic_numbers_; }
    const Eigen::Matrix3Xd& positions() const { return positions_; }
    const Eigen::Matrix3d& cell() const { return cell_; }
    bool periodic() const { return periodic_; }
    // |det h|, Å³; only meaningful when periodic.
    double volume() const;

private:
    void validate() const;

    std::vector<int> atomic_numbers_;
    Eigen::Matrix3Xd positions_;
    Eigen::Matrix3d cell_;
    bool periodic_;
};

}  // namespace chorus::engine
