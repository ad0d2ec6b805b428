#include "bench_roundtrip.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <thread>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <oneapi/tbb/task_arena.h>
#include <spdlog/spdlog.h>

#include "argon_box.hpp"
#include "chorus/error.hpp"
#include "chorus/models/lennard_jones.hpp"
#include "chorus/models/model_file.hpp"
#include "ipi_test_server.hpp"
#include "serve.hpp"
#include "wire_conversion.hpp"

namespace chorus::server {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int warm_up_calls = 20;

struct Timings {
    std::string name;
    std::vector<double> microseconds;

    double percentile(double fraction) const {
        std::vector<double> sorted = microseconds;
        std::sort(sorted.begin(), sorted.end());
        const auto rank = static_cast<std::size_t>(std::ceil(fraction * static_cast<double>(sorted.size()))) - 1;
        return sorted[std::min(rank, sorted.size() - 1)];
    }
};

double elapsed_microseconds(Clock::time_point start) {
    return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

// Every call gets slightly different coordinates, as in a real trajectory, generated outside the
// timed region.
std::vector<Eigen::Matrix3Xd> trajectory(const ArgonBox& box, int calls) {
    std::mt19937 generator(7);
    std::uniform_real_distribution<double> step(-0.01, 0.01);
    std::vector<Eigen::Matrix3Xd> frames(static_cast<std::size_t>(calls), box.positions);
    for (auto& frame : frames) {
        frame = frame.unaryExpr([&](double x) { return x + step(generator); });
    }
    return frames;
}

Timings time_model(const engine::Model& model, const ArgonBox& box, const std::vector<Eigen::Matrix3Xd>& frames,
                   ExtrasMode extras) {
    // One thread, like the serve session the round trips go through.
    tbb::task_arena arena(1);
    Timings timings{"model only", {}};
    arena.execute([&] {
        engine::System system(std::vector<int>(static_cast<std::size_t>(box.positions.cols()), 0), box.positions,
                              box.cell, true);
        engine::CommitteeResult result;
        const auto request = compute_request_for(extras);
        for (int i = 0; i < warm_up_calls; ++i) {
            model.evaluate(system, request, result);
        }
        for (const auto& frame : frames) {
            const auto start = Clock::now();
            system.update(frame, box.cell, true);
            model.evaluate(system, request, result);
            timings.microseconds.push_back(elapsed_microseconds(start));
        }
    });
    return timings;
}

Timings time_round_trips(const engine::Model& model, const ArgonBox& box,
                         const std::vector<Eigen::Matrix3Xd>& frames, ExtrasMode extras, bool over_tcp) {
    auto server = over_tcp ? IpiTestServer::listen_tcp_loopback()
                           : IpiTestServer::listen_unix(fmt::format("/tmp/ipi_chorus-bench-{}", ::getpid()));

    ServeSettings settings;
    settings.addresses = {server->address()};
    settings.extras = extras;
    settings.threads = 1;
    settings.retry_for_seconds = 10.0;
    settings.log_level = spdlog::level::warn;
    int serve_exit_code = -1;
    std::thread client([&] { serve_exit_code = run_serve(settings, model, false); });

    server->accept();
    server->status();
    server->send_init(0, "");
    server->status();

    protocol::PosDataMessage message;
    message.atoms = static_cast<std::int32_t>(box.positions.cols());
    message.structures.resize(1);
    message.structures[0].cell = cell_to_wire(box.cell);
    message.structures[0].positions = positions_to_wire(box.positions);
    for (int i = 0; i < warm_up_calls; ++i) {
        server->compute(message);
        server->status();  // i-PI probes after every answer
    }

    Timings timings{over_tcp ? "round trip, TCP" : "round trip, UNIX", {}};
    for (const auto& frame : frames) {
        message.structures[0].positions = positions_to_wire(frame);
        const auto start = Clock::now();
        server->compute(message);
        timings.microseconds.push_back(elapsed_microseconds(start));
        server->status();
    }
    server->send_exit();
    client.join();
    if (serve_exit_code != 0) {
        throw Error(fmt::format("the serve session of the benchmark ended with exit code {}", serve_exit_code));
    }
    return timings;
}

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

}  // namespace

int run_roundtrip_bench(const RoundtripBenchSettings& settings) {
    configure_logging(settings.log_level);
    const auto model = load_bench_model(settings);
    const ExtrasMode extras = settings.extras;
    const ArgonBox box = make_argon_box(settings.atoms);
    const auto frames = trajectory(box, settings.calls);

    std::vector<Timings> results;
    results.push_back(time_model(*model, box, frames, extras));
    if (settings.unix_transport) {
        results.push_back(time_round_trips(*model, box, frames, extras, false));
    }
    if (settings.tcp_transport) {
        results.push_back(time_round_trips(*model, box, frames, extras, true));
    }

    const double atoms = settings.atoms;
    const char* extras_name = extras == ExtrasMode::full ? "full" : extras == ExtrasMode::energies ? "energies" : "none";
    std::printf("model: %s\n%d atoms, %d calls per row, one evaluation thread, extras %s\n",
                model->description().c_str(), settings.atoms, settings.calls, extras_name);
    std::printf("%-18s %12s %12s %16s\n", "what", "median µs", "p99 µs", "median µs/atom");
    nlohmann::json report = {{"model", model->description()},
                             {"atoms", settings.atoms},
                             {"calls", settings.calls},
                             {"threads", 1},
                             {"extras", extras_name},
                             {"results", nlohmann::json::array()}};
    const double baseline = results.front().percentile(0.5);
    for (const auto& timings : results) {
        const double median = timings.percentile(0.5);
        const double p99 = timings.percentile(0.99);
        std::printf("%-18s %12.1f %12.1f %16.3f\n", timings.name.c_str(), median, p99, median / atoms);
        report["results"].push_back({{"name", timings.name},
                                     {"median_us", median},
                                     {"p99_us", p99},
                                     {"median_us_per_atom", median / atoms},
                                     {"overhead_over_model_us", median - baseline}});
    }
    if (settings.json_path) {
        std::ofstream file(*settings.json_path);
        if (!file) {
            throw IoError(fmt::format("cannot write the benchmark report to {}", *settings.json_path));
        }
        file << report.dump(2) << '\n';
    }
    return 0;
}

}  // namespace chorus::server
