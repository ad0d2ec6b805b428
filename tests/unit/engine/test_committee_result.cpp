#include <array>
#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

#include "chorus/engine/committee_result.hpp"
#include "chorus/engine/model.hpp"
#include "chorus/error.hpp"

using Catch::Matchers::Contains;
using chorus::engine::CommitteeResult;
using chorus::engine::ComputeRequest;
using chorus::engine::Model;
using chorus::engine::System;

namespace {

constexpr ComputeRequest everything{true, true, true, true};

// Member k of a toy committee: E_k = e[k], F_k = f[k] · pattern, W_k = w[k] · pattern.
CommitteeResult filled(const std::vector<double>& values, std::size_t atoms) {
    CommitteeResult result;
    result.reset(values.size(), atoms, everything);
    const auto n = static_cast<Eigen::Index>(atoms);
    const Eigen::VectorXd ramp = Eigen::VectorXd::LinSpaced(3 * n, -1.0, 2.0);
    const Eigen::Matrix3Xd pattern = Eigen::Map<const Eigen::Matrix3Xd>(ramp.data(), 3, n);
    const Eigen::Matrix3d virial_pattern = (Eigen::Matrix3d() << 1, 2, 3, 2, 5, 6, 3, 6, 9).finished();
    for (std::size_t k = 0; k < values.size(); ++k) {
        result.member_energies[static_cast<Eigen::Index>(k)] = values[k];
        result.member_forces[k] = values[k] * pattern;
        result.member_virials[k] = values[k] * virial_pattern;
    }
    result.set_mean_from_members();
    return result;
}

// A committee that returns fixed members, to test Model::evaluate's checks and calibration.
class FixedModel final : public Model {
public:
    FixedModel(std::vector<double> energies, std::vector<int> species, double alpha)
        : energies_(std::move(energies)), species_(std::move(species)), alpha_(alpha) {}
    std::string_view kind() const override { return "fixed"; }
    std::string description() const override { return "fixed test committee"; }
    std::span<const int> species() const override { return species_; }
    double cutoff() const override { return 1.0; }
    std::size_t committee_size() const override { return energies_.size(); }
    double calibration_alpha() const override { return alpha_; }

protected:
    void compute(const System& system, const ComputeRequest& request,
                 CommitteeResult& result) const override {
        result.reset(energies_.size(), system.size(), request);
        for (std::size_t k = 0; k < energies_.size(); ++k) {
            result.member_energies[static_cast<Eigen::Index>(k)] = energies_[k];
        }
        result.set_mean_from_members();
    }

private:
    std::vector<double> energies_;
    std::vector<int> species_;
    double alpha_;
};

System water() { return System({8, 1, 1}, Eigen::Matrix3Xd::Random(3, 3), Eigen::Matrix3d::Zero(), false); }

}  // namespace

TEST_CASE("mean and spread with ddof 1", "[committee]") {
    const CommitteeResult result = filled({1.0, 2.0, 4.0, 9.0}, 5);
    CHECK(result.committee_size() == 4);
    CHECK(result.energy == Approx(4.0));
    // deviations −3, −2, 0, 5: Σ² = 38, /3
    CHECK(result.energy_spread() == Approx(std::sqrt(38.0 / 3.0)).epsilon(1e-14));
    CHECK(result.forces.cols() == 5);
    CHECK(result.forces.isApprox(4.0 * result.member_forces[0] / 1.0, 1e-14));
    CHECK(result.virial(1, 2) == Approx(24.0));
}

TEST_CASE("a single model has zero spread", "[committee]") {
    const CommitteeResult result = filled({-3.5}, 2);
    CHECK(result.energy == -3.5);
    CHECK(result.energy_spread() == 0.0);
    CommitteeResult calibrated = result;
    calibrated.apply_calibration(3.0);
    CHECK(calibrated.member_energies[0] == -3.5);
}

TEST_CASE("calibration keeps the mean and scales every deviation by alpha", "[committee]") {
    const std::vector<double> values{1.0, 2.0, 4.0, 9.0};
    const CommitteeResult raw = filled(values, 3);
    CommitteeResult calibrated = raw;
    const double alpha = 2.5;
    calibrated.apply_calibration(alpha);

    CHECK(calibrated.energy == raw.energy);
    CHECK(calibrated.member_energies.mean() == Approx(raw.energy).epsilon(1e-14));
    CHECK(calibrated.energy_spread() == Approx(alpha * raw.energy_spread()).epsilon(1e-14));
    for (std::size_t k = 0; k < values.size(); ++k) {
        const auto index = static_cast<Eigen::Index>(k);
        CHECK(calibrated.member_energies[index] - raw.energy ==
              Approx(alpha * (raw.member_energies[index] - raw.energy)).epsilon(1e-14));
        const Eigen::Matrix3Xd force_deviation = calibrated.member_forces[k] - raw.forces;
        CHECK(force_deviation.isApprox(alpha * (raw.member_forces[k] - raw.forces), 1e-13));
        const Eigen::Matrix3d virial_deviation = calibrated.member_virials[k] - raw.virial;
        CHECK(virial_deviation.isApprox(alpha * (raw.member_virials[k] - raw.virial), 1e-13));
    }
    CommitteeResult recomputed = calibrated;
    recomputed.set_mean_from_members();
    CHECK(recomputed.forces.isApprox(raw.forces, 1e-13));
    CHECK(recomputed.virial.isApprox(raw.virial, 1e-13));
}

TEST_CASE("reset sizes only what was requested and zeroes it", "[committee]") {
    CommitteeResult result = filled({1.0, 2.0}, 4);
    result.reset(3, 6, ComputeRequest{true, false, false, false});
    CHECK(result.energy == 0.0);
    CHECK(result.member_energies.size() == 3);
    CHECK(result.member_energies.isZero());
    CHECK(result.forces.cols() == 6);
    CHECK(result.forces.isZero());
    CHECK(result.member_forces.empty());
    CHECK(result.member_virials.empty());
    result.reset(3, 6, ComputeRequest{false, false, true, true});
    CHECK(result.forces.cols() == 0);
    CHECK(result.member_forces.size() == 3);
    CHECK(result.member_forces[2].cols() == 6);
    CHECK(result.member_virials.size() == 3);
}

TEST_CASE("evaluate names the first unsupported species and lists the supported ones", "[committee]") {
    const FixedModel model({1.0, 2.0}, {1, 6}, 1.0);
    CommitteeResult result;
    CHECK_THROWS_AS(model.evaluate(water(), everything, result), chorus::InputError);
    CHECK_THROWS_WITH(model.evaluate(water(), everything, result),
                      Contains("atomic number 8 (atom 0)") && Contains("1, 6"));
    const FixedModel any({1.0, 2.0}, {}, 1.0);
    CHECK_NOTHROW(any.evaluate(water(), everything, result));
}

TEST_CASE("evaluate applies the model's calibration", "[committee]") {
    const FixedModel model({1.0, 3.0, 8.0}, {1, 8}, 2.0);
    CommitteeResult result;
    model.evaluate(water(), everything, result);
    CHECK(result.energy == Approx(4.0));
    CHECK(result.member_energies[0] == Approx(4.0 - 2.0 * 3.0));
    CHECK(result.member_energies[2] == Approx(4.0 + 2.0 * 4.0));

    const FixedModel single({5.0}, {}, 2.0);
    single.evaluate(water(), everything, result);
    CHECK(result.member_energies[0] == 5.0);
    CHECK(result.energy_spread() == 0.0);
}
