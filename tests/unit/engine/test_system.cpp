#include <cmath>
#include <limits>
#include <string>

#include <catch2/catch.hpp>

#include "chorus/engine/system.hpp"
#include "chorus/error.hpp"

using Catch::Matchers::Contains;
using chorus::InputError;
using chorus::engine::System;

namespace {

Eigen::Matrix3Xd two_atoms() {
    Eigen::Matrix3Xd positions(3, 2);
    positions << 0.0, 1.0, 0.0, 0.5, 0.0, 0.25;
    return positions;
}

}  // namespace

TEST_CASE("a valid system keeps what it was given", "[system]") {
    Eigen::Matrix3d cell;
    cell << 4.0, 1.0, 0.5, 0.0, 5.0, 0.3, 0.0, 0.0, 6.0;
    const System system({18, 18}, two_atoms(), cell, true);
    CHECK(system.size() == 2);
    CHECK(system.atomic_numbers()[1] == 18);
    CHECK(system.positions() == two_atoms());
    CHECK(system.periodic());
    CHECK(system.volume() == Approx(120.0).epsilon(1e-14));
}

TEST_CASE("a left-handed cell is valid and has a positive volume", "[system]") {
    Eigen::Matrix3d cell = Eigen::Matrix3d::Identity() * 3.0;
    cell.col(2) *= -1.0;
    const System system({1, 1}, two_atoms(), cell, true);
    CHECK(system.volume() == Approx(27.0));
}

TEST_CASE("a molecule ignores its (possibly zero) cell", "[system]") {
    const System system({1, 8}, two_atoms(), Eigen::Matrix3d::Zero(), false);
    CHECK_FALSE(system.periodic());
}

TEST_CASE("mismatched sizes are rejected with both counts", "[system]") {
    CHECK_THROWS_WITH(System({1, 1, 1}, two_atoms(), Eigen::Matrix3d::Identity(), false),
                      Contains("3 atomic numbers but 2 positions"));
    System system({1, 1}, two_atoms(), Eigen::Matrix3d::Identity(), false);
    CHECK_THROWS_AS(system.update(Eigen::Matrix3Xd::Zero(3, 5), Eigen::Matrix3d::Identity(), false),
                    InputError);
}

TEST_CASE("non-finite coordinates name the atom and the component", "[system]") {
    Eigen::Matrix3Xd positions = two_atoms();
    positions(2, 1) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_AS(System({1, 1}, positions, Eigen::Matrix3d::Identity(), false), InputError);
    CHECK_THROWS_WITH(System({1, 1}, positions, Eigen::Matrix3d::Identity(), false),
                      Contains("atom 1") && Contains("z component"));
    positions(2, 1) = 0.0;
    positions(0, 0) = std::numeric_limits<double>::infinity();
    CHECK_THROWS_WITH(System({1, 1}, positions, Eigen::Matrix3d::Identity(), false),
                      Contains("atom 0") && Contains("x component"));
}

TEST_CASE("singular and near-singular periodic cells are rejected with advice", "[system]") {
    Eigen::Matrix3d flat;
    flat << 5.0, 0.0, 5.0, 0.0, 5.0, 5.0, 0.0, 0.0, 0.0;
    CHECK_THROWS_WITH(System({1, 1}, two_atoms(), flat, true),
                      Contains("periodic cell is singular (det h = ") && Contains("--pbc no"));
    CHECK_THROWS_AS(System({1, 1}, two_atoms(), Eigen::Matrix3d::Zero(), true), InputError);

    Eigen::Matrix3d nearly_flat = Eigen::Matrix3d::Identity() * 10.0;
    nearly_flat(2, 2) = 1e-11;
    CHECK_THROWS_AS(System({1, 1}, two_atoms(), nearly_flat, true), InputError);

    Eigen::Matrix3d bad = Eigen::Matrix3d::Identity();
    bad(1, 2) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH(System({1, 1}, two_atoms(), bad, true), Contains("cell vector 2"));
}

TEST_CASE("a rejected update leaves the previous coordinates", "[system]") {
    System system({1, 1}, two_atoms(), Eigen::Matrix3d::Identity() * 3.0, true);
    Eigen::Matrix3Xd moved = two_atoms() * 2.0;
    CHECK_THROWS_AS(system.update(moved, Eigen::Matrix3d::Zero(), true), InputError);
    CHECK(system.positions() == two_atoms());
    CHECK(system.cell() == Eigen::Matrix3d::Identity() * 3.0);
    system.update(moved, Eigen::Matrix3d::Zero(), false);
    CHECK(system.positions() == moved);
    CHECK_FALSE(system.periodic());
}
