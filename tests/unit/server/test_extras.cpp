#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include <nlohmann/json.hpp>

#include "chorus/engine/units.hpp"
#include "extras.hpp"

using chorus::engine::CommitteeResult;
using chorus::engine::ComputeRequest;
using namespace chorus::server;
namespace units = chorus::units;

namespace {

constexpr std::size_t members = 3;
constexpr std::size_t atoms = 2;

// A committee result with distinct, awkward values (not exactly representable in decimal).
CommitteeResult make_result(bool with_members) {
    ComputeRequest request;
    request.member_forces = with_members;
    request.member_virials = with_members;
    CommitteeResult result;
    result.reset(members, atoms, request);
    result.member_energies << -1.0 / 3.0, 0.1, 2.0 / 7.0;
    if (with_members) {
        for (std::size_t k = 0; k < members; ++k) {
            for (Eigen::Index i = 0; i < result.member_forces[k].size(); ++i) {
                result.member_forces[k].data()[i] = (k + 1) * 0.1 + i / 3.0;
            }
            for (int row = 0; row < 3; ++row) {
                for (int column = 0; column < 3; ++column) {
                    result.member_virials[k](row, column) = 10.0 * k + 3 * row + column + 1.0 / 7.0;
                }
            }
        }
    }
    result.energy = result.member_energies.mean();
    return result;
}

}  // namespace

TEST_CASE("full extras follow i-PI's committee contract in atomic units", "[server][extras]") {
    const CommitteeResult result = make_result(true);
    const auto text = build_extras(result, ExtrasMode::full, {1.5, 7});
    const auto extras = nlohmann::json::parse(text);
    REQUIRE(extras.is_object());
    CHECK(extras.size() == 6);

    REQUIRE(extras["committee_pot"].size() == members);
    for (std::size_t k = 0; k < members; ++k) {
        // Round trip through the text must be exact.
        CHECK(extras["committee_pot"][k].get<double>() == units::ev_to_hartree(result.member_energies[k]));
    }

    REQUIRE(extras["committee_force"].size() == members);
    for (std::size_t k = 0; k < members; ++k) {
        const auto& forces = extras["committee_force"][k];
        REQUIRE(forces.size() == 3 * atoms);
        for (std::size_t i = 0; i < 3 * atoms; ++i) {
            // atom-major: value i is component i % 3 of atom i / 3
            const double expected =
                result.member_forces[k](static_cast<Eigen::Index>(i % 3), static_cast<Eigen::Index>(i / 3));
            CHECK(forces[i].get<double>() == units::ev_per_angstrom_to_hartree_per_bohr(expected));
        }
    }

    REQUIRE(extras["committee_virial"].size() == members);
    for (std::size_t k = 0; k < members; ++k) {
        const auto& virial = extras["committee_virial"][k];
        REQUIRE(virial.size() == 9);
        for (int row = 0; row < 3; ++row) {
            for (int column = 0; column < 3; ++column) {
                CHECK(virial[3 * row + column].get<double>() ==
                      units::ev_to_hartree(result.member_virials[k](row, column)));
            }
        }
    }

    // σ with ddof 1, computed here independently of CommitteeResult::energy_spread.
    double mean = 0.0;
    for (std::size_t k = 0; k < members; ++k) {
        mean += result.member_energies[k] / members;
    }
    double sum_of_squares = 0.0;
    for (std::size_t k = 0; k < members; ++k) {
        sum_of_squares += std::pow(result.member_energies[k] - mean, 2);
    }
    const double sigma_ev = std::sqrt(sum_of_squares / (members - 1));
    CHECK(extras["committee_uncertainty"].get<double>() ==
          Approx(units::ev_to_hartree(sigma_ev)).epsilon(1e-14));
    CHECK(extras["chorus_alpha"].get<double>() == 1.5);
    CHECK(extras["chorus_bead"].get<int>() == 7);
}

TEST_CASE("no key clashes with i-PI's <ffcommittee> renaming", "[server][extras]") {
    const auto extras = nlohmann::json::parse(build_extras(make_result(true), ExtrasMode::full, {}));
    for (const char* forbidden : {"pot", "force", "virial", "uncertainty", "raw"}) {
        CHECK_FALSE(extras.contains(forbidden));
    }
    CHECK(extras["chorus_bead"].get<int>() == -1);
    CHECK(extras["chorus_alpha"].get<double>() == 1.0);
}

TEST_CASE("energies mode leaves out member forces and virials; none sends nothing", "[server][extras]") {
    const CommitteeResult result = make_result(false);
    const auto extras = nlohmann::json::parse(build_extras(result, ExtrasMode::energies, {1.0, 2}));
    CHECK(extras.size() == 4);
    CHECK(extras.contains("committee_pot"));
    CHECK(extras.contains("committee_uncertainty"));
    CHECK_FALSE(extras.contains("committee_force"));
    CHECK_FALSE(extras.contains("committee_virial"));
    CHECK(build_extras(result, ExtrasMode::none, {}).empty());
}

TEST_CASE("member forces and virials are requested from the model only for full extras", "[server][extras]") {
    const auto full = compute_request_for(ExtrasMode::full);
    CHECK(full.forces);
    CHECK(full.virial);
    CHECK(full.member_forces);
    CHECK(full.member_virials);
    for (const auto mode : {ExtrasMode::energies, ExtrasMode::none}) {
        const auto request = compute_request_for(mode);
        CHECK(request.forces);
        CHECK(request.virial);
        CHECK_FALSE(request.member_forces);
        CHECK_FALSE(request.member_virials);
    }
}

TEST_CASE("--atomic-uncertainty adds each atom's energy spread in Hartree", "[server][extras]") {
    ComputeRequest request;
    request.atomic_energies = true;
    CommitteeResult result;
    result.reset(members, atoms, request);
    // Atom 0: members −1/3, 0.1, 2/7 eV; atom 1: all equal, so its spread is exactly 0.
    result.member_atomic_energies << -1.0 / 3.0, 0.1, 2.0 / 7.0,  //
        0.25, 0.25, 0.25;
    result.member_energies = result.member_atomic_energies.colwise().sum().transpose();
    result.energy = result.member_energies.mean();

    ExtrasContext context{1.0, -1, true};
    const auto extras = nlohmann::json::parse(build_extras(result, ExtrasMode::energies, context));
    REQUIRE(extras.contains("chorus_atomic_uncertainty"));
    const auto& sigma = extras["chorus_atomic_uncertainty"];
    REQUIRE(sigma.size() == atoms);
    const double mean = (-1.0 / 3.0 + 0.1 + 2.0 / 7.0) / 3.0;
    const double spread =
        std::sqrt((std::pow(-1.0 / 3.0 - mean, 2) + std::pow(0.1 - mean, 2) + std::pow(2.0 / 7.0 - mean, 2)) /
                  (members - 1));
    CHECK(sigma[0].get<double>() == Approx(units::ev_to_hartree(spread)).epsilon(1e-14));
    CHECK(sigma[1].get<double>() == 0.0);

    context.atomic_uncertainty = false;
    CHECK_FALSE(nlohmann::json::parse(build_extras(result, ExtrasMode::energies, context))
                    .contains("chorus_atomic_uncertainty"));
    // A result without per-atom energies has nothing to report, rather than NaNs.
    CHECK_FALSE(nlohmann::json::parse(build_extras(make_result(false), ExtrasMode::energies, {1.0, -1, true}))
                    .contains("chorus_atomic_uncertainty"));
}
