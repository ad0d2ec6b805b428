// The structure `chorus bench roundtrip` times: an extxyz file's first frame keeps its species,
// and the supercell is the cell repeated, image by image, with the atom order of the original.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

#include <unistd.h>
#include <catch2/catch.hpp>

#include "bench_structure.hpp"
#include "chorus/error.hpp"

using chorus::server::BenchStructure;
using chorus::server::read_bench_structure;
using chorus::server::replicate;
using chorus::server::shuffle_atoms;

namespace {

// A skewed cell, so that a shift along the wrong lattice vector shows.
BenchStructure water_molecule_in_triclinic_cell() {
    BenchStructure structure;
    structure.atomic_numbers = {8, 1, 1};
    structure.positions.resize(3, 3);
    structure.positions << 0.0, 0.76, -0.76,  //
        0.0, 0.59, 0.59,                      //
        0.1, 0.0, 0.2;
    structure.cell << 5.0, 1.0, 0.5,  //
        0.0, 6.0, 0.7,                //
        0.0, 0.0, 7.0;
    structure.periodic = true;
    return structure;
}

}  // namespace

TEST_CASE("replicate builds the N×N×N supercell image by image", "[server][bench]") {
    const BenchStructure molecule = water_molecule_in_triclinic_cell();
    const BenchStructure supercell = replicate(molecule, 2);

    REQUIRE(supercell.positions.cols() == 24);
    REQUIRE(supercell.atomic_numbers.size() == 24);
    CHECK(supercell.periodic);
    CHECK(supercell.cell.isApprox(2.0 * molecule.cell));
    for (int image = 0; image < 8; ++image) {
        // a-major: image = 4 i + 2 j + k
        const Eigen::Vector3d expected_shift =
            molecule.cell * Eigen::Vector3d(image / 4, (image / 2) % 2, image % 2);
        for (int atom = 0; atom < 3; ++atom) {
            CHECK(supercell.atomic_numbers[static_cast<std::size_t>(3 * image + atom)] ==
                  molecule.atomic_numbers[atom]);
            const Eigen::Vector3d shift =
                supercell.positions.col(3 * image + atom) - molecule.positions.col(atom);
            CHECK((shift - expected_shift).norm() < 1e-12);
        }
    }
}

TEST_CASE("replicate 1 is the identity and bad counts are typed errors", "[server][bench]") {
    const BenchStructure molecule = water_molecule_in_triclinic_cell();
    const BenchStructure same = replicate(molecule, 1);
    CHECK(same.positions == molecule.positions);
    CHECK(same.cell == molecule.cell);
    CHECK(same.atomic_numbers == molecule.atomic_numbers);

    CHECK_THROWS_AS(replicate(molecule, 0), chorus::InputError);
    BenchStructure isolated = molecule;
    isolated.periodic = false;
    CHECK_THROWS_AS(replicate(isolated, 2), chorus::InputError);
    CHECK(replicate(isolated, 1).positions.cols() == 3);
}

TEST_CASE("shuffle_atoms permutes atoms with their species, the same way every time", "[server][bench]") {
    const BenchStructure supercell = replicate(water_molecule_in_triclinic_cell(), 3);  // 81 atoms
    BenchStructure shuffled = supercell;
    shuffle_atoms(shuffled);
    BenchStructure again = supercell;
    shuffle_atoms(again);
    CHECK(again.positions == shuffled.positions);
    CHECK(shuffled.cell == supercell.cell);
    CHECK(shuffled.periodic);

    // Every atom appears once, with its own species; and the order did change.
    const auto atoms = supercell.positions.cols();
    std::vector<bool> used(static_cast<std::size_t>(atoms), false);
    Eigen::Index moved = 0;
    for (Eigen::Index k = 0; k < atoms; ++k) {
        Eigen::Index source = -1;
        for (Eigen::Index a = 0; a < atoms; ++a) {
            if (!used[static_cast<std::size_t>(a)] &&
                supercell.positions.col(a) == shuffled.positions.col(k)) {
                source = a;
                break;
            }
        }
        REQUIRE(source >= 0);
        used[static_cast<std::size_t>(source)] = true;
        CHECK(shuffled.atomic_numbers[static_cast<std::size_t>(k)] ==
              supercell.atomic_numbers[static_cast<std::size_t>(source)]);
        moved += source != k ? 1 : 0;
    }
    CHECK(moved > atoms / 2);
}

TEST_CASE("read_bench_structure takes the first frame with its species and cell", "[server][bench]") {
    const auto path = std::filesystem::temp_directory_path() /
                      ("chorus-test-bench-structure-" + std::to_string(::getpid()) + ".xyz");
    {
        std::ofstream file(path);
        file << "3\nLattice=\"9 0 0 0 10 0 0 0 11\" Properties=species:S:1:pos:R:3 pbc=\"T T T\"\n"
                "O 0 0 0\nH 0.76 0.59 0\nH -0.76 0.59 0\n"
                "1\nLattice=\"3 0 0 0 3 0 0 0 3\" Properties=species:S:1:pos:R:3 pbc=\"T T T\"\nAr 0 0 0\n";
    }
    const BenchStructure structure = read_bench_structure(path);
    std::filesystem::remove(path);

    CHECK(structure.atomic_numbers == std::vector<int>{8, 1, 1});
    CHECK(structure.periodic);
    CHECK(structure.cell.isApprox(Eigen::Vector3d(9.0, 10.0, 11.0).asDiagonal().toDenseMatrix()));
    CHECK(structure.positions(0, 1) == 0.76);

    CHECK_THROWS_AS(read_bench_structure(path), chorus::IoError);
}
