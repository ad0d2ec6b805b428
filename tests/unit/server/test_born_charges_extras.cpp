// The --born-charges keys (dipole_extras.hpp): "BEC" is the transpose of DipoleCommittee::
// derivatives().mean in i-PI's layout (3N rows of 3), obeys the acoustic sum rule i-PI checks, and
// "dipole" is the same e·Bohr vector as chorus_dipole.
#include <catch2/catch.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "../models/dipole/random_dipole_committee.hpp"
#include "chorus/engine/system.hpp"
#include "chorus/models/dipole/dipole_committee.hpp"
#include "dipole_extras.hpp"
#include "extras.hpp"

namespace dipole = chorus::models::dipole;

namespace {

dipole::DipoleCommittee random_dipole_committee() {
    return dipole::DipoleCommittee(chorus::test::random_dipole_parameters(3, 20261124, 1.3));
}

// Two water molecules, not periodic (cell all zeros, as ASE sends molecules).
chorus::engine::System water_dimer() {
    Eigen::Matrix3Xd positions(3, 6);
    positions << 0.00, 0.76, -0.24, 2.90, 3.20, 3.50,  //
        0.00, 0.59, 0.93, 0.10, 0.85, -0.55,           //
        0.00, 0.05, -0.02, 0.20, -0.30, 0.45;
    return chorus::engine::System({8, 1, 1, 8, 1, 1}, positions, Eigen::Matrix3d::Zero(), false);
}

}  // namespace

TEST_CASE("BEC extras are ∂μ/∂R transposed, obey the sum rule, and dipole equals chorus_dipole",
          "[dipole][extras][born]") {
    const auto committee = random_dipole_committee();
    const auto system = water_dimer();
    const auto prediction = committee.predict(system);
    const auto derivatives = committee.derivatives(system, false);
    const auto atoms = static_cast<Eigen::Index>(system.size());
    REQUIRE(derivatives.mean.rows() == 3);
    REQUIRE(derivatives.mean.cols() == 3 * atoms);
    REQUIRE(derivatives.mean.cwiseAbs().maxCoeff() > 1e-3);  // not trivially zero

    chorus::engine::CommitteeResult result;
    const auto mode = chorus::server::ExtrasMode::energies;
    result.reset(static_cast<std::size_t>(atoms), 2, chorus::server::compute_request_for(mode));
    std::string extras = chorus::server::build_extras(result, mode, {});
    chorus::server::append_dipole_extras(extras, prediction, committee.calibration_alpha());
    chorus::server::append_born_charges(extras, prediction, derivatives.mean);
    const auto json = nlohmann::json::parse(extras);
    REQUIRE(json.contains("committee_pot"));
    REQUIRE(json.contains("chorus_dipole_members"));

    const auto& bec = json.at("BEC");
    REQUIRE(bec.is_array());
    REQUIRE(bec.size() == static_cast<std::size_t>(3 * atoms));
    Eigen::Matrix3d sum = Eigen::Matrix3d::Zero();  // [β][α] summed over atoms
    for (Eigen::Index row = 0; row < 3 * atoms; ++row) {
        const auto& entry = bec[static_cast<std::size_t>(row)];
        REQUIRE(entry.size() == 3);
        for (int alpha = 0; alpha < 3; ++alpha) {
            const double value = entry[static_cast<std::size_t>(alpha)].get<double>();
            CHECK(value == Approx(derivatives.mean(alpha, row)).margin(1e-12));
            sum(row % 3, alpha) += value;
        }
    }
    CHECK(sum.cwiseAbs().maxCoeff() < 1e-10);

    const auto& dipole_key = json.at("dipole");
    REQUIRE(dipole_key.size() == 3);
    for (std::size_t d = 0; d < 3; ++d) {
        CHECK(dipole_key[d].get<double>() == json.at("chorus_dipole")[d].get<double>());
    }
    CHECK(dipole_key[0].get<double>() != 0.0);
}

TEST_CASE("BEC extras stay out of --extras none", "[dipole][extras][born]") {
    const auto committee = random_dipole_committee();
    const auto system = water_dimer();
    std::string none;
    chorus::server::append_born_charges(none, committee.predict(system), committee.derivatives(system).mean);
    CHECK(none.empty());
}
