// The many-beads driver of `chorus bench roundtrip --committee-table`: i-PI's batched mode (one
// connection, batch_size:P) must give every bead exactly the answer that P separate connections give,
// in bead order; and a serve session must answer them as the model evaluated directly does.
#include <catch2/catch.hpp>

#include <random>
#include <vector>

#include <nlohmann/json.hpp>

#include "argon_box.hpp"
#include "bench_beads.hpp"
#include "bench_structure.hpp"
#include "chorus/engine/units.hpp"
#include "chorus/models/lennard_jones.hpp"

using chorus::server::argon_structure;
using chorus::server::BeadDriver;
using chorus::server::BenchStructure;
using chorus::server::ExtrasMode;
using chorus::server::make_argon_box;

namespace {

chorus::models::LennardJonesCommittee argon_committee() {
    return chorus::models::LennardJonesCommittee({{0.0104, 3.40}, {0.0102, 3.41}, {0.0106, 3.39}}, 7.0);
}

// Every bead moved differently (up to ±0.05 Å), so that a bead answered with another's structure shows.
std::vector<Eigen::Matrix3Xd> bead_positions(const BenchStructure& structure, int beads) {
    std::mt19937 generator(11);
    std::uniform_real_distribution<double> step(-0.05, 0.05);
    std::vector<Eigen::Matrix3Xd> positions(static_cast<std::size_t>(beads), structure.positions);
    for (auto& bead : positions) {
        bead = bead.unaryExpr([&](double x) { return x + step(generator); });
    }
    return positions;
}

// The extras without chorus_bead: separate connections carry their bead index, a batch one INIT.
nlohmann::json extras_without_bead(const std::string& extras) {
    auto json = nlohmann::json::parse(extras);
    json.erase("chorus_bead");
    return json;
}

}  // namespace

TEST_CASE("batched and separate connections give every bead the same answer", "[bench][beads]") {
    const auto model = argon_committee();
    const BenchStructure structure = argon_structure(make_argon_box(108));
    const int beads = 5;
    const auto positions = bead_positions(structure, beads);

    BeadDriver separate(model, structure, beads, BeadDriver::Mode::connections, ExtrasMode::full, 1);
    BeadDriver batched(model, structure, beads, BeadDriver::Mode::batched, ExtrasMode::full, 1);
    // Two steps: the second reuses every connection's evaluator and the batch's.
    for (int step = 0; step < 2; ++step) {
        const auto one_per_connection = separate.step(positions);
        const auto in_a_batch = batched.step(positions);
        REQUIRE(one_per_connection.size() == static_cast<std::size_t>(beads));
        REQUIRE(in_a_batch.size() == static_cast<std::size_t>(beads));
        for (std::size_t bead = 0; bead < in_a_batch.size(); ++bead) {
            CAPTURE(step, bead);
            CHECK(in_a_batch[bead].energy == one_per_connection[bead].energy);
            CHECK(in_a_batch[bead].forces == one_per_connection[bead].forces);
            CHECK(in_a_batch[bead].virial == one_per_connection[bead].virial);
            CHECK(extras_without_bead(in_a_batch[bead].extras) ==
                  extras_without_bead(one_per_connection[bead].extras));
            CHECK(nlohmann::json::parse(one_per_connection[bead].extras).at("chorus_bead") ==
                  static_cast<int>(bead));
        }
        // Distinct structures give distinct energies: the comparison above is not of one answer.
        CHECK(in_a_batch[0].energy != in_a_batch[1].energy);
    }
    separate.finish();
    batched.finish();
}

TEST_CASE("each bead's answer is the model's evaluation of that bead", "[bench][beads]") {
    const auto model = argon_committee();
    const BenchStructure structure = argon_structure(make_argon_box(108));
    const int beads = 3;
    const auto positions = bead_positions(structure, beads);

    BeadDriver batched(model, structure, beads, BeadDriver::Mode::batched, ExtrasMode::energies, 1);
    const auto answers = batched.step(positions);
    batched.finish();
    for (std::size_t bead = 0; bead < answers.size(); ++bead) {
        chorus::engine::System system(structure.atomic_numbers, positions[bead], structure.cell, true);
        chorus::engine::CommitteeResult result;
        model.evaluate(system, {.forces = true, .virial = true}, result);
        CAPTURE(bead);
        CHECK(answers[bead].energy == Approx(chorus::units::ev_to_hartree(result.energy)).epsilon(1e-12));
    }
}
