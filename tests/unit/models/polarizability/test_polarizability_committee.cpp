// The polarizability committee (models/polarizability): the λ = 2 ↔ Cartesian map against the
// real harmonics, exact R α Rᵀ behaviour under rotation (and invariance under inversion), recovery
// of a synthetic λ = 0 + λ = 2 polarizability by training, the calibration rescaling, the model
// file's round trip and checks, and the extxyz `polarizability` key.
#include <cmath>
#include <filesystem>
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
#include "chorus/models/extxyz.hpp"
#include "chorus/models/features/spherical_harmonics.hpp"
#include "chorus/models/polarizability/polarizability_committee.hpp"
#include "chorus/models/polarizability/polarizability_training.hpp"

using Catch::Matchers::Contains;
using chorus::engine::System;
using namespace chorus::models::polarizability;
namespace features = chorus::models::features;
namespace training = chorus::models::training;

namespace {

features::FeatureSettings small_settings(int n_max = 3, int l_max = 2) {
    features::FeatureSettings s;
    s.cutoff = 4.0;
    s.cutoff_width = 1.0;
    s.species = {1, 8};
    s.lambda_soap = features::OrderTruncation{n_max, l_max};
    s.lambda_soap_lambdas = {2};
    return s;
}

PolarizabilityCommitteeParameters random_parameters(const features::FeatureSettings& settings,
                                                    std::size_t members, std::uint64_t seed) {
    std::mt19937_64 engine(seed);
    std::normal_distribution<double> normal(0.0, 1.0);
    const Eigen::Index row = polarizability_feature_counts(settings).row();
    PolarizabilityCommitteeParameters p;
    p.features = settings;
    for (std::size_t k = 0; k < members; ++k) {
        Eigen::MatrixXd w(2, row);
        for (Eigen::Index i = 0; i < w.size(); ++i) {
            w.data()[i] = normal(engine);
        }
        p.weights.push_back(w);
    }
    p.alpha = 1.3;
    p.alpha_isotropic = 0.7;
    return p;
}

System cluster(std::uint64_t seed) {
    std::mt19937_64 engine(seed);
    return chorus::test::random_water(2, engine, false);
}

System transformed(const System& system, const Eigen::Matrix3d& map, const Eigen::Vector3d& shift) {
    const Eigen::Matrix3Xd positions = (map * system.positions()).colwise() + shift;
    return System(system.atomic_numbers(), positions, Eigen::Matrix3d::Zero(), false);
}

// A random part of a cluster: its first `molecules` molecules, atoms displaced. With equal
// compositions and rigid molecules the summed λ = 0 features are nearly collinear with the atom
// counts, and the normal equations square that conditioning; varied clusters let the fit be
// checked to ~1e-10.
System varied(const System& system, Eigen::Index molecules, std::uint64_t seed) {
    std::mt19937_64 engine(seed);
    std::normal_distribution<double> normal(0.0, 0.2);
    Eigen::Matrix3Xd positions = system.positions().leftCols(3 * molecules);
    for (Eigen::Index i = 0; i < positions.size(); ++i) {
        positions.data()[i] += normal(engine);
    }
    const std::vector<int> numbers(system.atomic_numbers().begin(),
                                   system.atomic_numbers().begin() + 3 * molecules);
    return System(numbers, positions, Eigen::Matrix3d::Zero(), false);
}

double largest_element(const PolarizabilityPrediction& p) {
    double largest = p.mean.cwiseAbs().maxCoeff();
    for (const auto& m : p.members) {
        largest = std::max(largest, m.cwiseAbs().maxCoeff());
    }
    return largest;
}

}  // namespace

TEST_CASE("the λ = 2 basis is the real harmonics' quadratic forms, orthonormal", "[polarizability]") {
    const features::SphericalHarmonics harmonics(2);
    std::vector<double> values(harmonics.size());
    std::mt19937_64 engine(3);
    std::normal_distribution<double> normal(0.0, 1.0);
    // Y_2m(n̂) = k n̂ᵀ T_m n̂ with one k for all m: √(15/(8π)) for orthonormal harmonics.
    const double k = std::sqrt(15.0 / (8.0 * std::acos(-1.0)));
    for (int trial = 0; trial < 20; ++trial) {
        const Eigen::Vector3d n =
            Eigen::Vector3d(normal(engine), normal(engine), normal(engine)).normalized();
        harmonics.compute({n.x(), n.y(), n.z()}, values);
        for (int m = -2; m <= 2; ++m) {
            const Eigen::Matrix3d& t = lambda2_basis()[static_cast<std::size_t>(m + 2)];
            CHECK(values[features::lm_index(2, m)] == Approx(k * n.dot(t * n)).margin(1e-14));
        }
    }
    for (int a = 0; a < 5; ++a) {
        const Eigen::Matrix3d& t = lambda2_basis()[static_cast<std::size_t>(a)];
        CHECK(std::abs(t.trace()) <= 1e-15);
        CHECK((t - t.transpose()).norm() == 0.0);
        for (int b = 0; b < 5; ++b) {
            const double product = t.cwiseProduct(lambda2_basis()[static_cast<std::size_t>(b)]).sum();
            CHECK(product == Approx(a == b ? 1.0 : 0.0).margin(1e-15));
        }
    }
    Eigen::Matrix3d symmetric;
    symmetric << 1.0, 0.2, -0.3, 0.2, 2.0, 0.7, -0.3, 0.7, -0.5;
    CHECK((tensor_from_coordinates(irreducible_coordinates(symmetric)) - symmetric).cwiseAbs().maxCoeff() <=
          1e-15);
}

TEST_CASE("polarizability prediction transforms as R α Rᵀ and is even under inversion", "[polarizability]") {
    const PolarizabilityCommittee committee(random_parameters(small_settings(), 4, 11));
    const System system = cluster(3);
    const PolarizabilityPrediction before = committee.predict(system);
    const double scale = largest_element(before);
    REQUIRE(scale > 1e-3);
    // A non-trivial anisotropic part, or the test would only check the isotropic one.
    REQUIRE(before.coordinates.tail<5>().norm() > 1e-3 * scale);
    CHECK((before.mean - before.mean.transpose()).cwiseAbs().maxCoeff() <= 1e-14 * scale);
    for (const double angle : {0.4, 1.1, 2.9}) {
        const Eigen::Matrix3d rotation =
            Eigen::AngleAxisd(angle, Eigen::Vector3d(0.3, -0.8, 0.5 + angle).normalized()).toRotationMatrix();
        const PolarizabilityPrediction rotated =
            committee.predict(transformed(system, rotation, Eigen::Vector3d(1.5, -2.0, 0.7)));
        CHECK((rotated.mean - rotation * before.mean * rotation.transpose()).cwiseAbs().maxCoeff() <=
              1e-10 * scale);
        for (std::size_t k = 0; k < before.members.size(); ++k) {
            CHECK((rotated.members[k] - rotation * before.members[k] * rotation.transpose())
                      .cwiseAbs()
                      .maxCoeff() <= 1e-10 * scale);
        }
    }
    const PolarizabilityPrediction inverted =
        committee.predict(transformed(system, -Eigen::Matrix3d::Identity(), Eigen::Vector3d::Zero()));
    CHECK((inverted.mean - before.mean).cwiseAbs().maxCoeff() <= 1e-10 * scale);
}

TEST_CASE("calibration rescales the spread of the polarizability members", "[polarizability]") {
    Eigen::Matrix<double, 6, Eigen::Dynamic> raw(6, 4);
    raw.setRandom();
    const PolarizabilityPrediction one = summarise_polarizability_members(raw, 1.0, 1.0);
    const PolarizabilityPrediction two = summarise_polarizability_members(raw, 2.0, 2.0);
    const PolarizabilityPrediction mixed = summarise_polarizability_members(raw, 3.0, 2.0);
    CHECK(mixed.coordinate_sigma[0] == Approx(3.0 * one.coordinate_sigma[0]));
    CHECK((mixed.coordinate_sigma.tail<5>() - two.coordinate_sigma.tail<5>()).cwiseAbs().maxCoeff() <= 1e-14);
    CHECK((two.mean - one.mean).cwiseAbs().maxCoeff() <= 1e-15);
    CHECK((two.sigma - 2.0 * one.sigma).cwiseAbs().maxCoeff() <= 1e-14);
    CHECK((two.coordinate_sigma - 2.0 * one.coordinate_sigma).cwiseAbs().maxCoeff() <= 1e-14);
    // The isotropic part of the mean is the mean of row 0.
    CHECK(one.mean.trace() / 3.0 == Approx(raw.row(0).mean()));
    double spread = 0.0;
    for (Eigen::Index k = 0; k < 4; ++k) {
        spread += std::pow(raw(0, k) - raw.row(0).mean(), 2);
    }
    CHECK(one.coordinate_sigma[0] == Approx(std::sqrt(3.0 * spread / 3.0)));
}

TEST_CASE("training recovers a polarizability built from λ = 0 and λ = 2 features", "[polarizability]") {
    const features::FeatureSettings settings = small_settings(1, 1);
    const PolarizabilityCommittee truth(random_parameters(settings, 2, 5));
    std::vector<training::LabelledFrame> frames;
    // Enough structures that every member (half of the training structures) sees many more
    // isotropic rows than the 2 · (1 + 6) isotropic weights.
    for (std::size_t i = 0; i < 240; ++i) {
        chorus::models::Frame frame{
            varied(cluster(100 + i), 1 + static_cast<Eigen::Index>(i % 8), i), {}, {}, {}, {}, {}, 0};
        frame.polarizability = truth.predict(frame.system).members[0];
        frame.info["source"] = i % 2 == 0 ? "a" : "b";
        frames.push_back({std::move(frame), 0, i});
    }
    training::TrainSettings train = training::default_train_settings();
    train.features = settings;
    train.members = 4;
    train.grid = {1e-20, 1e-18, 2};
    const training::DataSplit split = training::split_frames(frames, train.split, 7);
    const PolarizabilityTrainingResult result = train_polarizability_committee(frames, split, train);
    const PolarizabilityCommittee fitted(result.parameters);
    // The λ = 2 part is recovered to rounding. The isotropic part has one row per structure, and the
    // summed λ = 0 features of water clusters have a condition number ~1e4 (singular values of the
    // rows 224 … 0.016 for these settings), which the normal equations square: ~1e-8 of its size.
    double worst_anisotropic = 0.0;
    double worst_isotropic = 0.0;
    double largest = 0.0;
    for (const std::size_t i : split.test) {
        // Uncalibrated, so that α (fitted to round-off) does not enter.
        const PolarizabilityPrediction p = fitted.predict_uncalibrated(frames[i].frame.system);
        const Vector6d reference = irreducible_coordinates(*frames[i].frame.polarizability);
        for (const auto& member : p.members) {
            const Vector6d difference = irreducible_coordinates(member) - reference;
            worst_isotropic = std::max(worst_isotropic, std::abs(difference[0]));
            worst_anisotropic = std::max(worst_anisotropic, difference.tail<5>().cwiseAbs().maxCoeff());
        }
        largest = std::max(largest, reference.cwiseAbs().maxCoeff());
    }
    INFO("worst member error: isotropic " << worst_isotropic << ", λ = 2 " << worst_anisotropic
                                          << ", of coordinates up to " << largest);
    CHECK(worst_anisotropic / largest <= 1e-12);
    CHECK(worst_isotropic / largest <= 1e-8);
    CHECK(result.report.test.anisotropic_rmse <= 1e-12 * largest);
    CHECK(result.report.test.frames == split.test.size());

    frames[split.train.front()].frame.polarizability.reset();
    CHECK_THROWS_WITH(train_polarizability_committee(frames, split, train),
                      Contains("no `polarizability` key"));

    chorus::test::check_contraction_fit_refused(
        train, "polarizability training", [&](const training::TrainSettings& changed) {
            return train_polarizability_committee(frames, split, changed);
        });
}

TEST_CASE("polarizability model files round-trip and refuse edits", "[polarizability]") {
    const PolarizabilityCommitteeParameters parameters = random_parameters(small_settings(), 4, 9);
    const nlohmann::json document = polarizability_committee_to_json(parameters);
    CHECK(document["kind"] == "linear-polarizability-committee");
    CHECK(document["units"]["polarizability"] == "e*angstrom^2/V");
    const PolarizabilityCommitteeParameters read =
        polarizability_committee_parameters_from_json(document, "p.json");
    REQUIRE(read.weights.size() == 4);
    for (std::size_t k = 0; k < 4; ++k) {
        CHECK(read.weights[k] == parameters.weights[k]);
    }
    CHECK(read.alpha == parameters.alpha);
    CHECK(read.alpha_isotropic == parameters.alpha_isotropic);

    nlohmann::json edited = document;
    edited["alpha"] = 2.0;
    CHECK_THROWS_WITH(polarizability_committee_parameters_from_json(edited, "p.json"),
                      Contains("checksum mismatch"));
    edited = document;
    edited["alpha_isotropic"] = 2.0;
    CHECK_THROWS_WITH(polarizability_committee_parameters_from_json(edited, "p.json"),
                      Contains("checksum mismatch"));
    edited = document;
    edited["kind"] = "linear-dipole-committee";
    CHECK_THROWS_AS(polarizability_committee_parameters_from_json(edited, "p.json"), chorus::ConfigError);

    const std::filesystem::path path = std::filesystem::temp_directory_path() /
                                       ("chorus-polarizability-" + std::to_string(::getpid()) + ".json");
    save_polarizability_committee(parameters, path);
    const auto loaded = load_polarizability_committee(path);
    std::filesystem::remove(path);
    const System system = cluster(4);
    const PolarizabilityPrediction a = PolarizabilityCommittee(parameters).predict(system);
    const PolarizabilityPrediction b = loaded->predict(system);
    CHECK(a.mean == b.mean);
    CHECK(a.sigma == b.sigma);

    PolarizabilityCommitteeParameters bad = parameters;
    bad.features.lambda_soap_lambdas = {1};
    CHECK_THROWS_WITH(PolarizabilityCommittee(bad), Contains("lambdas"));
}

TEST_CASE("extxyz reads and writes the polarizability row by row", "[polarizability][extxyz]") {
    std::istringstream text(
        "1\npolarizability=\"1 2 3 4 5 6 7 8 9\" pbc=\"F F F\"\nH 0 0 0\n"
        "1\npolarizability=\"1 2 3\" pbc=\"F F F\"\nH 0 0 0\n");
    chorus::models::ExtxyzReader reader(text, "p.xyz");
    const auto frame = reader.next();
    REQUIRE(frame);
    REQUIRE(frame->polarizability);
    CHECK((*frame->polarizability)(0, 1) == 2.0);
    CHECK((*frame->polarizability)(1, 0) == 4.0);
    CHECK(frame->info.count("polarizability") == 0);
    CHECK_THROWS_WITH(reader.next(), Contains("expected 9 numbers") && Contains("polarizability"));

    std::ostringstream out;
    chorus::models::write_extxyz(out, *frame);
    std::istringstream back(out.str());
    chorus::models::ExtxyzReader again(back, "back.xyz");
    const auto reread = again.next();
    REQUIRE(reread);
    REQUIRE(reread->polarizability);
    CHECK(*reread->polarizability == *frame->polarizability);
}
