#include "wire_conversion.hpp"

#include <algorithm>

#include "chorus/engine/units.hpp"

namespace chorus::server {

bool is_periodic(const std::array<double, 9>& wire_cell, Periodicity periodicity) {
    switch (periodicity) {
        case Periodicity::yes:
            return true;
        case Periodicity::no:
            return false;
        case Periodicity::automatic:
            break;
    }
    return std::any_of(wire_cell.begin(), wire_cell.end(), [](double value) { return value != 0.0; });
}

Eigen::Matrix3d cell_from_wire(const std::array<double, 9>& wire_cell) {
    Eigen::Matrix3d cell;
    for (int row = 0; row < 3; ++row) {
        for (int column = 0; column < 3; ++column) {
            cell(row, column) =
                units::bohr_to_angstrom(wire_cell[static_cast<std::size_t>(3 * row + column)]);
        }
    }
    return cell;
}

void positions_from_wire(std::span<const double> wire_positions, Eigen::Matrix3Xd& out) {
    const auto atoms = static_cast<Eigen::Index>(wire_positions.size() / 3);
    out.resize(3, atoms);
    // Column-major 3×N storage is exactly the wire's atom-major order.
    std::transform(wire_positions.begin(), wire_positions.end(), out.data(),
                   [](double x) { return units::bohr_to_angstrom(x); });
}

double energy_to_wire(double energy_ev) { return units::ev_to_hartree(energy_ev); }

std::array<double, 3> dipole_to_wire(const Eigen::Vector3d& dipole) {
    // A dipole is charge × length: only the length changes unit (e stays e).
    return {units::angstrom_to_bohr(dipole.x()), units::angstrom_to_bohr(dipole.y()),
            units::angstrom_to_bohr(dipole.z())};
}

void forces_to_wire(const Eigen::Matrix3Xd& forces, std::vector<double>& out) {
    out.resize(static_cast<std::size_t>(forces.size()));
    std::transform(forces.data(), forces.data() + forces.size(), out.begin(),
                   [](double f) { return units::ev_per_angstrom_to_hartree_per_bohr(f); });
}

std::array<double, 9> virial_to_wire(const Eigen::Matrix3d& virial) {
    std::array<double, 9> out{};
    for (int row = 0; row < 3; ++row) {
        for (int column = 0; column < 3; ++column) {
            out[static_cast<std::size_t>(3 * row + column)] = units::ev_to_hartree(virial(row, column));
        }
    }
    return out;
}

void mean_to_wire(const engine::CommitteeResult& result, protocol::ForceResult& out) {
    out.energy = energy_to_wire(result.energy);
    forces_to_wire(result.forces, out.forces);
    out.virial = virial_to_wire(result.virial);
}

std::array<double, 9> cell_to_wire(const Eigen::Matrix3d& cell) {
    std::array<double, 9> out{};
    for (int row = 0; row < 3; ++row) {
        for (int column = 0; column < 3; ++column) {
            out[static_cast<std::size_t>(3 * row + column)] = units::angstrom_to_bohr(cell(row, column));
        }
    }
    return out;
}

std::vector<double> positions_to_wire(const Eigen::Matrix3Xd& positions) {
    std::vector<double> out(static_cast<std::size_t>(positions.size()));
    std::transform(positions.data(), positions.data() + positions.size(), out.begin(),
                   [](double x) { return units::angstrom_to_bohr(x); });
    return out;
}

double energy_from_wire(double energy_hartree) { return units::hartree_to_ev(energy_hartree); }

Eigen::Matrix3Xd forces_from_wire(std::span<const double> wire_forces) {
    Eigen::Matrix3Xd forces(3, static_cast<Eigen::Index>(wire_forces.size() / 3));
    std::transform(wire_forces.begin(), wire_forces.end(), forces.data(),
                   [](double f) { return units::hartree_per_bohr_to_ev_per_angstrom(f); });
    return forces;
}

Eigen::Matrix3d virial_from_wire(const std::array<double, 9>& wire_virial) {
    Eigen::Matrix3d virial;
    for (int row = 0; row < 3; ++row) {
        for (int column = 0; column < 3; ++column) {
            virial(row, column) =
                units::hartree_to_ev(wire_virial[static_cast<std::size_t>(3 * row + column)]);
        }
    }
    return virial;
}

}  // namespace chorus::server
