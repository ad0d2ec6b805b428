// The dipole committee (models/dipole): exact rotation and inversion behaviour of the prediction,
// the Cartesian ↔ real-harmonic order, recovery of a synthetic λ = 1 dipole by training, the
// calibration rescaling, and the model file's round trip and checks.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include <unistd.h>

#include <Eigen/Geometry>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../contraction_fit_refusal_check.hpp"
#include "../linear_committee_support.hpp"
#include "chorus/error.hpp"
#include "chorus/models/dipole/dipole_committee.hpp"
#include "chorus/models/dipole/dipole_training.hpp"
#include "random_dipole_committee.hpp"

using Catch::Matchers::Contains;
using chorus::engine::System;
using chorus::test::random_dipole_parameters;
using chorus::test::small_dipole_features;
using namespace chorus::models::dipole;
namespace features = chorus::models::features;
namespace training = chorus::models::training;

namespace {

// Any α ≠ 1, so that the file round trip would notice a lost α.
constexpr double alpha = 1.3;

System cluster(std::uint64_t seed) {
    std::mt19937_64 engine(seed);
    return chorus::test::random_water(2, engine, false);
}

System transformed(const System& system, const Eigen::Matrix3d& map, const Eigen::Vector3d& shift) {
    const Eigen::Matrix3Xd positions = (map * system.positions()).colwise() + shift;
    return System(system.atomic_numbers(), positions, Eigen::Matrix3d::Zero(), false);
}

}  // namespace

TEST_CASE("dipole prediction rotates with the structure and flips under inversion", "[dipole]") {
    const DipoleCommittee committee(random_dipole_parameters(4, 11, alpha));
    const System system = cluster(3);
    const DipolePrediction before = committee.predict(system);
    REQUIRE(before.mean.norm() > 1e-3);
    const Eigen::Matrix3d rotation =
        Eigen::AngleAxisd(1.1, Eigen::Vector3d(0.3, -0.8, 0.5).normalized()).toRotationMatrix();
    const DipolePrediction rotated =
        committee.predict(transformed(system, rotation, Eigen::Vector3d(1.5, -2.0, 0.7)));
    const double scale = before.members.cwiseAbs().maxCoeff();
    CHECK((rotated.mean - rotation * before.mean).norm() <= 1e-10 * scale);
    CHECK((rotated.members - rotation * before.members).cwiseAbs().maxCoeff() <= 1e-10 * scale);
    CHECK(std::abs(rotated.norm_sigma - before.norm_sigma) <= 1e-10 * scale);

    const DipolePrediction inverted =
        committee.predict(transformed(system, -Eigen::Matrix3d::Identity(), Eigen::Vector3d::Zero()));
    CHECK((inverted.members + before.members).cwiseAbs().maxCoeff() <= 1e-10 * scale);
}

TEST_CASE("the Cartesian order follows the real harmonics (y, z, x)", "[dipole]") {
    // One O–H pair along a Cartesian axis: only λ = 1 rows of that axis can be non-zero.
    const features::FeatureCalculator calculator(small_dipole_features());
    auto workspace = calculator.workspace();
    features::FeatureMatrix blocks;
    Eigen::MatrixXd design;
    for (int axis = 0; axis < 3; ++axis) {
        Eigen::Matrix3Xd positions = Eigen::Matrix3Xd::Zero(3, 2);
        positions(axis, 1) = 1.0;
        const System pair({8, 1}, positions, Eigen::Matrix3d::Zero(), false);
        dipole_design(calculator, pair, workspace, blocks, design);
        for (int d = 0; d < 3; ++d) {
            if (d == axis) {
                CHECK(design.row(d).cwiseAbs().maxCoeff() > 1e-6);
            } else {
                CHECK(design.row(d).cwiseAbs().maxCoeff() <= 1e-14);
            }
        }
    }
}

TEST_CASE("calibration rescales the spread around the mean", "[dipole]") {
    Eigen::Matrix3Xd members(3, 4);
    members << 1, 2, 3, 4, 0, 0, 0, 0, -1, 1, -1, 1;
    const DipolePrediction one = summarise_members(members, 1.0);
    const DipolePrediction two = summarise_members(members, 2.0);
    CHECK(two.mean.isApprox(one.mean));
    CHECK(one.sigma[0] == Approx(std::sqrt(5.0 / 3.0)));
    CHECK(two.sigma[0] == Approx(2.0 * one.sigma[0]));
    CHECK(two.sigma[1] == 0.0);
    CHECK(two.sigma[2] == Approx(2.0 * one.sigma[2]));
}

TEST_CASE("training recovers a dipole built from λ = 1 features", "[dipole]") {
    const features::FeatureSettings settings = small_dipole_features(2, 1);
    const DipoleCommittee truth(random_dipole_parameters(settings, 2, 5, alpha));
    std::vector<training::LabelledFrame> frames;
    for (std::size_t i = 0; i < 90; ++i) {
        chorus::models::Frame frame{cluster(100 + i), {}, {}, {}, {}, {}, 0};
        frame.dipole = truth.predict(frame.system).members.col(0);
        frame.info["source"] = i % 2 == 0 ? "a" : "b";
        frames.push_back({std::move(frame), 0, i});
    }
    training::TrainSettings train = training::default_train_settings();
    train.features = settings;
    train.members = 4;
    train.grid = {1e-14, 1e-12, 3};
    const training::DataSplit split = training::split_frames(frames, train.split, 7);
    const DipoleTrainingResult result = train_dipole_committee(frames, split, train);
    const DipoleCommittee fitted(result.parameters);
    double worst = 0.0;
    double largest = 0.0;
    for (const std::size_t i : split.test) {
        const DipolePrediction p = fitted.predict(frames[i].frame.system);
        worst = std::max(worst, (p.members.colwise() - *frames[i].frame.dipole).cwiseAbs().maxCoeff());
        largest = std::max(largest, frames[i].frame.dipole->cwiseAbs().maxCoeff());
    }
    INFO("worst member error " << worst << " of dipoles up to " << largest);
    CHECK(worst / largest <= 1e-10);
    CHECK(result.report.test.component_rmse <= 1e-9 * largest);
    CHECK(result.report.test.frames == split.test.size());

    chorus::test::check_contraction_fit_refused(train, "dipole training",
                                                [&](const training::TrainSettings& changed) {
                                                    return train_dipole_committee(frames, split, changed);
                                                });
}

TEST_CASE("dipole model files round-trip and refuse edits", "[dipole]") {
    const DipoleCommitteeParameters parameters = random_dipole_parameters(4, 9, alpha);
    const nlohmann::json document = dipole_committee_to_json(parameters);
    CHECK(document["kind"] == "linear-dipole-committee");
    const DipoleCommitteeParameters read = dipole_committee_parameters_from_json(document, "d.json");
    REQUIRE(read.weights.size() == 4);
    for (std::size_t k = 0; k < 4; ++k) {
        CHECK(read.weights[k] == parameters.weights[k]);
    }
    CHECK(read.alpha == parameters.alpha);

    nlohmann::json edited = document;
    edited["alpha"] = 2.0;
    CHECK_THROWS_WITH(dipole_committee_parameters_from_json(edited, "d.json"), Contains("checksum mismatch"));
    edited = document;
    edited["kind"] = "linear-committee";
    CHECK_THROWS_AS(dipole_committee_parameters_from_json(edited, "d.json"), chorus::ConfigError);
    edited = document;
    edited["format_version"] = 2;
    CHECK_THROWS_WITH(dipole_committee_parameters_from_json(edited, "d.json"), Contains("format_version"));

    features::FeatureSettings no_lambda = small_dipole_features();
    no_lambda.lambda_soap_lambdas = {2};
    DipoleCommitteeParameters bad = parameters;
    bad.features = no_lambda;
    CHECK_THROWS_WITH(DipoleCommittee(bad), Contains("lambdas"));
}

// load_dipole_committee reads through the same document reader as load_model: every unreadable
// file is refused with a typed error naming the path, and a saved file loads back.
TEST_CASE("dipole model files: save, load, and unreadable files name the path", "[dipole]") {
    const std::filesystem::path directory = std::filesystem::temp_directory_path();
    const std::filesystem::path path = directory / ("chorus-dipole-" + std::to_string(::getpid()) + ".json");
    const DipoleCommitteeParameters parameters = random_dipole_parameters(3, 5, alpha);
    save_dipole_committee(parameters, path);
    {
        std::ifstream file(path, std::ios::binary);
        std::ostringstream text;
        text << file.rdbuf();
        CHECK(text.str() == dipole_committee_to_json(parameters).dump(1) + "\n");
    }
    CHECK(load_dipole_committee(path)->committee_size() == 3);

    std::ofstream(path, std::ios::trunc) << "{\"kind\": \"linear-dipole-committee\",, }";
    CHECK_THROWS_AS(load_dipole_committee(path), chorus::ConfigError);
    CHECK_THROWS_WITH(load_dipole_committee(path), Contains("dipole model file '" + path.string() + "'") &&
                                                       Contains("not valid JSON") && Contains("at byte"));
    std::filesystem::remove(path);
    CHECK_THROWS_AS(load_dipole_committee(path), chorus::IoError);
    CHECK_THROWS_WITH(load_dipole_committee(path), Contains(path.string()) && Contains("No such file"));
    CHECK_THROWS_WITH(load_dipole_committee(directory), Contains("is a directory"));
    CHECK_THROWS_AS(save_dipole_committee(parameters, directory / "no-such-directory" / "d.json"),
                    chorus::IoError);
}
