// `chorus reweight`'s other inputs: steps of a committee log (bead ids or consecutive records),
// i-PI's committee_pot extras (the fixture made by i-PI with chorus), the temperature of an i-PI
// input with its units, and the plot's running averages.
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "chorus/engine/reweighting.hpp"
#include "chorus/engine/units.hpp"
#include "chorus/error.hpp"
#include "reweight_command.hpp"
#include "reweight_committee_log.hpp"
#include "reweight_ipi_extras.hpp"
#include "reweight_ipi_input.hpp"
#include "reweight_plot.hpp"
#include "test_support.hpp"

namespace {

using chorus::server::CommitteeLogContents;

class ScratchDirectory {
public:
    ScratchDirectory() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "chorus-reweight-test-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        directory_ = pattern;
    }
    ~ScratchDirectory() { std::filesystem::remove_all(directory_); }
    std::string write(const std::string& name, const std::string& text) const {
        const auto path = directory_ / name;
        std::ofstream(path) << text;
        return path.string();
    }

private:
    std::filesystem::path directory_;
};

// A synthetic log: record r has member energies (r, 10 r) + per-bead offsets, so every bead
// average is known in closed form.
CommitteeLogContents synthetic_log(const std::vector<std::int32_t>& beads, const std::vector<int>& blocks) {
    CommitteeLogContents log;
    log.members = 2;
    log.beads = beads;
    log.blocks = blocks;
    log.connections.assign(beads.size(), "unix:x#0");
    log.member_energies.resize(static_cast<Eigen::Index>(beads.size()), 2);
    for (Eigen::Index r = 0; r < log.member_energies.rows(); ++r) {
        log.member_energies(r, 0) = static_cast<double>(r);
        log.member_energies(r, 1) = 10.0 * static_cast<double>(r);
    }
    return log;
}

std::string ipi_input(const std::string& temperature_element) {
    return "<simulation verbosity='low'>\n  <system>\n    <initialize nbeads='4'/>\n    <ensemble>" +
           temperature_element + "</ensemble>\n  </system>\n</simulation>\n";
}

}  // namespace

TEST_CASE("tracked beads: a step ends when P beads are in or a bead id repeats", "[reweight_inputs]") {
    // P = 2. Steps: {1,0} {0,1} | {1} cut by the repeat of 1 | {1,0} | restart: {0} cut by the block | {0,1}
    const auto log = synthetic_log({1, 0, 0, 1, 1, 1, 0, 0, 0, 1}, {0, 0, 0, 0, 0, 0, 0, 0, 1, 1});
    const auto stepped = chorus::server::group_into_steps(log, std::nullopt);
    CHECK(stepped.beads == 2);
    CHECK(stepped.incomplete_steps == 2);
    REQUIRE(stepped.potentials.rows() == 4);
    const std::vector<double> first_member{0.5, 2.5, 5.5, 8.5};  // (r + r') / 2 of the complete steps
    for (Eigen::Index s = 0; s < 4; ++s) {
        CHECK(stepped.potentials(s, 0) == first_member[static_cast<std::size_t>(s)]);
        CHECK(stepped.potentials(s, 1) == 10.0 * first_member[static_cast<std::size_t>(s)]);
    }
}

TEST_CASE("untracked records: --beads P groups P consecutive records per run", "[reweight_inputs]") {
    const auto log = synthetic_log({-1, -1, -1, -1, -1, -1, -1, -1}, {0, 0, 0, 0, 0, 1, 1, 1});
    const auto stepped = chorus::server::group_into_steps(log, 3);
    // run 0: records 0-2 a step, 3-4 left over; run 1: 5-7 a step
    CHECK(stepped.incomplete_steps == 1);
    REQUIRE(stepped.potentials.rows() == 2);
    CHECK(stepped.potentials(0, 0) == 1.0);
    CHECK(stepped.potentials(1, 0) == 6.0);
    // Without --beads every record is a step.
    CHECK(chorus::server::group_into_steps(log, std::nullopt).potentials.rows() == 8);
}

TEST_CASE("bead-averaged ΔV feeds the reweighting as science.md §6 says", "[reweight_inputs]") {
    // 3 beads, 2 members: the reweighting potential of a step is the bead average of each member.
    std::vector<std::int32_t> beads;
    for (int r = 0; r < 12; ++r) {
        beads.push_back(r % 3);
    }
    const auto log = synthetic_log(beads, std::vector<int>(12, 0));
    const auto stepped = chorus::server::group_into_steps(log, std::nullopt);
    CHECK(stepped.potentials.isApprox(chorus::engine::bead_average(log.member_energies, 3), 1e-15));
}

TEST_CASE("committee logs with bad bead ids or mixed tracking are refused clearly", "[reweight_inputs]") {
    CHECK_THROWS_AS(chorus::server::group_into_steps(synthetic_log({0, -1}, {0, 0}), std::nullopt),
                    chorus::InputError);
    CHECK_THROWS_WITH(chorus::server::group_into_steps(synthetic_log({0, 3}, {0, 0}), 2),
                      Catch::Contains("bead id 3") && Catch::Contains("--beads 2"));
    CHECK_THROWS_AS(chorus::server::group_into_steps(synthetic_log({0, 1}, {0, 0}), 0), chorus::ConfigError);
}

TEST_CASE("i-PI committee_pot extras: the fixture made by i-PI with chorus", "[reweight_inputs]") {
    const auto directory = chorus::test::data_path("reweight/ipi-extras");
    const auto bead3 = chorus::server::read_ipi_extras((directory / "sim.committee_pot_3").string());
    CHECK(bead3.property == "committee_pot");
    REQUIRE(bead3.steps.size() == 9);
    CHECK(bead3.steps.front() == 0);
    CHECK(bead3.steps.back() == 40);
    REQUIRE(bead3.values.cols() == 8);
    CHECK(bead3.values(0, 0) == -2.92505621e-01);
    CHECK(bead3.values(8, 0) == -2.58675725e-01);
    CHECK(bead3.values(8, 7) == -2.63279462e-01);

    std::vector<std::string> paths;
    Eigen::MatrixXd sum = Eigen::MatrixXd::Zero(9, 8);
    for (int bead = 0; bead < 4; ++bead) {
        paths.push_back((directory / ("sim.committee_pot_" + std::to_string(bead))).string());
        sum += chorus::server::read_ipi_extras(paths.back()).values;
    }
    const Eigen::MatrixXd averaged = chorus::server::bead_averaged_committee_potentials(paths);
    CHECK(averaged.isApprox(sum / 4.0 * chorus::units::hartree_in_ev, 1e-15));

    // The uncertainty extras are another property: refused with the reason.
    const std::vector<std::string> sigma{(directory / "sim.committee_sigma_0").string()};
    CHECK_THROWS_WITH(chorus::server::bead_averaged_committee_potentials(sigma),
                      Catch::Contains("committee_uncertainty") && Catch::Contains("committee_pot"));
}

TEST_CASE("i-PI extras: malformed files are refused with file and line", "[reweight_inputs]") {
    ScratchDirectory scratch;
    const auto ragged = scratch.write("ragged",
                                      " #EXTRAS(committee_pot)# Step:  0 \n 1 2 3\n"
                                      " #EXTRAS(committee_pot)# Step:  5 \n 1 2\n");
    CHECK_THROWS_WITH(chorus::server::read_ipi_extras(ragged),
                      Catch::Contains("ragged:3") && Catch::Contains("2 values"));
    const auto plain = scratch.write("plain", "1 2 3\n");
    CHECK_THROWS_WITH(chorus::server::read_ipi_extras(plain), Catch::Contains("plain:1"));
    // Values spread over several lines belong to one step, as numpy.loadtxt of the block reads them.
    const auto wrapped = scratch.write("wrapped", "#EXTRAS(committee_pot)# Step: 0\n1 2\n3\n");
    CHECK(chorus::server::read_ipi_extras(wrapped).values.cols() == 3);
    const std::vector<std::string> different{scratch.write("a", "#EXTRAS(committee_pot)# Step: 0\n1 2\n"),
                                             scratch.write("b", "#EXTRAS(committee_pot)# Step: 5\n1 2\n")};
    CHECK_THROWS_WITH(chorus::server::bead_averaged_committee_potentials(different),
                      Catch::Contains("same steps"));
}

TEST_CASE("--input: the ensemble temperature with i-PI's units", "[reweight_inputs]") {
    ScratchDirectory scratch;
    const double kelvin = chorus::units::kelvin_to_ev(1.0);
    // The argon run's real input: 94 K.
    CHECK(chorus::server::ipi_input_thermal_energy_ev(
              chorus::test::data_path("reweight/ipi-extras/input.xml").string()) ==
          Approx(94.0 * kelvin).epsilon(1e-15));
    CHECK(chorus::server::ipi_input_thermal_energy_ev(
              scratch.write("k.xml", ipi_input("<temperature units='kelvin'> 300 </temperature>"))) ==
          Approx(300.0 * kelvin).epsilon(1e-15));
    CHECK(chorus::server::ipi_input_thermal_energy_ev(
              scratch.write("mk.xml", ipi_input("<temperature units='millikelvin'>300000</temperature>"))) ==
          Approx(300.0 * kelvin).epsilon(1e-15));
    // No units attribute: i-PI reads atomic units (Hartree), so does chorus.
    CHECK(chorus::server::ipi_input_thermal_energy_ev(
              scratch.write("au.xml", ipi_input("<temperature>1e-3</temperature>"))) ==
          Approx(1e-3 * chorus::units::hartree_in_ev).epsilon(1e-15));
    CHECK(chorus::server::ipi_input_thermal_energy_ev(
              scratch.write("au2.xml", ipi_input("<temperature units='atomic_unit'>1e-3</temperature>"))) ==
          Approx(1e-3 * chorus::units::hartree_in_ev).epsilon(1e-15));

    CHECK_THROWS_WITH(chorus::server::ipi_input_thermal_energy_ev(
                          scratch.write("c.xml", ipi_input("<temperature units='celsius'>20</temperature>"))),
                      Catch::Contains("celsius"));
    CHECK_THROWS_WITH(chorus::server::ipi_input_thermal_energy_ev(scratch.write("none.xml", ipi_input(""))),
                      Catch::Contains("<temperature>"));
    CHECK_THROWS_WITH(
        chorus::server::ipi_input_thermal_energy_ev(scratch.write("bad.xml", "<simulation><system>")),
        Catch::Contains("not well-formed XML"));
    CHECK_THROWS_AS(chorus::server::ipi_input_thermal_energy_ev("/nonexistent/input.xml"), chorus::IoError);
}

TEST_CASE("chorus reweight --ipi-extras --input: kT from the input, potentials bead-averaged",
          "[reweight_inputs]") {
    const auto directory = chorus::test::data_path("reweight/ipi-extras");
    chorus::server::ReweightSettings settings;
    for (int bead = 0; bead < 4; ++bead) {
        settings.ipi_extras_paths.push_back(
            (directory / ("sim.committee_pot_" + std::to_string(bead))).string());
    }
    settings.ipi_input_path = (directory / "input.xml").string();
    settings.json_path = "-";
    std::ostringstream out;
    std::ostringstream err;
    REQUIRE(chorus::server::run_reweight(settings, out, err) == 0);
    const std::string text = out.str();
    CHECK(text.find("\"frames\": 9") != std::string::npos);
    CHECK(text.find("\"members\": 8") != std::string::npos);
    CHECK(text.find("potential energy (eV)") != std::string::npos);

    // The same with the temperature given twice is refused.
    settings.temperature_kelvin = 94.0;
    CHECK_THROWS_AS(chorus::server::run_reweight(settings, out, err), chorus::ConfigError);
}

TEST_CASE("running averages end at the final estimate", "[reweight_inputs]") {
    Eigen::MatrixXd potentials(50, 3);
    for (Eigen::Index t = 0; t < 50; ++t) {
        const double q = std::sin(0.7 * static_cast<double>(t));
        potentials.row(t) << q * q, 1.1 * q * q, 0.9 * q * q;
    }
    const Eigen::MatrixXd deviations = chorus::engine::potential_deviations(potentials);
    const Eigen::VectorXd observable = potentials.rowwise().mean();
    for (const bool exact : {false, true}) {
        const auto running = chorus::server::running_averages(deviations, observable, 2.0, exact, 20);
        CHECK(running.frames[0] >= 2.0);
        CHECK(running.frames[running.frames.size() - 1] == 50.0);
        const auto final = exact ? chorus::engine::reweight_exact(deviations, observable, 2.0)
                                 : chorus::engine::reweight_cumulant(deviations, observable, 2.0);
        CHECK(running.members.bottomRows(1).isApprox(final.members, 1e-14));
        CHECK(running.mean[running.mean.size() - 1] == Approx(final.member_mean[0]).epsilon(1e-14));
    }
}
