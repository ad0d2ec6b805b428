#include "bench_timing.hpp"

#include <time.h>
#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>
#include <random>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <oneapi/tbb/task_arena.h>
#include <spdlog/spdlog.h>

#include "bench_beads.hpp"
#include "chorus/error.hpp"
#include "extras.hpp"
#include "ipi_test_server.hpp"
#include "serve.hpp"
#include "socket_floor.hpp"
#include "wire_conversion.hpp"

namespace chorus::server {
namespace {

using Clock = std::chrono::steady_clock;

double elapsed_microseconds(Clock::time_point start) {
    return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

// The model serve is given in round trips: forwards every call and times evaluate() where serve
// runs it, so that each round trip can be set against the evaluation inside it.
class TimedModel final : public engine::Model {
public:
    explicit TimedModel(const engine::Model& model) : model_(model) {}

    std::string_view kind() const override { return model_.kind(); }
    std::string description() const override { return model_.description(); }
    std::span<const int> species() const override { return model_.species(); }
    double cutoff() const override { return model_.cutoff(); }
    std::size_t committee_size() const override { return model_.committee_size(); }
    // The wrapped model's evaluate() has applied its α already; the extras then report α as 1 (a
    // shorter number, the same JSON otherwise).
    double calibration_alpha() const override { return 1.0; }

    // The evaluations since the last call, µs (serve's threads write, the bench's thread reads).
    std::vector<double> take() const {
        const std::lock_guard lock(mutex_);
        return std::exchange(microseconds_, {});
    }

protected:
    void compute(const engine::System& system, const engine::ComputeRequest& request,
                 engine::CommitteeResult& result) const override {
        const auto start = Clock::now();
        model_.evaluate(system, request, result);
        const double wall = elapsed_microseconds(start);
        const std::lock_guard lock(mutex_);
        microseconds_.push_back(wall);
    }

private:
    const engine::Model& model_;
    mutable std::mutex mutex_;
    mutable std::vector<double> microseconds_;
};

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
    Timings timings;
    timings.name = std::move(name);
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
    auto server =
        over_tcp ? IpiTestServer::listen_tcp_loopback() : IpiTestServer::listen_unix(bench_socket_path());
    const TimedModel timed(model);
    BenchServeThread serve(timed, structure, {server->address()}, extras, threads);

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
    timed.take();

    Timings timings;
    timings.name = over_tcp ? "round trip, TCP" : "round trip, UNIX";
    protocol::Bytes bytes;
    protocol::encode(message, false, bytes);
    protocol::encode(protocol::GetForceMessage{}, bytes);
    timings.request_bytes = bytes.size();
    for (const auto& frame : frames) {
        message.structures[0].positions = positions_to_wire(frame);
        const auto start = Clock::now();
        const double cpu_start = process_cpu_microseconds();
        const protocol::ForceReadyMessage answer = server->compute(message);
        const double cpu = process_cpu_microseconds() - cpu_start;
        const double wall = elapsed_microseconds(start);
        timings.microseconds.push_back(wall);
        timings.cpu_microseconds.push_back(cpu);
        const std::vector<double> inside = timed.take();
        if (inside.size() != 1) {
            throw Error(fmt::format("serve evaluated {} times for one request", inside.size()));
        }
        timings.serve_evaluation_microseconds.push_back(inside.front());
        timings.overhead_microseconds.push_back(wall - inside.front());
        if (timings.answer_bytes == 0) {
            bytes.clear();
            protocol::encode(answer, false, bytes);
            timings.answer_bytes = bytes.size();
        }
        server->status();
    }
    server->send_exit();
    serve.join();
    return timings;
}

double median_socket_floor_us(const Timings& round_trips, bool over_tcp, int calls) {
    return percentile_of(
        time_socket_floor({.request_bytes = round_trips.request_bytes,
                           .answer_bytes = round_trips.answer_bytes,
                           .busy_us = percentile_of(round_trips.serve_evaluation_microseconds, 0.5),
                           .over_tcp = over_tcp,
                           .calls = std::min(calls, 1000)}),
        0.5);
}

}  // namespace chorus::server
