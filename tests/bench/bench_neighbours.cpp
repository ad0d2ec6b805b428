// The neighbour list on its own, from 192 to 98 304 atoms at the density of liquid water
// (0.1 atoms/Å³, r_c 5 Å, skin 0.6 Å as the feature workspace uses): the per-atom cost of a
// re-measure (the list of every MD step) and of a full build (every few tens of steps) should not
// grow with the system; where it does, it is memory traffic (issue 8, target 4).
#include <cmath>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "chorus/engine/neighbour_list.hpp"
#include "chorus/engine/system.hpp"

namespace {

constexpr double density = 0.1;  // atoms per Å³, liquid water
constexpr double cutoff = 5.0;
constexpr double skin = 0.6;

// Two frames of one random box: the second moves every atom by less than skin / 2, so building the
// list for them in turn re-measures the candidates each time. Positions partly outside the cell,
// as i-PI sends them.
std::vector<chorus::engine::System> frames(long atoms) {
    const double edge = std::cbrt(static_cast<double>(atoms) / density);
    std::mt19937 rng(17);
    std::uniform_real_distribution<double> fractional(-0.2, 1.2);
    std::uniform_real_distribution<double> move(-0.1, 0.1);
    Eigen::Matrix3Xd first(3, atoms);
    for (long i = 0; i < atoms; ++i) {
        for (int a = 0; a < 3; ++a) {
            first(a, i) = edge * fractional(rng);
        }
    }
    Eigen::Matrix3Xd second = first;
    for (long i = 0; i < atoms; ++i) {
        for (int a = 0; a < 3; ++a) {
            second(a, i) += move(rng);
        }
    }
    const Eigen::Matrix3d cell = Eigen::Matrix3d::Identity() * edge;
    const std::vector<int> species(static_cast<std::size_t>(atoms), 8);
    return {chorus::engine::System(species, first, cell, true),
            chorus::engine::System(species, second, cell, true)};
}

void BM_neighbour_remeasure(benchmark::State& state) {
    const auto systems = frames(state.range(0));
    chorus::engine::NeighbourList list(cutoff, skin);
    list.build(systems[0]);
    std::size_t k = 0;
    for (auto _ : state) {
        list.build(systems[++k % 2]);
        benchmark::DoNotOptimize(list.pairs());
    }
    if (list.full_builds() != 1) {
        state.SkipWithError("the list searched again; the frames moved too far for the skin");
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));  // items: atoms
    state.counters["pairs/atom"] = static_cast<double>(list.pairs()) / static_cast<double>(state.range(0));
}

void BM_neighbour_full_build(benchmark::State& state) {
    const auto systems = frames(state.range(0));
    for (auto _ : state) {
        chorus::engine::NeighbourList list(cutoff, skin);
        list.build(systems[0]);
        benchmark::DoNotOptimize(list.pairs());
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
}

}  // namespace

BENCHMARK(BM_neighbour_remeasure)->RangeMultiplier(8)->Range(192, 98304)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_neighbour_full_build)->RangeMultiplier(8)->Range(192, 98304)->Unit(benchmark::kMicrosecond);
