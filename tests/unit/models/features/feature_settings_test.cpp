#include "chorus/models/features/feature_settings.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "chorus/error.hpp"
#include "chorus/models/features/feature_calculator.hpp"
#include "feature_test_support.hpp"

namespace {

using namespace chorus::models::features;
using nlohmann::json;

const json example = json::parse(R"({
    "cutoff": 5.0,
    "cutoff_function": {"type": "cosine", "width": 0.5},
    "radial_basis": {"type": "laplacian-eigenstate", "spline_accuracy": 1e-8},
    "species": [1, 8],
    "nu1": {"n_max": 8},
    "nu2": {"n_max": 8, "l_max": 6, "species_pairs": [[1, 8], [8, 8]]},
    "nu3": {"n_max": 2, "l_max": 2},
    "message_passing": {"n_max": 2, "l_max": 1},
    "lambda_soap": {"n_max": 4, "l_max": 3, "lambdas": [1, 2]}
})");

std::string error_of(json input) {
    try {
        feature_settings_from_json(input);
    } catch (const chorus::ConfigError& error) {
        return error.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("feature settings survive a JSON round trip", "[features][settings]") {
    const FeatureSettings settings = feature_settings_from_json(example);
    CHECK(settings.cutoff == 5.0);
    CHECK(settings.species == std::vector<int>{1, 8});
    REQUIRE(settings.nu2);
    CHECK(settings.nu2->n_max == 8);
    CHECK(settings.nu2_species_pairs.size() == 2);
    CHECK(settings.interaction_range() == 10.0);
    CHECK(to_json(settings) == example);
    CHECK(feature_names(feature_settings_from_json(to_json(settings))) == feature_names(settings));
}

TEST_CASE("feature names are stable, documented strings in feature order", "[features][settings]") {
    auto settings = chorus::test::all_orders();
    settings.nu3 = OrderTruncation{2, 2};
    const FeatureCalculator calculator(settings);
    const auto& names = calculator.names();
    REQUIRE(names.size() == calculator.size());
    // species order O (8), H (1) as listed; blocks ν1, ν2, ν3, [1←1]
    CHECK(names.front() == "nu1:O:n=0");
    CHECK(names[3] == "nu1:H:n=0");
    CHECK(names[6] == "ps:O-O:n1=0:n2=0:l=0");
    CHECK(names[7] == "ps:O-O:n1=0:n2=1:l=0");
    CHECK(std::count_if(names.begin(), names.end(),
                        [](const auto& n) { return n.rfind("ps:H-O", 0) == 0; }) == 0);
    // ν = 2: per (a ≤ b, l): 4·5/2 for a = b, 16 for a ≠ b; 5 values of l
    CHECK(std::count_if(names.begin(), names.end(), [](const auto& n) { return n.rfind("ps:", 0) == 0; }) ==
          5 * (10 + 16 + 10));
    CHECK(std::find(names.begin(), names.end(), "bs:O-H-H:n=1,0,1:l=0,2,2") != names.end());
    CHECK(std::find(names.begin(), names.end(), "mp:H|O.H:n=1,0,1:l=1,0,1") != names.end());
    CHECK(names.back() == "mp:H|H.H:n=1,1,1:l=1,1,0");
    // the selection of species pairs removes exactly the O-O block
    settings.nu2_species_pairs = {{1, 8}, {1, 1}};
    const auto selected = feature_names(settings);
    CHECK(names.size() - selected.size() == 5 * 10);
    CHECK(std::none_of(selected.begin(), selected.end(),
                       [](const auto& n) { return n.rfind("ps:O-O", 0) == 0; }));
    CHECK(equivariant_feature_names(settings, 1).front() == "ls:λ=1:O-O:n1=0:n2=0:l1=0:l2=1");
}

TEST_CASE("feature settings reject bad values key by key", "[features][settings]") {
    auto with = [](const std::string& pointer, json value) {
        json copy = example;
        copy[json::json_pointer(pointer)] = std::move(value);
        return copy;
    };
    CHECK_THAT(error_of(with("/cutoff", -1.0)), Catch::Contains("`cutoff`") && Catch::Contains("-1"));
    CHECK_THAT(error_of(with("/cutoff", "5")), Catch::Contains("must be a number"));
    CHECK_THAT(error_of(with("/nu2/l_max", 40)), Catch::Contains("nu2.l_max") && Catch::Contains("40"));
    CHECK_THAT(error_of(with("/nu2/n_max", 2.5)), Catch::Contains("nu2.n_max") && Catch::Contains("integer"));
    CHECK_THAT(error_of(with("/nu3/lmax", 2)),
               Catch::Contains("nu3.lmax") && Catch::Contains("not a known key"));
    CHECK_THAT(error_of(with("/species", json::array({1, 1}))), Catch::Contains("twice"));
    CHECK_THAT(error_of(with("/species", json::array({1, 200}))), Catch::Contains("200"));
    CHECK_THAT(error_of(with("/nu2/species_pairs", json::array({json::array({1, 6})}))),
               Catch::Contains("6"));
    CHECK_THAT(error_of(with("/cutoff_function/width", 6.0)), Catch::Contains("width"));
    CHECK_THAT(error_of(with("/cutoff_function/type", "gaussian")), Catch::Contains("cosine"));
    CHECK_THAT(error_of(with("/lambda_soap/lambdas", json::array({7}))), Catch::Contains("λ = 7"));
    json nothing = {{"cutoff", 4.0}, {"species", {1}}};
    CHECK_THAT(error_of(nothing), Catch::Contains("enable at least one order"));
    json missing = example;
    missing.erase("cutoff");
    CHECK_THAT(error_of(missing), Catch::Contains("`cutoff` is missing"));
}
