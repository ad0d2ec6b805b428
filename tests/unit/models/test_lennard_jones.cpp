// Lennard-Jones models against ASE 3.22 and against their own derivatives.
//
// Reference data: tests/data/lj/*.json are written ONLY by tests/data/lj/make_reference.py (ASE's
// LennardJones calculator, cross-checked there by a brute-force double sum). These tests only
// read them; under `--regenerate` they still compare and rewrite nothing, because regenerating
// from chorus's own output would turn an external reference into a tautology. To change the
// structures, edit and rerun the Python script.
#include <cmath>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "chorus/error.hpp"
#include "chorus/models/lennard_jones.hpp"
#include "test_support.hpp"

using chorus::engine::CommitteeResult;
using chorus::engine::ComputeRequest;
using chorus::engine::Model;
using chorus::engine::System;
using chorus::models::LennardJones;
using chorus::models::LennardJonesCommittee;
using chorus::models::LennardJonesParameters;

namespace {

constexpr ComputeRequest everything{true, true, true, true};

struct Reference {
    nlohmann::json document;
    System system;
    double epsilon;
    double sigma;
    std::optional<double> cutoff;
    double energy;
    Eigen::Matrix3Xd forces;
    Eigen::Matrix3d virial;  // −σ_ASE · V
};

Eigen::Matrix3Xd columns(const nlohmann::json& rows) {
    Eigen::Matrix3Xd matrix(3, static_cast<Eigen::Index>(rows.size()));
    for (std::size_t i = 0; i < rows.size(); ++i) {
        for (std::size_t a = 0; a < 3; ++a) {
            matrix(static_cast<Eigen::Index>(a), static_cast<Eigen::Index>(i)) = rows[i][a].get<double>();
        }
    }
    return matrix;
}

Reference load_reference(const std::string& name) {
    std::ifstream file(chorus::test::data_path("lj/" + name + ".json"));
    REQUIRE(file.good());
    const nlohmann::json document = nlohmann::json::parse(file);
    const Eigen::Matrix3d cell = columns(document["cell"]);  // rows in the file → columns
    const auto& s = document["stress_voigt"];                // xx yy zz yz xz xy
    Eigen::Matrix3d stress;
    stress << s[0], s[5], s[4], s[5], s[1], s[3], s[4], s[3], s[2];
    std::optional<double> cutoff;
    if (!document["cutoff"].is_null()) {
        cutoff = document["cutoff"].get<double>();
    }
    return Reference{document,
                     System(document["numbers"].get<std::vector<int>>(), columns(document["positions"]), cell,
                            document["pbc"].get<bool>()),
                     document["epsilon"].get<double>(),
                     document["sigma"].get<double>(),
                     cutoff,
                     document["energy"].get<double>(),
                     columns(document["forces"]),
                     -stress * document["volume"].get<double>()};
}

const std::vector<std::string> reference_names{"argon_triclinic_108", "small_cell", "argon_cluster_24"};

CommitteeResult evaluate(const Model& model, const System& system, ComputeRequest request = everything) {
    CommitteeResult result;
    model.evaluate(system, request, result);
    return result;
}

double energy_of(const Model& model, const System& system) {
    return evaluate(model, system, ComputeRequest{false, false, false, false}).energy;
}

// The same structure with every atom and the cell deformed by (1 + strain).
System strained(const System& system, const Eigen::Matrix3d& strain) {
    const Eigen::Matrix3d deformation = Eigen::Matrix3d::Identity() + strain;
    return System(system.atomic_numbers(), deformation * system.positions(), deformation * system.cell(),
                  system.periodic());
}

}  // namespace

TEST_CASE("energies, forces and stress match ASE to 1e-10", "[lennard-jones]") {
    for (const std::string& name : reference_names) {
        SECTION(name) {
            const Reference reference = load_reference(name);
            const LennardJones model(reference.epsilon, reference.sigma, reference.cutoff);
            const CommitteeResult result = evaluate(model, reference.system);
            CHECK(result.energy == Approx(reference.energy).epsilon(1e-10).margin(0.0));
            // Relative to the largest component, so that near-zero components do not demand
            // more digits than the sums carry.
            const double force_scale = reference.forces.cwiseAbs().maxCoeff();
            CHECK((result.forces - reference.forces).cwiseAbs().maxCoeff() <= 1e-10 * force_scale);
            const double virial_scale = reference.virial.cwiseAbs().maxCoeff();
            CHECK((result.virial - reference.virial).cwiseAbs().maxCoeff() <= 1e-10 * virial_scale);
            CHECK(result.member_energies.size() == 1);
            CHECK(result.member_energies[0] == result.energy);
        }
    }
}

TEST_CASE("the reference files come from the ASE script, which --regenerate leaves alone",
          "[lennard-jones]") {
    for (const std::string& name : reference_names) {
        const Reference reference = load_reference(name);
        CHECK_THAT(reference.document["generator"].get<std::string>(),
                   Catch::Matchers::Contains("make_reference.py with ASE 3.22"));
    }
    if (chorus::test::regenerate_references()) {
        WARN("tests/data/lj is generated by tests/data/lj/make_reference.py (ASE), not by --regenerate");
    }
}

TEST_CASE("the default cutoff is 3 sigma, as in ASE", "[lennard-jones]") {
    CHECK(LennardJones(0.01, 2.9).cutoff() == Approx(8.7));
    CHECK(LennardJones(0.01, 2.9, 5.0).cutoff() == 5.0);
    CHECK_THROWS_AS(LennardJones(-0.01, 2.9), chorus::ConfigError);
    CHECK_THROWS_AS(LennardJones(0.01, 0.0), chorus::ConfigError);
    CHECK_THROWS_AS(LennardJones(0.01, 2.9, std::nan("")), chorus::ConfigError);
}

TEST_CASE("forces are minus the finite-difference gradient of the energy", "[lennard-jones]") {
    for (const std::string& name : reference_names) {
        SECTION(name) {
            const Reference reference = load_reference(name);
            const LennardJones model(reference.epsilon, reference.sigma, reference.cutoff);
            const CommitteeResult result = evaluate(model, reference.system);
            const double scale = result.forces.cwiseAbs().maxCoeff();
            const double step = 1e-5;  // Å; central differences, error ~ step² · u'''
            const Eigen::Index atoms = result.forces.cols();
            for (Eigen::Index atom = 0; atom < atoms; atom += std::max<Eigen::Index>(1, atoms / 7)) {
                for (Eigen::Index a = 0; a < 3; ++a) {
                    Eigen::Matrix3Xd plus = reference.system.positions();
                    Eigen::Matrix3Xd minus = plus;
                    plus(a, atom) += step;
                    minus(a, atom) -= step;
                    const System& s = reference.system;
                    const double gradient =
                        (energy_of(model, System(s.atomic_numbers(), plus, s.cell(), s.periodic())) -
                         energy_of(model, System(s.atomic_numbers(), minus, s.cell(), s.periodic()))) /
                        (2.0 * step);
                    INFO("atom " << atom << " component " << a);
                    CHECK(std::abs(-gradient - result.forces(a, atom)) <= 1e-6 * scale);
                }
            }
        }
    }
}

TEST_CASE("the virial is minus the strain derivative of the energy", "[lennard-jones]") {
    for (const std::string& name : reference_names) {
        SECTION(name) {
            const Reference reference = load_reference(name);
            const LennardJones model(reference.epsilon, reference.sigma, reference.cutoff);
            const CommitteeResult result = evaluate(model, reference.system);
            const double scale = result.virial.cwiseAbs().maxCoeff();
            const double step = 1e-6;
            for (int a = 0; a < 3; ++a) {
                for (int b = 0; b < 3; ++b) {
                    Eigen::Matrix3d strain = Eigen::Matrix3d::Zero();
                    strain(a, b) = step;
                    const double derivative = (energy_of(model, strained(reference.system, strain)) -
                                               energy_of(model, strained(reference.system, -strain))) /
                                              (2.0 * step);
                    // W_ab = −∂E/∂ε_ab; the LJ virial is symmetric, so the index order is moot.
                    INFO("component " << a << b);
                    CHECK(std::abs(-derivative - result.virial(a, b)) <= 1e-6 * scale);
                }
            }
            CHECK((result.virial - result.virial.transpose()).norm() <= 1e-12 * scale);
        }
    }
}

TEST_CASE("each committee member equals a single Lennard-Jones with its parameters", "[lennard-jones]") {
    const Reference reference = load_reference("argon_triclinic_108");
    const std::vector<LennardJonesParameters> members{
        {0.0104, 3.40}, {0.0110, 3.30}, {0.0098, 3.52}, {0.0121, 3.45}};
    const double cutoff = 8.5;
    const LennardJonesCommittee committee(members, cutoff);
    CHECK(committee.committee_size() == members.size());
    const CommitteeResult result = evaluate(committee, reference.system);
    REQUIRE(result.member_forces.size() == members.size());
    REQUIRE(result.member_virials.size() == members.size());

    Eigen::Matrix3Xd force_sum = Eigen::Matrix3Xd::Zero(3, result.forces.cols());
    Eigen::Matrix3d virial_sum = Eigen::Matrix3d::Zero();
    for (std::size_t k = 0; k < members.size(); ++k) {
        INFO("member " << k);
        const CommitteeResult single =
            evaluate(LennardJones(members[k].epsilon, members[k].sigma, cutoff), reference.system);
        CHECK(result.member_energies[static_cast<Eigen::Index>(k)] == Approx(single.energy).epsilon(1e-13));
        CHECK(result.member_forces[k].isApprox(single.forces, 1e-13));
        CHECK(result.member_virials[k].isApprox(single.virial, 1e-13));
        force_sum += single.forces;
        virial_sum += single.virial;
    }
    const auto m = static_cast<double>(members.size());
    CHECK(result.energy == Approx(result.member_energies.mean()).epsilon(1e-15));
    CHECK(result.forces.isApprox(force_sum / m, 1e-13));
    CHECK(result.virial.isApprox(virial_sum / m, 1e-13));
    CHECK(result.energy_spread() > 0.0);
}

TEST_CASE("a calibrated committee keeps its mean and scales its spread", "[lennard-jones]") {
    const Reference reference = load_reference("small_cell");
    const std::vector<LennardJonesParameters> members{{0.0104, 3.40}, {0.0110, 3.30}, {0.0098, 3.52}};
    const CommitteeResult raw = evaluate(LennardJonesCommittee(members, 7.0, 1.0), reference.system);
    const CommitteeResult calibrated = evaluate(LennardJonesCommittee(members, 7.0, 3.0), reference.system);
    CHECK(calibrated.energy == Approx(raw.energy).epsilon(1e-14));
    CHECK(calibrated.forces.isApprox(raw.forces, 1e-14));
    CHECK(calibrated.energy_spread() == Approx(3.0 * raw.energy_spread()).epsilon(1e-12));
    for (std::size_t k = 0; k < members.size(); ++k) {
        CHECK((calibrated.member_forces[k] - calibrated.forces)
                  .isApprox(3.0 * (raw.member_forces[k] - raw.forces), 1e-12));
    }
}

TEST_CASE("only the requested parts are computed; the rest agree", "[lennard-jones]") {
    const Reference reference = load_reference("argon_cluster_24");
    const LennardJonesCommittee committee({{0.0104, 3.40}, {0.0110, 3.30}}, 7.0);
    const CommitteeResult full = evaluate(committee, reference.system);
    const CommitteeResult energy_only =
        evaluate(committee, reference.system, ComputeRequest{false, false, false, false});
    CHECK(energy_only.energy == full.energy);
    CHECK(energy_only.forces.cols() == 0);
    CHECK(energy_only.member_forces.empty());
    const CommitteeResult mean_only =
        evaluate(committee, reference.system, ComputeRequest{true, true, false, false});
    CHECK(mean_only.forces == full.forces);
    CHECK(mean_only.virial == full.virial);
}

TEST_CASE("one model instance serves several threads", "[lennard-jones]") {
    const Reference reference = load_reference("argon_triclinic_108");
    const LennardJonesCommittee committee({{0.0104, 3.40}, {0.0110, 3.30}}, 8.5);
    const CommitteeResult expected = evaluate(committee, reference.system);
    std::vector<CommitteeResult> results(4);
    std::vector<std::thread> threads;
    for (auto& result : results) {
        threads.emplace_back([&] {
            for (int repeat = 0; repeat < 5; ++repeat) {
                committee.evaluate(reference.system, everything, result);
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    for (const auto& result : results) {
        CHECK(result.energy == expected.energy);
        CHECK(result.forces == expected.forces);
    }
}
