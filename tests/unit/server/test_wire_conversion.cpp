#include <catch2/catch.hpp>

#include <array>
#include <vector>

#include "chorus/engine/units.hpp"
#include "wire_conversion.hpp"

using namespace chorus::server;
namespace units = chorus::units;

TEST_CASE("h on the wire has the lattice vectors as columns; so does the engine cell", "[server][wire]") {
    // ASE-style row vectors a, b, c (Å), deliberately not upper triangular.
    const Eigen::Vector3d a(10.0, 0.5, -0.25), b(1.0, 11.0, 0.75), c(-2.0, 0.3, 12.0);
    // i-PI's h = [a b c] (columns), sent row-major: h00 h01 h02 h10 … in Bohr.
    std::array<double, 9> wire{};
    for (int row = 0; row < 3; ++row) {
        wire[3 * row + 0] = a[row] / units::bohr_in_angstrom;
        wire[3 * row + 1] = b[row] / units::bohr_in_angstrom;
        wire[3 * row + 2] = c[row] / units::bohr_in_angstrom;
    }
    const Eigen::Matrix3d cell = cell_from_wire(wire);
    CHECK((cell.col(0) - a).norm() < 1e-12);
    CHECK((cell.col(1) - b).norm() < 1e-12);
    CHECK((cell.col(2) - c).norm() < 1e-12);

    const auto back = cell_to_wire(cell);
    for (std::size_t i = 0; i < 9; ++i) {
        CHECK(back[i] == Approx(wire[i]).epsilon(1e-15));
    }
}

TEST_CASE("positions: atom-major Bohr on the wire, 3×N Å in the engine", "[server][wire]") {
    const std::vector<double> wire{1.0, 2.0, 3.0, -4.0, 5.0, 6.5};
    Eigen::Matrix3Xd positions;
    positions_from_wire(wire, positions);
    REQUIRE(positions.cols() == 2);
    CHECK(positions(0, 0) == Approx(0.529177210903));
    CHECK(positions(2, 0) == Approx(3.0 * 0.529177210903));
    CHECK(positions(0, 1) == Approx(-4.0 * 0.529177210903));
    CHECK(positions(2, 1) == Approx(6.5 * 0.529177210903));
    const auto back = positions_to_wire(positions);
    REQUIRE(back.size() == wire.size());
    for (std::size_t i = 0; i < wire.size(); ++i) {
        CHECK(back[i] == Approx(wire[i]).epsilon(1e-15));
    }
}

TEST_CASE("energy, forces and virial go out in Hartree, Hartree/Bohr and Hartree, row-major",
          "[server][wire]") {
    CHECK(energy_to_wire(27.211386245988) == Approx(1.0).epsilon(1e-15));
    CHECK(energy_from_wire(energy_to_wire(-3.25)) == Approx(-3.25).epsilon(1e-15));

    // 1 Ha/Bohr = 27.211386245988 / 0.529177210903 eV/Å
    Eigen::Matrix3Xd forces(3, 2);
    forces << (27.211386245988 / 0.529177210903), 0.0, 0.0, -1.0, 2.0, 3.0;
    std::vector<double> wire_forces;
    forces_to_wire(forces, wire_forces);
    REQUIRE(wire_forces.size() == 6);
    CHECK(wire_forces[0] == Approx(1.0).epsilon(1e-14));
    // atom-major: atom 1's x is the 4th value; forces(0, 1) = 0
    CHECK(wire_forces[1] == 0.0);
    CHECK(wire_forces[2] == Approx(2.0 / (27.211386245988 / 0.529177210903)).epsilon(1e-14));
    CHECK(wire_forces[3] == 0.0);
    CHECK(wire_forces[4] == Approx(-1.0 / (27.211386245988 / 0.529177210903)).epsilon(1e-14));
    CHECK(wire_forces[5] == Approx(3.0 / (27.211386245988 / 0.529177210903)).epsilon(1e-14));
    const Eigen::Matrix3Xd back = forces_from_wire(wire_forces);
    CHECK((back - forces).norm() < 1e-12);

    Eigen::Matrix3d virial;
    virial << 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0;
    const auto wire_virial = virial_to_wire(virial);
    CHECK(wire_virial[1] == Approx(2.0 / 27.211386245988).epsilon(1e-15));  // W_xy
    CHECK(wire_virial[3] == Approx(4.0 / 27.211386245988).epsilon(1e-15));  // W_yx
    CHECK((virial_from_wire(wire_virial) - virial).norm() < 1e-13);
}

TEST_CASE("the mean of a committee result is what goes into the binary answer", "[server][wire]") {
    chorus::engine::CommitteeResult result;
    result.energy = 2.0 * 27.211386245988;
    result.forces = Eigen::Matrix3Xd::Constant(3, 4, (27.211386245988 / 0.529177210903));
    result.virial = Eigen::Matrix3d::Identity() * 27.211386245988;
    chorus::protocol::ForceResult out;
    out.extras = "kept";
    mean_to_wire(result, out);
    CHECK(out.energy == Approx(2.0).epsilon(1e-15));
    REQUIRE(out.forces.size() == 12);
    for (const double f : out.forces) {
        CHECK(f == Approx(1.0).epsilon(1e-14));
    }
    CHECK(out.virial[0] == Approx(1.0).epsilon(1e-15));
    CHECK(out.virial[1] == 0.0);
    CHECK(out.extras == "kept");
}

TEST_CASE("--pbc: auto means periodic unless the cell is all zeros", "[server][wire]") {
    const std::array<double, 9> zero{};
    std::array<double, 9> cell{};
    cell[0] = cell[4] = cell[8] = 20.0;
    std::array<double, 9> one_entry{};
    one_entry[5] = 1e-300;
    CHECK(is_periodic(cell, Periodicity::automatic));
    CHECK_FALSE(is_periodic(zero, Periodicity::automatic));
    CHECK(is_periodic(one_entry, Periodicity::automatic));
    CHECK(is_periodic(zero, Periodicity::yes));
    CHECK_FALSE(is_periodic(cell, Periodicity::no));
}
