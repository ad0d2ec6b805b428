#pragma once
// The ensemble temperature of an i-PI input file (`chorus reweight --input input.xml`), read with
// pugixml as i-PI reads it: simulation/system/ensemble/temperature of the first system, in the
// units of its `units` attribute (a unit with an optional SI prefix, as i-PI's unit_to_internal
// accepts: kelvin, millikelvin, atomic_unit, …). Without the attribute i-PI takes atomic units
// (Hartree), and so does chorus.
//
// k_B: chorus's CODATA 2018 value (units.hpp). i-PI converts kelvin with its truncated
// 3.1668152e-6 Ha/K, which differs from CODATA 2018 by about 1e-6 relative: a kT from `--input`
// here and in i-PI's tool differ by that much.
#include <string>

namespace chorus::server {

// k_B T in eV. Throws IoError (unreadable), InputError (not XML, no ensemble temperature, a
// non-positive value, unknown units), naming the file and what to fix.
double ipi_input_thermal_energy_ev(const std::string& path);

}  // namespace chorus::server
