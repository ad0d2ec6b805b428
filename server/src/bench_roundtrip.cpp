#include "bench_roundtrip.hpp"

#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <oneapi/tbb/task_arena.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "argon_box.hpp"
#include "bench_committee.hpp"
#include "bench_structure.hpp"
#include "bench_timing.hpp"
#include "chorus/error.hpp"
#include "chorus/models/lennard_jones.hpp"
#include "chorus/models/model_file.hpp"
#include "ipi_test_server.hpp"
#include "json_file.hpp"
#include "serve.hpp"
#include "wire_conversion.hpp"

namespace chorus::server {
namespace {

// Argon (ε = 0.0104 eV, σ = 3.40 Å, r_c = 2.5σ), four members a few per cent apart: the cost of
// a committee without the cost of a machine-learning model, so the protocol share shows.
std::unique_ptr<engine::Model> argon_committee() {
    const std::vector<models::LennardJonesParameters> members = {
        {0.0104, 3.40}, {0.0102, 3.41}, {0.0106, 3.39}, {0.0105, 3.405}};
    return std::make_unique<models::LennardJonesCommittee>(members, 8.5);
}

std::unique_ptr<engine::Model> load_bench_model(const RoundtripBenchSettings& settings) {
    return settings.model_path ? models::load_model(*settings.model_path) : argon_committee();
}

BenchStructure bench_structure(const RoundtripBenchSettings& settings) {
    const BenchStructure structure = settings.structure_path
                                         ? read_bench_structure(*settings.structure_path)
                                         : argon_structure(make_argon_box(settings.atoms));
    return supercell(structure, settings.replicate, settings.shuffle);
}

const char* name_of(ExtrasMode extras) {
    switch (extras) {
        case ExtrasMode::full:
            return "full";
        case ExtrasMode::energies:
            return "energies";
        case ExtrasMode::none:
            return "none";
    }
    return "none";
}

}  // namespace

int run_roundtrip_bench(const RoundtripBenchSettings& settings) {
    configure_logging(settings.log_level);
    if (settings.committee_table) {
        return run_committee_bench(settings);
    }
    if (settings.threads < 1) {
        throw ConfigError(
            fmt::format("--threads {} is not a thread count; give 1 or more", settings.threads));
    }
    const auto model = load_bench_model(settings);
    const ExtrasMode extras = settings.extras;
    const BenchStructure structure = bench_structure(settings);
    const auto frames = trajectory(structure, settings.calls);
    const int threads = settings.threads;

    // Both model-only rows are always timed: their difference is what the committee's member forces
    // and virials cost (--extras full) over the mean alone (none, energies).
    std::vector<Timings> results;
    results.push_back(time_model(*model, structure, frames, compute_request_for(ExtrasMode::none),
                                 "model, mean forces", threads));
    results.push_back(time_model(*model, structure, frames, compute_request_for(ExtrasMode::full),
                                 "model, member forces", threads));
    // Round trips: their overhead is the round trip minus serve's own evaluation inside it, set
    // beside the socket floor for the same bytes and compute time (socket_floor.hpp).
    std::vector<double> floors(results.size(), 0.0);
    for (const bool over_tcp : {false, true}) {
        if (over_tcp ? settings.tcp_transport : settings.unix_transport) {
            results.push_back(time_round_trips(*model, structure, frames, extras, threads, over_tcp));
            floors.push_back(median_socket_floor_us(results.back(), over_tcp, settings.calls));
        }
    }

    const auto atoms = static_cast<double>(structure.positions.cols());
    const std::string source =
        settings.structure_path ? *settings.structure_path : std::string("generated argon box");
    std::printf(
        "model: %s\nstructure: %s, replicated %d×%d×%d\n%.0f atoms, %d calls per row, %d evaluation "
        "thread%s, extras %s\nover µs: model rows, over the mean-only evaluation; round trips, median over "
        "calls of (round trip − serve's own evaluation of it); floor µs: the same bytes each way over a bare "
        "socket, answered after serve's median evaluation time\n",
        model->description().c_str(), source.c_str(), settings.replicate, settings.replicate,
        settings.replicate, atoms, settings.calls, threads, threads == 1 ? "" : "s", name_of(extras));
    std::printf("%-22s %12s %12s %16s %10s %10s\n", "what", "median µs", "p99 µs", "median µs/atom",
                "over µs", "floor µs");
    nlohmann::json report = {{"model", model->description()},   {"structure", source},
                             {"replicate", settings.replicate}, {"atoms", structure.positions.cols()},
                             {"calls", settings.calls},         {"threads", threads},
                             {"extras", name_of(extras)},       {"results", nlohmann::json::array()}};
    const double mean_only = results.front().percentile(0.5);
    for (std::size_t row = 0; row < results.size(); ++row) {
        const Timings& timings = results[row];
        const double median = timings.percentile(0.5);
        const double p99 = timings.percentile(0.99);
        const bool round_trip = !timings.overhead_microseconds.empty();
        const double over =
            round_trip ? percentile_of(timings.overhead_microseconds, 0.5) : median - mean_only;
        std::printf("%-22s %12.1f %12.1f %16.3f %10.1f %10s\n", timings.name.c_str(), median, p99,
                    median / atoms, over, round_trip ? fmt::format("{:.1f}", floors[row]).c_str() : "");
        nlohmann::json entry = {{"name", timings.name},
                                {"median_us", median},
                                {"p99_us", p99},
                                {"median_us_per_atom", median / atoms}};
        if (round_trip) {
            entry["overhead_over_serve_evaluation_us"] = over;
            entry["socket_floor_us"] = floors[row];
        } else {
            entry["overhead_over_mean_evaluation_us"] = over;
        }
        report["results"].push_back(entry);
    }
    if (settings.json_path) {
        write_json_file(*settings.json_path, report, 2, "the benchmark report");
    }
    return 0;
}

}  // namespace chorus::server
