#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "chorus/error.hpp"
#include "species.hpp"

using chorus::ConfigError;
using chorus::InputError;
using namespace chorus::server;
using Catch::Matchers::Contains;

TEST_CASE("species patterns accept commas and spaces", "[server][species]") {
    CHECK(parse_species_pattern("O,H,H") == std::vector<int>{8, 1, 1});
    CHECK(parse_species_pattern("O H H") == std::vector<int>{8, 1, 1});
    CHECK(parse_species_pattern(" O, H ,H, ") == std::vector<int>{8, 1, 1});
    CHECK(parse_species_pattern("Ar") == std::vector<int>{18});
}

TEST_CASE("bad species patterns are configuration errors naming the symbol", "[server][species]") {
    CHECK_THROWS_WITH(parse_species_pattern("O,h,H"), Contains("'h' is not an element symbol"));
    CHECK_THROWS_AS(parse_species_pattern(""), ConfigError);
    CHECK_THROWS_AS(parse_species_pattern(" , "), ConfigError);
}

TEST_CASE("a pattern repeats over the atoms; the atom count must be a multiple", "[server][species]") {
    const std::vector<int> water{8, 1, 1};
    CHECK(expand_species_pattern(water, 6) == std::vector<int>{8, 1, 1, 8, 1, 1});
    CHECK(expand_species_pattern(std::vector<int>{0}, 3) == std::vector<int>{0, 0, 0});
    CHECK_THROWS_AS(expand_species_pattern(water, 7), InputError);
    CHECK_THROWS_WITH(expand_species_pattern(water, 7),
                      Contains("7 atoms") && Contains("3 species") && Contains("O, H, H"));
}

TEST_CASE("the pattern is checked against the model's species at start-up", "[server][species]") {
    const std::vector<int> water_model{1, 8};
    const std::vector<int> any_species{};
    SECTION("no pattern and a model of any species: atomic number 0 everywhere") {
        CHECK(resolve_species_pattern({}, any_species) == std::vector<int>{0});
    }
    SECTION("no pattern and a model that needs species") {
        CHECK_THROWS_AS(resolve_species_pattern({}, water_model), ConfigError);
        CHECK_THROWS_WITH(resolve_species_pattern({}, water_model),
                          Contains("this model needs --species; it knows H, O"));
    }
    SECTION("a pattern the model knows") {
        const std::vector<int> pattern{8, 1, 1};
        CHECK(resolve_species_pattern(pattern, water_model) == pattern);
        CHECK(resolve_species_pattern(pattern, any_species) == pattern);
    }
    SECTION("a species the model does not know") {
        const std::vector<int> pattern{8, 1, 6};
        CHECK_THROWS_WITH(resolve_species_pattern(pattern, water_model),
                          Contains("names C") && Contains("it knows H, O"));
    }
}
