// Conversions at the i-PI boundary, against CODATA 2018 literals typed here independently of
// units.hpp, and round trips that must return the input to the last bit or two.
#include <catch2/catch.hpp>

#include "chorus/engine/units.hpp"

namespace units = chorus::units;

TEST_CASE("constants are CODATA 2018", "[units]") {
    CHECK(units::bohr_in_angstrom == 0.529177210903);
    CHECK(units::hartree_in_ev == 27.211386245988);
    CHECK(units::boltzmann_ev_per_kelvin == 8.617333262e-5);
    // Hartree/Bohr in eV/Å, CODATA 2018: 51.422067476325886...
    CHECK(units::hartree_per_bohr_in_ev_per_angstrom == Approx(51.42206747632590).epsilon(1e-14));
}

TEST_CASE("lengths, energies and forces round trip", "[units]") {
    for (const double x : {-3.7, 0.0, 1e-8, 1.0, 12.345678901234, 1e6}) {
        CHECK(units::angstrom_to_bohr(units::bohr_to_angstrom(x)) == Approx(x).epsilon(1e-15).margin(0.0));
        CHECK(units::ev_to_hartree(units::hartree_to_ev(x)) == Approx(x).epsilon(1e-15).margin(0.0));
        CHECK(units::hartree_per_bohr_to_ev_per_angstrom(units::ev_per_angstrom_to_hartree_per_bohr(x)) ==
              Approx(x).epsilon(1e-15).margin(0.0));
    }
    CHECK(units::bohr_to_angstrom(1.0) == 0.529177210903);
    CHECK(units::angstrom_to_bohr(1.0) == Approx(1.8897261246257702).epsilon(1e-15));
    CHECK(units::hartree_to_ev(1.0) == 27.211386245988);
    CHECK(units::ev_to_hartree(1.0) == Approx(0.036749322175655).epsilon(1e-13));
    CHECK(units::kelvin_to_ev(300.0) == Approx(0.025851999786).epsilon(1e-12));
}

TEST_CASE("a force converts as energy over length", "[units]") {
    const double force_au = 0.0123;
    const double expected = force_au * 27.211386245988 / 0.529177210903;
    CHECK(units::hartree_per_bohr_to_ev_per_angstrom(force_au) == Approx(expected).epsilon(1e-15));
}

TEST_CASE("a virial is an energy: it converts with the Hartree alone", "[units]") {
    // W = Σ r ⊗ f has units of length × energy/length: Bohr · Ha/Bohr = Ha.
    const double r_bohr = 3.2;
    const double f_au = -0.045;
    const double virial_ev =
        units::bohr_to_angstrom(r_bohr) * units::hartree_per_bohr_to_ev_per_angstrom(f_au);
    CHECK(virial_ev == Approx(units::hartree_to_ev(r_bohr * f_au)).epsilon(1e-15));
    CHECK(units::ev_to_hartree(virial_ev) == Approx(r_bohr * f_au).epsilon(1e-15));
}
