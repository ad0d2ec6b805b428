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

#include "bench_beads.hpp"
#include "chorus/error.hpp"
#include "extras.hpp"
#include "ipi_test_server.hpp"
#include "serve.hpp"
#include "wire_conversion.hpp"

namespace chorus::server {
namespace {

using Clock = std::chrono::steady_clock;

double elapsed_microseconds(Clock::time_point start) {
    return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

// CPU time of the calling thread, µs.
double thread_cpu_microseconds() {
    timespec now{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) * 1e6 + static_cast<double>(now.tv_nsec) * 1e-3;
}

}  // namespace

double process_cpu_microseconds() {
    timespec now{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) * 1e6 + static_cast<double>(now.tv_nsec) * 1e-3;
}

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
    Timings timings{std::move(name), {}, {}, {}, {}};
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
                         bool over_tcp, bool paired) {
    auto server =
        over_tcp ? IpiTestServer::listen_tcp_loopback() : IpiTestServer::listen_unix(bench_socket_path());
    BenchServeThread serve(model, structure, {server->address()}, extras, threads);

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

    Timings timings{over_tcp ? "round trip, TCP" : "round trip, UNIX", {}, {}, {}, {}};
    tbb::task_arena arena(threads);
    engine::System system(structure.atomic_numbers, structure.positions, structure.cell, structure.periodic);
    engine::CommitteeResult result;
    const engine::ComputeRequest request = compute_request_for(extras);
    for (const auto& frame : frames) {
        double evaluation = 0.0;
        double evaluation_cpu = 0.0;
        if (paired) {
            // Untimed first: it warms the caches with the model's shared data (weights, tables) as the
            // timed one warms them for the round trip right after, so that both halves of a pair see
            // the same caches; and meanwhile serve's TBB worker stops spinning after its last answer.
            arena.execute([&] {
                system.update(frame, structure.cell, structure.periodic);
                model.evaluate(system, request, result);
            });
            const auto start = Clock::now();
            // This thread's time only: with one thread the evaluation runs here, and nothing else the
            // process does meanwhile belongs to it.
            const double cpu_start = threads == 1 ? thread_cpu_microseconds() : process_cpu_microseconds();
            arena.execute([&] {
                system.update(frame, structure.cell, structure.periodic);  // serve's neighbour list too
                model.evaluate(system, request, result);
            });
            evaluation_cpu =
                (threads == 1 ? thread_cpu_microseconds() : process_cpu_microseconds()) - cpu_start;
            evaluation = elapsed_microseconds(start);
        }
        message.structures[0].positions = positions_to_wire(frame);
        const auto start = Clock::now();
        const double cpu_start = process_cpu_microseconds();
        server->compute(message);
        const double cpu = process_cpu_microseconds() - cpu_start;
        const double wall = elapsed_microseconds(start);
        timings.microseconds.push_back(wall);
        timings.cpu_microseconds.push_back(cpu);
        if (paired) {
            timings.overhead_microseconds.push_back(wall - evaluation);
            timings.cpu_overhead_microseconds.push_back(cpu - evaluation_cpu);
        }
        server->status();
    }
    server->send_exit();
    serve.join();
    return timings;
}

}  // namespace chorus::server
