// The dipole keys of the extras (dipole_extras.hpp): inserted into build_extras' JSON, in e·Bohr,
// members and spread as the dipole model computed them; --extras none stays empty.
#include <catch2/catch.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "chorus/engine/units.hpp"
#include "dipole_extras.hpp"
#include "extras.hpp"

using chorus::models::dipole::summarise_members;
using chorus::server::append_dipole_extras;

TEST_CASE("dipole keys are added to the committee extras in e·Bohr", "[dipole][extras]") {
    Eigen::Matrix3Xd members(3, 4);
    members << 0.1, 0.2, 0.3, 0.4, -0.5, -0.5, -0.4, -0.6, 1.0, 1.1, 0.9, 1.0;  // e·Å
    const auto prediction = summarise_members(members, 1.5);
    chorus::engine::CommitteeResult result;
    result.reset(4, 2, chorus::server::compute_request_for(chorus::server::ExtrasMode::energies));
    std::string extras = chorus::server::build_extras(result, chorus::server::ExtrasMode::energies, {});
    append_dipole_extras(extras, prediction, 1.5);
    const auto json = nlohmann::json::parse(extras);
    REQUIRE(json.contains("committee_pot"));
    const double to_bohr = chorus::units::angstrom_in_bohr;
    for (int d = 0; d < 3; ++d) {
        CHECK(json["chorus_dipole"][d].get<double>() == Approx(prediction.mean[d] * to_bohr).epsilon(1e-15));
        CHECK(json["chorus_dipole_uncertainty"][d].get<double>() ==
              Approx(prediction.sigma[d] * to_bohr).epsilon(1e-15));
        for (int k = 0; k < 4; ++k) {
            CHECK(json["chorus_dipole_members"][k][d].get<double>() ==
                  Approx(prediction.members(d, k) * to_bohr).epsilon(1e-15));
        }
    }
    CHECK(json["chorus_dipole_alpha"] == 1.5);
    // α widened the spread around an unchanged mean.
    CHECK(prediction.sigma[0] == Approx(1.5 * summarise_members(members, 1.0).sigma[0]));

    std::string none;
    append_dipole_extras(none, prediction, 1.5);
    CHECK(none.empty());
}
