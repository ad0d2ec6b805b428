// The round-trip timings of `chorus bench roundtrip`: each round trip is set against serve's own
// evaluation of that request, and the socket floor beside it really waits the compute time and
// moves the given bytes.
#include <catch2/catch.hpp>

#include <vector>

#include "argon_box.hpp"
#include "bench_structure.hpp"
#include "bench_timing.hpp"
#include "chorus/models/lennard_jones.hpp"
#include "socket_floor.hpp"

using chorus::server::argon_structure;
using chorus::server::BenchStructure;
using chorus::server::ExtrasMode;
using chorus::server::make_argon_box;

TEST_CASE("round trips are set against serve's own evaluation of each request", "[bench]") {
    const chorus::models::LennardJonesCommittee model({{0.0104, 3.40}, {0.0102, 3.41}}, 7.0);
    const BenchStructure structure = argon_structure(make_argon_box(108));
    const auto frames = chorus::server::trajectory(structure, 6);
    const bool over_tcp = GENERATE(false, true);

    const auto timings =
        chorus::server::time_round_trips(model, structure, frames, ExtrasMode::energies, 1, over_tcp);
    REQUIRE(timings.microseconds.size() == frames.size());
    REQUIRE(timings.serve_evaluation_microseconds.size() == frames.size());
    REQUIRE(timings.overhead_microseconds.size() == frames.size());
    for (std::size_t i = 0; i < frames.size(); ++i) {
        const double evaluation = timings.serve_evaluation_microseconds[i];
        CHECK(evaluation > 0.0);
        CHECK(evaluation < timings.microseconds[i]);
        CHECK(timings.overhead_microseconds[i] == Approx(timings.microseconds[i] - evaluation));
    }
    // POSDATA (header, cell, inverse cell, atom count, positions) and GETFORCE, as i-PI writes them.
    const std::size_t atoms = 108;
    CHECK(timings.request_bytes == 12 + 72 + 72 + 4 + 24 * atoms + 12);
    // FORCEREADY: header, energy, atom count, forces, virial, extras length, then the extras JSON.
    CHECK(timings.answer_bytes > 12 + 8 + 4 + 24 * atoms + 72 + 4 + 20);
}

TEST_CASE("the socket floor waits the compute time and moves every byte", "[bench]") {
    const bool over_tcp = GENERATE(false, true);
    // A megabyte answer takes several reads: a floor that read less would hang or desynchronise.
    const chorus::server::SocketFloorSettings settings{
        .request_bytes = 4780, .answer_bytes = 1 << 20, .busy_us = 2000.0, .over_tcp = over_tcp, .calls = 4};
    const std::vector<double> floors = chorus::server::time_socket_floor(settings);
    REQUIRE(floors.size() == 4);
    for (const double floor : floors) {
        // Round trip − busy_us: never negative when the answer really waited busy_us.
        CHECK(floor >= 0.0);
    }
}
