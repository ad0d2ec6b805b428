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
    // Paired round trips only: per call, the round trip minus the direct evaluation of the same
    // frame timed just before it (wall and CPU; that evaluation's CPU is its own thread's). A busy machine
    // slows both halves of a pair alike, where medians taken minutes apart differ by far more than the
    // protocol costs.
    std::vector<double> overhead_microseconds;
    std::vector<double> cpu_overhead_microseconds;

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

// One POSDATA+GETFORCE round trip per frame through a serve session on another thread. `paired`:
// each preceded by the direct evaluation serve performs for `extras`, twice, timing the second (fills
// the overhead lists).
Timings time_round_trips(const engine::Model& model, const BenchStructure& structure,
                         const std::vector<Eigen::Matrix3Xd>& frames, ExtrasMode extras, int threads,
                         bool over_tcp, bool paired = false);

}  // namespace chorus::server
