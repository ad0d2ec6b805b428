#include "bench_timing.hpp"

#include <time.h>
#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <oneapi/tbb/task_arena.h>
#include <spdlog/spdlog.h>

#include "chorus/error.hpp"
#include "ipi_test_server.hpp"
#include "serve.hpp"
#include "wire_conversion.hpp"

namespace chorus::server {
namespace {

using Clock = std::chrono::steady_clock;

double elapsed_microseconds(Clock::time_point start) {
    return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

// CPU time of the whole process (every thread), µs.
double process_cpu_microseconds() {
    timespec now{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) * 1e6 + static_cast<double>(now.tv_nsec) * 1e-3;
}

}  // namespace

double Timings::percentile(double fraction) const { return percentile_of(microseconds, fraction); }

double Timings::cpu_percentile(double fraction) const {
    return cpu_microseconds.empty() ? 0.0 : percentile_of(cpu_microseconds, fraction);
}

double percentile_of(const std::vector<double>& values, double fraction) {
    std::vector<double> sorted = values;
    std::sort(sorted.begin(), sorted.end());
    const auto rank = static_cast<std::size_t>(std::ceil(fraction * static_cast<double>(sorted.size()))) - 1;
    return sorted[std::min(rank, sorted.size() - 1)];
}

std::vector<Eigen::Matrix3Xd> trajectory(const BenchStructure& structure, int calls) {
    std::mt19937 generator(7);
    std::uniform_real_distribution<double> step(-0.01, 0.01);
    std::vector<Eigen::Matrix3Xd> frames(static_cast<std::size_t>(calls), structure.positions);
    for (auto& frame : frames) {
        frame = frame.unaryExpr([&](double x) { return x + step(generator); });
    }
    return frames;
}

Timings time_model(const engine::Model& model, const BenchStructure& structure,
                   const std::vector<Eigen::Matrix3Xd>& frames, const engine::ComputeRequest& request,
                   std::string name, int threads, int warm_up_calls) {
    tbb::task_arena arena(threads);
    Timings timings{std::move(name), {}};
    arena.execute([&] {
        engine::System system(structure.atomic_numbers, structure.positions, structure.cell,
                              structure.periodic);
        engine::CommitteeResult result;
        for (int i = 0; i < warm_up_calls; ++i) {
            model.evaluate(system, request, result);
        }
        for (const auto& frame : frames) {
            const auto start = Clock::now();
            const double cpu_start = process_cpu_microseconds();
            system.update(frame, structure.cell, structure.periodic);
            model.evaluate(system, request, result);
            timings.microseconds.push_back(elapsed_microseconds(start));
            timings.cpu_microseconds.push_back(process_cpu_microseconds() - cpu_start);
        }
    });
    return timings;
}

Timings time_round_trips(const engine::Model& model, const BenchStructure& structure,
                         const std::vector<Eigen::Matrix3Xd>& frames, ExtrasMode extras, int threads,
                         bool over_tcp) {
    auto server = over_tcp ? IpiTestServer::listen_tcp_loopback()
                           : IpiTestServer::listen_unix(fmt::format("/tmp/ipi_chorus-bench-{}", ::getpid()));

    ServeSettings settings;
    settings.addresses = {server->address()};
    settings.extras = extras;
    settings.threads = threads;
    // The wire carries no species: the whole per-atom list is the pattern, repeated once.
    settings.species_pattern = structure.atomic_numbers;
    settings.periodicity = structure.periodic ? Periodicity::yes : Periodicity::no;
    settings.retry_for_seconds = 10.0;
    settings.log_level = spdlog::level::warn;
    int serve_exit_code = -1;
    std::thread client([&] { serve_exit_code = run_serve(settings, model, false); });

    server->accept();
    server->status();
    server->send_init(0, "");
    server->status();

    protocol::PosDataMessage message;
    message.atoms = static_cast<std::int32_t>(structure.positions.cols());
    message.structures.resize(1);
    message.structures[0].cell = cell_to_wire(structure.cell);
    message.structures[0].positions = positions_to_wire(structure.positions);
    for (int i = 0; i < bench_warm_up_calls; ++i) {
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
        throw Error(
            fmt::format("the serve session of the benchmark ended with exit code {}", serve_exit_code));
    }
    return timings;
}

}  // namespace chorus::server
