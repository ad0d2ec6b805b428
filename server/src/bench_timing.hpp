#pragma once
// Timing helpers shared by the benchmarks of `chorus bench`: a trajectory of slightly moved
// frames, the bare model evaluation in a TBB arena, and the POSDATA+GETFORCE round trip through a
// real serve session against the in-process i-PI stand-in.
#include <string>
#include <vector>

#include <Eigen/Core>

#include "bench_structure.hpp"
#include "chorus/engine/model.hpp"
#include "settings.hpp"

namespace chorus::server {

// Calls made before timing starts (caches, scratch sizes, first-touch pages).
inline constexpr int bench_warm_up_calls = 20;

struct Timings {
    std::string name;
    std::vector<double> microseconds;      // wall clock per call
    std::vector<double> cpu_microseconds;  // CPU time of the process per call: on a shared,
                                           // oversubscribed machine the steadier measure
    // Round trips only, per call: serve's own evaluation of the request (the model's evaluate(),
    // timed inside serve) and the round trip minus it: what the sockets, the messages and the
    // session cost, free of any difference between serve's caches and another thread's.
    std::vector<double> serve_evaluation_microseconds;
    std::vector<double> overhead_microseconds;
    std::size_t request_bytes = 0;  // POSDATA + GETFORCE, as the stand-in writes them
    std::size_t answer_bytes = 0;   // FORCEREADY with its extras

    // The value below which `fraction` of the calls fall (nearest rank).
    double percentile(double fraction) const;
    double cpu_percentile(double fraction) const;  // 0 when not measured
};

// CPU time of the whole process (every thread), µs.
double process_cpu_microseconds();

// Nearest-rank percentile of a non-empty list.
double percentile_of(const std::vector<double>& values, double fraction);

// `calls` copies of the structure's positions, each moved by up to ±0.01 Å per coordinate (as in
// a real trajectory; generated outside the timed region, the same for every row of a run).
std::vector<Eigen::Matrix3Xd> trajectory(const BenchStructure& structure, int calls);

// The bare evaluation, one call per frame, in an arena of `threads` threads (as the serve session's).
Timings time_model(const engine::Model& model, const BenchStructure& structure,
                   const std::vector<Eigen::Matrix3Xd>& frames, const engine::ComputeRequest& request,
                   std::string name, int threads, int warm_up_calls = bench_warm_up_calls);

// One POSDATA+GETFORCE round trip per frame through a serve session on another thread (fills the
// round-trip fields of Timings).
Timings time_round_trips(const engine::Model& model, const BenchStructure& structure,
                         const std::vector<Eigen::Matrix3Xd>& frames, ExtrasMode extras, int threads,
                         bool over_tcp);

// The socket floor under those round trips (socket_floor.hpp): the same bytes each way over the same
// transport, answered after serve's median evaluation time; the median over min(calls, 1000) calls of
// round trip − that time, µs.
double median_socket_floor_us(const Timings& round_trips, bool over_tcp, int calls);

}  // namespace chorus::server
