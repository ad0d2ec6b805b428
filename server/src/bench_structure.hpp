#pragma once
// The structure `chorus bench roundtrip` times: the generated argon box by default, or the first
// frame of an extxyz file (with its species, so that models restricted to some elements can be
// benchmarked), optionally replicated into a periodic supercell to see how the cost scales.
#include <filesystem>
#include <vector>

#include <Eigen/Core>

#include "argon_box.hpp"

namespace chorus::server {

struct BenchStructure {
    std::vector<int> atomic_numbers;  // one per atom
    Eigen::Matrix3Xd positions;       // Å
    Eigen::Matrix3d cell;             // lattice vectors as columns, Å
    bool periodic = true;
};

// Every atom argon (Z = 18), periodic.
BenchStructure argon_structure(const ArgonBox& box);

// The first frame of an extxyz file. Throws IoError when the file cannot be read and InputError
// when it holds no frame.
BenchStructure read_bench_structure(const std::filesystem::path& path);

// The copies × copies × copies supercell: images ordered a-major, each image keeping the atom
// order of `structure`, so that the species list is the original one repeated. Throws InputError
// when `copies` < 1, or when `copies` > 1 and the structure is not periodic.
BenchStructure replicate(const BenchStructure& structure, int copies);

// The atoms in a random order (fixed seed), as a structure builder or a long simulation leaves a
// large liquid: then atom order says nothing about place, and a code that walks atoms in index
// order pays a cache miss per neighbour. A replicated cell, image after image, hides that cost.
void shuffle_atoms(BenchStructure& structure);

// replicate(), then shuffle_atoms() when `shuffle` (--shuffle): the order comes from the
// finished supercell, so it never carries the image structure of the replication.
BenchStructure supercell(const BenchStructure& structure, int copies, bool shuffle);

}  // namespace chorus::server
