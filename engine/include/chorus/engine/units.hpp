#pragma once
// The only place in chorus with unit conversion factors (CODATA 2018, as in shared/science.md §7).
// Inside chorus everything is eV, Å, eV/Å and K; atomic units exist only on the i-PI wire and are
// converted at that boundary with the functions below.

namespace chorus::units {

inline constexpr double bohr_in_angstrom = 0.529177210903;
inline constexpr double hartree_in_ev = 27.211386245988;
inline constexpr double boltzmann_ev_per_kelvin = 8.617333262e-5;

inline constexpr double angstrom_in_bohr = 1.0 / bohr_in_angstrom;
inline constexpr double ev_in_hartree = 1.0 / hartree_in_ev;
inline constexpr double hartree_per_bohr_in_ev_per_angstrom = hartree_in_ev / bohr_in_angstrom;

constexpr double bohr_to_angstrom(double x) { return x * bohr_in_angstrom; }
constexpr double angstrom_to_bohr(double x) { return x / bohr_in_angstrom; }
constexpr double hartree_to_ev(double e) { return e * hartree_in_ev; }
constexpr double ev_to_hartree(double e) { return e / hartree_in_ev; }
constexpr double ev_per_angstrom_to_hartree_per_bohr(double f) {
    return f / hartree_per_bohr_in_ev_per_angstrom;
}
constexpr double hartree_per_bohr_to_ev_per_angstrom(double f) {
    return f * hartree_per_bohr_in_ev_per_angstrom;
}
constexpr double kelvin_to_ev(double t) { return t * boltzmann_ev_per_kelvin; }

}  // namespace chorus::units
