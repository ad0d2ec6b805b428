#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include "chorus/engine/elements.hpp"
#include "chorus/error.hpp"
#include "test_support.hpp"

using Catch::Matchers::Contains;
using chorus::InputError;
using chorus::engine::atomic_number;
using chorus::engine::element_symbol;
using chorus::engine::find_atomic_number;
using chorus::engine::max_atomic_number;

TEST_CASE("the periodic table matches ASE's, symbol for symbol", "[elements]") {
    // elements.txt is ase.data.chemical_symbols, written by tests/data/extxyz/make_reference.py.
    std::ifstream ase_symbols(chorus::test::data_path("extxyz/elements.txt"));
    REQUIRE(ase_symbols);
    std::string symbol;
    int number = 0;
    while (std::getline(ase_symbols, symbol)) {
        INFO("atomic number " << number);
        CHECK(element_symbol(number) == symbol);
        CHECK(atomic_number(symbol) == number);
        ++number;
    }
    CHECK(number == max_atomic_number + 1);
}

TEST_CASE("X is the dummy atom, 0", "[elements]") {
    CHECK(atomic_number("X") == 0);
    CHECK(element_symbol(0) == "X");
}

TEST_CASE("symbols are case-sensitive and exact", "[elements]") {
    CHECK(find_atomic_number("Cl") == 17);
    CHECK_FALSE(find_atomic_number("CL").has_value());
    CHECK_FALSE(find_atomic_number("cl").has_value());
    CHECK_FALSE(find_atomic_number("O ").has_value());
    CHECK_FALSE(find_atomic_number("").has_value());
    CHECK_FALSE(find_atomic_number("Uuo").has_value());  // Og's placeholder name, retired in 2016
}

TEST_CASE("an unknown symbol names itself and its close matches", "[elements]") {
    CHECK_THROWS_AS(atomic_number("CL"), InputError);
    CHECK_THROWS_WITH(atomic_number("CL"), Contains("'CL' is not an element symbol; did you mean Cl?"));
    CHECK_THROWS_WITH(atomic_number("he"), Contains("did you mean He?"));
    CHECK_THROWS_WITH(atomic_number("Cll"), Contains("did you mean Cl?"));
    CHECK_THROWS_WITH(atomic_number("Hx"), Contains("did you mean X, H, He, Ho, Hf, Hg or Hs?"));
    CHECK_THROWS_WITH(atomic_number("Water"),
                      Contains("'Water' is not an element symbol; write symbols as IUPAC does"));
    CHECK_THROWS_WITH(atomic_number(""), Contains("'' is not an element symbol"));
}

TEST_CASE("atomic numbers outside 0..118 are rejected", "[elements]") {
    CHECK(element_symbol(118) == "Og");
    CHECK_THROWS_WITH(element_symbol(119), Contains("atomic number 119 does not exist"));
    CHECK_THROWS_WITH(element_symbol(-1), Contains("atomic number -1 does not exist"));
}
