#pragma once
// The one boundary between the i-PI wire (atomic units, row-major h, atom-major arrays) and the
// engine (eV, Å, Eigen matrices with lattice vectors and atoms as columns). Every conversion a
// serve session makes goes through here, with the factors of chorus/engine/units.hpp only.
#include <array>
#include <span>
#include <vector>

#include <Eigen/Core>

#include "chorus/engine/committee_result.hpp"
#include "chorus/protocol/messages.hpp"

namespace chorus::server {

// --pbc: whether a structure is periodic, since the wire does not say.
enum class Periodicity {
    automatic,  // periodic unless the cell is all zeros (what ASE sends for molecules)
    yes,
    no,
};

bool is_periodic(const std::array<double, 9>& wire_cell, Periodicity periodicity);

// --- wire → engine ---
// h (9 values row-major, Bohr) → cell with the lattice vectors as columns (Å). Since h itself has
// the lattice vectors as columns, this is h read row-major, scaled.
Eigen::Matrix3d cell_from_wire(const std::array<double, 9>& wire_cell);
// 3·N atom-major Bohr → 3×N Å, reusing `out`'s storage.
void positions_from_wire(std::span<const double> wire_positions, Eigen::Matrix3Xd& out);

// --- engine → wire ---
double energy_to_wire(double energy_ev);
// 3×N eV/Å → 3·N atom-major Ha/Bohr, reusing `out`'s storage.
void forces_to_wire(const Eigen::Matrix3Xd& forces, std::vector<double>& out);
// 3×3 eV → 9 values row-major, Ha.
std::array<double, 9> virial_to_wire(const Eigen::Matrix3d& virial);
// Dipole e·Å → e·Bohr (x, y, z) for the extras (dipole_extras.hpp).
std::array<double, 3> dipole_to_wire(const Eigen::Vector3d& dipole);
// The mean prediction into the binary part of an answer (extras untouched).
void mean_to_wire(const engine::CommitteeResult& result, protocol::ForceResult& out);

// --- for the test server side (benchmark, tests): the reverse directions ---
std::array<double, 9> cell_to_wire(const Eigen::Matrix3d& cell);
std::vector<double> positions_to_wire(const Eigen::Matrix3Xd& positions);
double energy_from_wire(double energy_hartree);
Eigen::Matrix3Xd forces_from_wire(std::span<const double> wire_forces);
Eigen::Matrix3d virial_from_wire(const std::array<double, 9>& wire_virial);

}  // namespace chorus::server
