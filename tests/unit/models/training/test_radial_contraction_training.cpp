// `chorus train` with "contraction": "pca": the radial contraction is fitted on the TRAINING frames
// only, reported in one progress line, and written into the model's feature settings, so the model
// evaluates without data; the configuration key round-trips.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <oneapi/tbb/global_control.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../linear_committee_support.hpp"
#include "chorus/error.hpp"
#include "chorus/models/training/radial_contraction.hpp"
#include "chorus/models/training/train_committee.hpp"
#include "synthetic_frames.hpp"

using namespace chorus::models::training;

namespace {

std::vector<const chorus::engine::System*> systems_of(const std::vector<LabelledFrame>& frames,
                                                      const std::vector<std::size_t>& indices) {
    std::vector<const chorus::engine::System*> out;
    for (const std::size_t i : indices) {
        out.push_back(&frames[i].frame.system);
    }
    return out;
}

}  // namespace

TEST_CASE("train fits the radial contraction on the training frames and stores it in the model",
          "[training][train][contraction]") {
    const tbb::global_control one_thread(tbb::global_control::max_allowed_parallelism, 1);
    const nlohmann::json config = {{"features",
                                    {{"cutoff", 3.5},
                                     {"cutoff_function", {{"width", 1.0}}},
                                     {"radial_basis",
                                      {{"type", "smeared-laplacian-eigenstate"},
                                       {"smearing", 0.3},
                                       {"contraction", {{"fit", "pca"}, {"primitive_n_max", 7}}}}},
                                     {"nu1", {{"n_max", 3}}},
                                     {"nu2", {{"n_max", 3}, {"l_max", 2}}}}},
                                   {"committee", {{"members", 4}}},
                                   {"regulariser", {{"smallest", 1e-12}, {"largest", 1e-2}, {"points", 6}}}};
    TrainSettings settings = train_settings_from_json(config, "test.json");
    REQUIRE(settings.features.contraction_fit);
    CHECK(to_json(settings).at("features").at("radial_basis").at("contraction") == "pca");
    CHECK(train_settings_from_json(to_json(settings), "again").features.primitive_n_max == 7);
    settings.seed = 5;

    const auto frames = chorus::test::synthetic_frames(15, 9);
    const DataSplit split = split_frames(frames, settings.split, settings.seed);
    std::vector<std::string> lines;
    const TrainingResult result = train_linear_committee(
        frames, split, settings, [&](std::string_view line) { lines.emplace_back(line); });

    const auto& fitted = result.parameters.features;
    CHECK_FALSE(fitted.contraction_fit);
    REQUIRE(fitted.contraction.size() == 3);
    CHECK(std::count_if(lines.begin(), lines.end(), [](const std::string& line) {
              return line.find("radial contraction") != std::string::npos &&
                     line.find("retained variance") != std::string::npos;
          }) == 1);

    // Exactly the fit on the training frames, and not the one that would have seen the others.
    auto pending = settings.features;
    pending.species = fitted.species;
    const auto train_fit = fit_radial_contraction(pending, systems_of(frames, split.train));
    CHECK(train_fit.contraction == fitted.contraction);
    std::vector<std::size_t> everything(frames.size());
    std::iota(everything.begin(), everything.end(), 0);
    CHECK(fit_radial_contraction(pending, systems_of(frames, everything)).contraction != fitted.contraction);

    // The model carries its basis: it evaluates from its settings alone, after a JSON trip.
    auto parameters = result.parameters;
    parameters.features = chorus::models::features::feature_settings_from_json(
        nlohmann::json::parse(chorus::models::features::to_json(fitted).dump()));
    const chorus::models::LinearCommittee reloaded(parameters);
    const chorus::models::LinearCommittee model(result.parameters);
    chorus::engine::CommitteeResult a, b;
    model.evaluate(frames[0].frame.system, {}, a);
    reloaded.evaluate(frames[0].frame.system, {}, b);
    CHECK(a.energy == b.energy);
    CHECK(std::isfinite(a.energy));
}
