// What an answer costs besides the model: unit conversion, the extras JSON, and encoding
// FORCEREADY, for a 192-atom structure and a committee of 4 (the round-trip benchmark's case).
#include <benchmark/benchmark.h>

#include "chorus/protocol/codec.hpp"
#include "extras.hpp"
#include "wire_conversion.hpp"

namespace {

chorus::engine::CommitteeResult committee_result(int atoms, int members, chorus::server::ExtrasMode mode) {
    chorus::engine::CommitteeResult result;
    result.reset(static_cast<std::size_t>(members), static_cast<std::size_t>(atoms),
                 chorus::server::compute_request_for(mode));
    result.member_energies.setRandom();
    result.forces.setRandom();
    for (auto& forces : result.member_forces) {
        forces.setRandom();
    }
    for (auto& virial : result.member_virials) {
        virial.setRandom();
    }
    result.energy = result.member_energies.mean();
    return result;
}

void extras(benchmark::State& state, chorus::server::ExtrasMode mode) {
    const auto result = committee_result(static_cast<int>(state.range(0)), 4, mode);
    std::size_t bytes = 0;
    for (auto _ : state) {
        auto text = chorus::server::build_extras(result, mode, {1.0, 0});
        bytes = text.size();
        benchmark::DoNotOptimize(text);
    }
    state.counters["bytes"] = static_cast<double>(bytes);
}

void BM_extras_full(benchmark::State& state) { extras(state, chorus::server::ExtrasMode::full); }
void BM_extras_energies(benchmark::State& state) { extras(state, chorus::server::ExtrasMode::energies); }

void BM_mean_to_wire_and_encode(benchmark::State& state) {
    const auto result =
        committee_result(static_cast<int>(state.range(0)), 4, chorus::server::ExtrasMode::none);
    chorus::protocol::ForceReadyMessage message;
    message.atoms = static_cast<std::int32_t>(state.range(0));
    message.results.resize(1);
    chorus::protocol::Bytes bytes;
    for (auto _ : state) {
        chorus::server::mean_to_wire(result, message.results[0]);
        bytes.clear();
        chorus::protocol::encode(message, false, bytes);
        benchmark::DoNotOptimize(bytes.data());
    }
}

}  // namespace

BENCHMARK(BM_extras_full)->Arg(192)->Arg(1536);
BENCHMARK(BM_extras_energies)->Arg(192);
BENCHMARK(BM_mean_to_wire_and_encode)->Arg(192)->Arg(1536);
