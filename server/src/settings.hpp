#pragma once
// What the command line asks for, parsed and validated: plain values, no behaviour.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/common.h>

#include "address.hpp"
#include "baseline_option.hpp"
#include "extras.hpp"
#include "wire_conversion.hpp"

namespace chorus::server {

// `chorus serve`
struct ServeSettings {
    std::string model_path;
    std::vector<Address> addresses;
    int clients_per_address = 1;
    Periodicity periodicity = Periodicity::automatic;
    bool track_beads = false;
    std::vector<int> species_pattern;  // atomic numbers; empty when --species was not given
    ExtrasMode extras = ExtrasMode::full;
    bool persist = false;
    std::optional<double> retry_for_seconds;  // nullopt: retry forever
    int threads = 0;                          // evaluation threads; 0: all cores
    std::int32_t max_atoms = 10'000'000;
    spdlog::level::level_enum log_level = spdlog::level::info;
    std::optional<std::string> committee_log_path;  // --committee-log
    std::optional<double> temperature_kelvin;       // --temperature: recorded in the log's header
    BaselineOption baseline;                        // --baseline, --baseline-uncertainty
    std::optional<std::string> control_address;     // --control (README "Control API")
    std::optional<std::string> control_token;       // --control-token: required on every control request
    std::optional<std::string> capture_dir;         // --capture-dir: where `capture` writes
    std::optional<std::string> dipole_model_path;   // --dipole-model (dipole_extras.hpp)
    bool atomic_uncertainty = false;                // --atomic-uncertainty (extras.hpp)
    bool born_charges = false;                      // --born-charges (dipole_extras.hpp)
};

// `chorus bench roundtrip`
struct RoundtripBenchSettings {
    std::optional<std::string> model_path;  // nullopt: the built-in Lennard-Jones argon committee
    int atoms = 192;
    std::optional<std::string> structure_path;  // --structure: first frame of an extxyz file instead of argon
    int replicate = 1;                          // copies of the structure along each lattice vector
    int threads = 1;                            // evaluation threads
    int calls = 2000;
    bool unix_transport = true;
    bool tcp_transport = true;
    std::optional<std::string> json_path;
    ExtrasMode extras = ExtrasMode::full;
    spdlog::level::level_enum log_level = spdlog::level::warn;
    bool committee_table =
        false;                 // --committee-table: the committee cost table instead (bench_committee.hpp)
    long max_atoms = 100'000;  // --max-atoms: largest supercell of the committee table's size rows
    bool shuffle = false;      // --shuffle: atoms in a random order (bench_structure.hpp)
};

// `chorus version`
struct VersionCommand {};

}  // namespace chorus::server
