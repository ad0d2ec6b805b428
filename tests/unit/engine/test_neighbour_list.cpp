// The cell-binned list against a brute-force O(N² × images) reference that shares none of its
// ideas: no wrapping, no lattice reduction, no bins. For every pair it scans every image shift
// that the pair's fractional separation allows, and keeps those within the cutoff.
#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include <Eigen/LU>
#include <catch2/catch.hpp>

#include "chorus/engine/neighbour_list.hpp"
#include "chorus/engine/system.hpp"
#include "chorus/error.hpp"

using chorus::engine::Neighbour;
using chorus::engine::NeighbourList;
using chorus::engine::System;

namespace {

using Lists = std::vector<std::vector<Neighbour>>;

Lists brute_force(const System& system, double cutoff) {
    const auto& positions = system.positions();
    const auto n = static_cast<int>(system.size());
    Lists lists(system.size());
    const Eigen::Matrix3d cell = system.cell();
    const Eigen::Matrix3d inverse =
        system.periodic() ? Eigen::Matrix3d(cell.inverse()) : Eigen::Matrix3d::Zero();
    for (int i = 0; i < n; ++i) {
        for (int j = 0; j < n; ++j) {
            const Eigen::Vector3d separation = positions.col(j) - positions.col(i);
            Eigen::Vector3i low = Eigen::Vector3i::Zero();
            Eigen::Vector3i high = Eigen::Vector3i::Zero();
            if (system.periodic()) {
                const Eigen::Vector3d fractional = inverse * separation;
                for (int a = 0; a < 3; ++a) {
                    // |fractional_a + n_a| ≤ r_c / d_a with 1/d_a = |row a of h⁻¹|
                    const double span = cutoff * inverse.row(a).norm();
                    low[a] = static_cast<int>(std::floor(-fractional[a] - span));
                    high[a] = static_cast<int>(std::ceil(-fractional[a] + span));
                }
            }
            for (int x = low[0]; x <= high[0]; ++x) {
                for (int y = low[1]; y <= high[1]; ++y) {
                    for (int z = low[2]; z <= high[2]; ++z) {
                        if (i == j && x == 0 && y == 0 && z == 0) {
                            continue;
                        }
                        const Eigen::Vector3d vector = separation + cell * Eigen::Vector3d(x, y, z);
                        if (system.periodic() || (x == 0 && y == 0 && z == 0)) {
                            if (vector.norm() < cutoff) {
                                lists[static_cast<std::size_t>(i)].push_back({j, vector, vector.norm()});
                            }
                        }
                    }
                }
            }
        }
    }
    return lists;
}

// Same multiset of (j, r_ij) for every centre, matched greedily with a rounding tolerance.
void check_same_pairs(const NeighbourList& list, const Lists& expected) {
    REQUIRE(list.centres() == expected.size());
    std::size_t total = 0;
    for (std::size_t centre = 0; centre < expected.size(); ++centre) {
        const auto found = list.neighbours(centre);
        INFO("centre " << centre);
        REQUIRE(found.size() == expected[centre].size());
        std::vector<bool> used(found.size(), false);
        for (const Neighbour& reference : expected[centre]) {
            bool matched = false;
            for (std::size_t k = 0; k < found.size() && !matched; ++k) {
                if (!used[k] && found[k].index == reference.index &&
                    (found[k].vector - reference.vector).norm() < 1e-9) {
                    used[k] = true;
                    matched = true;
                    CHECK(found[k].distance == Approx(reference.distance).epsilon(1e-12));
                }
            }
            INFO("neighbour " << reference.index << " at " << reference.vector.transpose());
            CHECK(matched);
        }
        total += found.size();
    }
    CHECK(list.pairs() == total);
}

Eigen::Matrix3Xd random_fractional(std::mt19937& rng, int atoms, double low, double high) {
    std::uniform_real_distribution<double> uniform(low, high);
    Eigen::Matrix3Xd fractional(3, atoms);
    for (int atom = 0; atom < atoms; ++atom) {
        for (int a = 0; a < 3; ++a) {
            fractional(a, atom) = uniform(rng);
        }
    }
    return fractional;
}

System periodic_system(const Eigen::Matrix3d& cell, const Eigen::Matrix3Xd& fractional) {
    return System(std::vector<int>(static_cast<std::size_t>(fractional.cols()), 18), cell * fractional, cell,
                  true);
}

Eigen::Matrix3d cell_from_rows(std::initializer_list<double> values) {
    Eigen::Matrix<double, 3, 3, Eigen::RowMajor> rows;
    auto it = values.begin();
    for (int r = 0; r < 3; ++r) {
        for (int c = 0; c < 3; ++c) {
            rows(r, c) = *it++;
        }
    }
    return rows.transpose();  // lattice vectors as columns
}

}  // namespace

TEST_CASE("simple cubic lattice: 6 first and 12 second neighbours", "[neighbours]") {
    const System system({18}, Eigen::Matrix3Xd::Zero(3, 1), Eigen::Matrix3d::Identity() * 2.0, true);
    NeighbourList list(3.0);  // 2 and 2√2 inside, 2√3 outside
    list.build(system);
    REQUIRE(list.pairs() == 18);
    int first = 0;
    for (const Neighbour& neighbour : list.neighbours(0)) {
        CHECK(neighbour.index == 0);
        first += std::abs(neighbour.distance - 2.0) < 1e-12 ? 1 : 0;
    }
    CHECK(first == 6);
}

TEST_CASE("random triclinic cells match brute force", "[neighbours]") {
    std::mt19937 rng(20261123);
    struct Case {
        const char* name;
        Eigen::Matrix3d cell;
        int atoms;
        double cutoff;
        double low, high;  // fractional coordinate range: outside [0, 1) means unwrapped
    };
    const std::vector<Case> cases = {
        {"orthorhombic, large", cell_from_rows({12.0, 0, 0, 0, 13.0, 0, 0, 0, 14.0}), 150, 3.5, 0.0, 1.0},
        {"triclinic, wrapped", cell_from_rows({10.0, 0, 0, 3.0, 9.0, 0, -2.0, 2.5, 11.0}), 120, 4.0, 0.0,
         1.0},
        {"triclinic, unwrapped", cell_from_rows({10.0, 0, 0, 3.0, 9.0, 0, -2.0, 2.5, 11.0}), 120, 4.0, -2.5,
         3.5},
        {"strongly skewed", cell_from_rows({6.0, 0, 0, 17.0, 5.0, 0, -23.0, 9.0, 7.0}), 60, 3.0, -1.0, 2.0},
        {"thinner than 2 r_c", cell_from_rows({4.0, 0, 0, 1.0, 5.0, 0, 0.5, -1.0, 4.5}), 10, 6.0, 0.0, 1.0},
        {"smaller than r_c, unwrapped", cell_from_rows({2.5, 0, 0, 0.7, 2.2, 0, 0.3, 0.4, 2.8}), 3, 5.5, -4.0,
         4.0},
        {"one thin direction", cell_from_rows({30.0, 0, 0, 0, 30.0, 0, 0, 0, 1.5}), 80, 4.0, 0.0, 1.0},
        {"left-handed", cell_from_rows({8.0, 0, 0, 0, 9.0, 0, 1.0, 0, -8.5}), 60, 4.0, 0.0, 1.0},
    };
    for (const Case& c : cases) {
        SECTION(c.name) {
            const System system = periodic_system(c.cell, random_fractional(rng, c.atoms, c.low, c.high));
            NeighbourList list(c.cutoff);
            list.build(system);
            CHECK(list.pairs() > 0);
            check_same_pairs(list, brute_force(system, c.cutoff));
        }
    }
}

TEST_CASE("a single atom in a cell smaller than the cutoff sees its own images only", "[neighbours]") {
    const Eigen::Matrix3d cell = cell_from_rows({1.9, 0, 0, 0.6, 2.1, 0, -0.4, 0.5, 1.7});
    Eigen::Matrix3Xd position(3, 1);
    position << 15.3, -7.1, 2.2;  // far outside the cell
    const System system({18}, position, cell, true);
    NeighbourList list(4.2);
    list.build(system);
    const auto expected = brute_force(system, 4.2);
    check_same_pairs(list, expected);
    // Every image vector is a lattice vector, and they come in ± pairs.
    const Eigen::Matrix3d inverse = cell.inverse();
    Eigen::Vector3d sum = Eigen::Vector3d::Zero();
    for (const Neighbour& neighbour : list.neighbours(0)) {
        const Eigen::Vector3d shift = inverse * neighbour.vector;
        CHECK((shift - shift.array().round().matrix()).norm() < 1e-9);
        CHECK(neighbour.distance > 0.0);
        sum += neighbour.vector;
    }
    CHECK(sum.norm() < 1e-9);
}

TEST_CASE("reported vectors are r_j + T − r_i for unwrapped input", "[neighbours]") {
    std::mt19937 rng(7);
    const Eigen::Matrix3d cell = cell_from_rows({7.0, 0, 0, 2.0, 6.5, 0, 1.0, -1.5, 8.0});
    const System system = periodic_system(cell, random_fractional(rng, 40, -3.0, 4.0));
    NeighbourList list(5.0);
    list.build(system);
    const Eigen::Matrix3d inverse = cell.inverse();
    for (std::size_t i = 0; i < list.centres(); ++i) {
        for (const Neighbour& neighbour : list.neighbours(i)) {
            const Eigen::Vector3d translation =
                neighbour.vector - (system.positions().col(neighbour.index) -
                                    system.positions().col(static_cast<Eigen::Index>(i)));
            const Eigen::Vector3d shift = inverse * translation;
            CHECK((shift - shift.array().round().matrix()).norm() < 1e-9);
        }
    }
}

TEST_CASE("non-periodic clusters match brute force", "[neighbours]") {
    std::mt19937 rng(11);
    std::normal_distribution<double> normal(0.0, 6.0);
    SECTION("random cluster") {
        Eigen::Matrix3Xd positions(3, 200);
        for (Eigen::Index k = 0; k < positions.size(); ++k) {
            positions.data()[k] = normal(rng);
        }
        // A cell that must be ignored: tiny and skewed.
        const System system(std::vector<int>(200, 6), positions, Eigen::Matrix3d::Identity() * 0.5, false);
        NeighbourList list(3.0);
        list.build(system);
        CHECK(list.pairs() > 0);
        check_same_pairs(list, brute_force(system, 3.0));
    }
    SECTION("atoms on a line, in a plane, alone, none") {
        Eigen::Matrix3Xd line = Eigen::Matrix3Xd::Zero(3, 30);
        for (Eigen::Index k = 0; k < 30; ++k) {
            line(0, k) = 0.9 * static_cast<double>(k);
        }
        const System on_line(std::vector<int>(30, 1), line, Eigen::Matrix3d::Zero(), false);
        NeighbourList list(2.0);
        list.build(on_line);
        CHECK(list.pairs() == 2 * (29 + 28));
        check_same_pairs(list, brute_force(on_line, 2.0));

        Eigen::Matrix3Xd plane = Eigen::Matrix3Xd::Zero(3, 50);
        for (Eigen::Index k = 0; k < 50; ++k) {
            plane(0, k) = normal(rng);
            plane(1, k) = normal(rng);
        }
        const System in_plane(std::vector<int>(50, 1), plane, Eigen::Matrix3d::Zero(), false);
        list.build(in_plane);
        check_same_pairs(list, brute_force(in_plane, 2.0));

        const System alone({1}, Eigen::Matrix3Xd::Zero(3, 1), Eigen::Matrix3d::Zero(), false);
        list.build(alone);
        CHECK(list.centres() == 1);
        CHECK(list.pairs() == 0);

        const System empty({}, Eigen::Matrix3Xd::Zero(3, 0), Eigen::Matrix3d::Zero(), false);
        list.build(empty);
        CHECK(list.centres() == 0);
        CHECK(list.pairs() == 0);
    }
}

TEST_CASE("one list rebuilt for different structures gives fresh results", "[neighbours]") {
    std::mt19937 rng(3);
    NeighbourList list(4.0);
    const System big =
        periodic_system(Eigen::Matrix3d::Identity() * 11.0, random_fractional(rng, 90, 0.0, 1.0));
    const System small = periodic_system(cell_from_rows({3.0, 0, 0, 0.5, 3.2, 0, 0, 0.3, 2.9}),
                                         random_fractional(rng, 4, -1.0, 2.0));
    list.build(big);
    list.build(small);
    check_same_pairs(list, brute_force(small, 4.0));
    list.build(big);
    check_same_pairs(list, brute_force(big, 4.0));
}

TEST_CASE("a non-positive cutoff is a configuration error", "[neighbours]") {
    CHECK_THROWS_AS(NeighbourList(0.0), chorus::ConfigError);
    CHECK_THROWS_AS(NeighbourList(-1.0), chorus::ConfigError);
    CHECK_THROWS_AS(NeighbourList(std::nan("")), chorus::ConfigError);
}

TEST_CASE("two atoms at the same position are an input error naming both", "[neighbours]") {
    Eigen::Matrix3Xd positions(3, 3);
    positions << 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0;
    NeighbourList list(2.0);
    CHECK_THROWS_WITH(list.build(System({1, 1, 1}, positions, Eigen::Matrix3d::Zero(), false)),
                      Catch::Matchers::Contains("atoms 0 and 2 are at the same position"));
    positions(0, 2) = 4.0;
    // In a 4 Å periodic box the third atom is an image of the first.
    CHECK_THROWS_AS(list.build(System({1, 1, 1}, positions, Eigen::Matrix3d::Identity() * 4.0, true)),
                    chorus::InputError);
}

TEST_CASE("a cell far too small for its atoms is an input error, not gigabytes of pairs", "[neighbours]") {
    // What i-PI sends when an xyz CELL line is misread: 192 atoms in a cell of about 1 Å.
    std::mt19937 random(7);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    Eigen::Matrix3Xd positions(3, 192);
    for (Eigen::Index i = 0; i < positions.size(); ++i) {
        positions.data()[i] = uniform(random);
    }
    NeighbourList list(5.0, 0.5);
    CHECK_THROWS_WITH(
        list.build(System(std::vector<int>(192, 8), positions, Eigen::Matrix3d::Identity(), true)),
        Catch::Matchers::Contains("no real structure is that dense"));
    // The same atoms in a 12 Å cell (liquid-water density) are fine.
    NeighbourList fine(5.0);
    fine.build(System(std::vector<int>(192, 8), 12.0 * positions, 12.0 * Eigen::Matrix3d::Identity(), true));
    CHECK(fine.pairs() > 0);
}

// Verlet skin: after moves below skin / 2 the list re-measures its candidates instead of searching,
// and must still equal a fresh search (and the brute force); larger moves, a new cell, a change of
// periodicity or atom count search again.
TEST_CASE("skin reuse equals a fresh build after small moves and searches again after large ones",
          "[neighbours][skin]") {
    std::mt19937 rng(31);
    const double cutoff = 3.0;
    const double skin = 0.6;
    struct Case {
        const char* name;
        Eigen::Matrix3d cell;
        int atoms;
    };
    const std::vector<Case> cases = {
        {"cube", Eigen::Matrix3d::Identity() * 9.0, 80},
        {"skewed triclinic", cell_from_rows({7.0, 0.0, 0.0, 5.5, 6.5, 0.0, -4.0, 3.0, 8.0}), 70},
        {"thin cell (own images)", cell_from_rows({2.5, 0.0, 0.0, 0.4, 2.7, 0.0, 0.3, -0.2, 8.0}), 12},
    };
    for (const Case& c : cases) {
        SECTION(c.name) {
            System system = periodic_system(c.cell, random_fractional(rng, c.atoms, -0.3, 1.3));
            NeighbourList list(cutoff, skin);
            list.build(system);
            CHECK(list.full_builds() == 1);
            check_same_pairs(list, brute_force(system, cutoff));

            // Small moves (each atom < skin / 2, some across the cell's faces): reused, still exact.
            std::normal_distribution<double> step(0.0, 0.06);
            Eigen::Matrix3Xd moved = system.positions();
            for (int round = 0; round < 3; ++round) {
                for (Eigen::Index atom = 0; atom < moved.cols(); ++atom) {
                    Eigen::Vector3d delta(step(rng), step(rng), step(rng));
                    if (delta.norm() > 0.25 * skin) {
                        delta *= 0.25 * skin / delta.norm();
                    }
                    moved.col(atom) = system.positions().col(atom) + delta;
                }
                const System small(system.atomic_numbers(), moved, system.cell(), true);
                list.build(small);
                CHECK(list.full_builds() == 1);
                check_same_pairs(list, brute_force(small, cutoff));
                NeighbourList fresh(cutoff);
                fresh.build(small);
                CHECK(list.pairs() == fresh.pairs());
            }

            // One atom moved beyond skin / 2: a new search, exact again.
            moved.col(0) += Eigen::Vector3d(0.31, 0.0, 0.05);
            const System far(system.atomic_numbers(), moved, system.cell(), true);
            list.build(far);
            CHECK(list.full_builds() == 2);
            check_same_pairs(list, brute_force(far, cutoff));

            // Same positions, slightly strained cell: a new search.
            const Eigen::Matrix3d strained = c.cell * 1.001;
            const System strain(system.atomic_numbers(), moved, strained, true);
            list.build(strain);
            CHECK(list.full_builds() == 3);
            check_same_pairs(list, brute_force(strain, cutoff));

            // Not periodic any more: a new search.
            const System open(system.atomic_numbers(), moved, Eigen::Matrix3d::Zero(), false);
            list.build(open);
            CHECK(list.full_builds() == 4);
            check_same_pairs(list, brute_force(open, cutoff));
        }
    }
}

TEST_CASE("skin reuse follows atoms wrapped back into the cell and a change of atom count",
          "[neighbours][skin]") {
    std::mt19937 rng(5);
    const Eigen::Matrix3d cell = Eigen::Matrix3d::Identity() * 8.0;
    const System system = periodic_system(cell, random_fractional(rng, 60, 0.0, 1.0));
    NeighbourList list(3.0, 0.6);
    list.build(system);
    // Wrapping an atom by a lattice vector is a large move in the given coordinates: a new search
    // (the list does not assume positions come unwrapped).
    Eigen::Matrix3Xd wrapped = system.positions();
    wrapped.col(3) += cell.col(0);
    const System jumped(system.atomic_numbers(), wrapped, cell, true);
    list.build(jumped);
    CHECK(list.full_builds() == 2);
    check_same_pairs(list, brute_force(jumped, 3.0));

    const System fewer(std::vector<int>(59, 18), system.positions().leftCols(59), cell, true);
    list.build(fewer);
    CHECK(list.full_builds() == 3);
    check_same_pairs(list, brute_force(fewer, 3.0));
}

TEST_CASE("skin reuse still detects atoms on top of each other", "[neighbours][skin]") {
    Eigen::Matrix3Xd positions(3, 2);
    positions << 1.0, 1.2, 1.0, 1.0, 1.0, 1.0;
    const Eigen::Matrix3d cell = Eigen::Matrix3d::Identity() * 7.0;
    NeighbourList list(3.0, 0.6);
    list.build(System({18, 18}, positions, cell, true));
    positions(0, 1) = 1.0;  // 0.2 Å move, within skin / 2
    CHECK_THROWS_AS(list.build(System({18, 18}, positions, cell, true)), chorus::InputError);
}

TEST_CASE("negative or non-finite skins are rejected", "[neighbours][skin]") {
    CHECK_THROWS_AS(NeighbourList(3.0, -0.1), chorus::ConfigError);
    CHECK_THROWS_AS(NeighbourList(3.0, std::nan("")), chorus::ConfigError);
}

// The order the feature calculator walks centres in: every centre exactly once, whatever the build
// path, and spatial: centres that follow each other are close, which is its purpose.
TEST_CASE("centre order visits every centre once, neighbouring centres together", "[neighbours][skin]") {
    std::mt19937 rng(77);
    const Eigen::Matrix3d cell = Eigen::Matrix3d::Identity() * 30.0;
    const System system = periodic_system(cell, random_fractional(rng, 2000, -0.5, 1.5));
    for (const double skin : {0.0, 0.6}) {
        NeighbourList list(4.0, skin);
        for (int build = 0; build < 2; ++build) {  // with a skin, the second build re-measures
            list.build(system);
            const auto order = list.centre_order();
            REQUIRE(order.size() == system.size());
            std::vector<int> seen(system.size(), 0);
            for (const int centre : order) {
                REQUIRE(centre >= 0);
                REQUIRE(static_cast<std::size_t>(centre) < system.size());
                ++seen[static_cast<std::size_t>(centre)];
            }
            CHECK(std::all_of(seen.begin(), seen.end(), [](int count) { return count == 1; }));

            // Mean minimum-image distance between consecutive centres: a few Å in bin order,
            // against ~15 Å (a quarter of the edge per direction) for random order.
            double sum = 0.0;
            for (std::size_t k = 1; k < order.size(); ++k) {
                Eigen::Vector3d step = cell.inverse() * (system.positions().col(order[k]) -
                                                         system.positions().col(order[k - 1]));
                step = step.array() - step.array().round();
                sum += (cell * step).norm();
            }
            CHECK(sum / static_cast<double>(order.size() - 1) < 6.0);
        }
        CHECK(list.full_builds() == (skin > 0.0 ? 1 : 2));
    }
}
