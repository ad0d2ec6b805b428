#include "bench_structure.hpp"

#include <numeric>
#include <random>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "chorus/error.hpp"
#include "chorus/models/extxyz.hpp"

namespace chorus::server {

BenchStructure argon_structure(const ArgonBox& box) {
    constexpr int argon = 18;
    return {std::vector<int>(static_cast<std::size_t>(box.positions.cols()), argon), box.positions, box.cell,
            true};
}

BenchStructure read_bench_structure(const std::filesystem::path& path) {
    // Only the first frame is needed; streaming avoids parsing a whole trajectory.
    models::ExtxyzReader reader(path);
    auto frame = reader.next();
    if (!frame) {
        throw InputError(
            fmt::format("the structure file {} holds no frame; give an extxyz file with at least one "
                        "structure",
                        path.string()));
    }
    const engine::System& system = frame->system;
    return {system.atomic_numbers(), system.positions(), system.cell(), system.periodic()};
}

BenchStructure replicate(const BenchStructure& structure, int copies) {
    if (copies < 1) {
        throw InputError(
            fmt::format("cannot replicate a structure {} times per direction; give 1 or more", copies));
    }
    if (copies > 1 && !structure.periodic) {
        throw InputError(
            fmt::format("cannot replicate a non-periodic structure {} times per direction: it has no "
                        "cell to repeat; use a periodic structure or --replicate 1",
                        copies));
    }
    const Eigen::Index atoms = structure.positions.cols();
    const Eigen::Index images = static_cast<Eigen::Index>(copies) * copies * copies;

    BenchStructure supercell;
    supercell.periodic = structure.periodic;
    supercell.cell = structure.cell * copies;
    supercell.positions.resize(3, atoms * images);
    supercell.atomic_numbers.reserve(static_cast<std::size_t>(atoms * images));
    Eigen::Index image = 0;
    for (int i = 0; i < copies; ++i) {
        for (int j = 0; j < copies; ++j) {
            for (int k = 0; k < copies; ++k, ++image) {
                const Eigen::Vector3d shift = structure.cell * Eigen::Vector3d(i, j, k);
                supercell.positions.middleCols(image * atoms, atoms) = structure.positions.colwise() + shift;
                supercell.atomic_numbers.insert(supercell.atomic_numbers.end(),
                                                structure.atomic_numbers.begin(),
                                                structure.atomic_numbers.end());
            }
        }
    }
    return supercell;
}

void shuffle_atoms(BenchStructure& structure) {
    const auto atoms = static_cast<std::size_t>(structure.positions.cols());
    std::vector<std::size_t> order(atoms);
    std::iota(order.begin(), order.end(), std::size_t{0});
    // Fisher–Yates with a fixed generator, so that every run and machine times the same order.
    std::mt19937_64 generator(20261125);
    for (std::size_t i = atoms; i > 1; --i) {
        std::swap(order[i - 1], order[static_cast<std::size_t>(generator() % i)]);
    }
    BenchStructure result = structure;
    for (std::size_t k = 0; k < atoms; ++k) {
        result.positions.col(static_cast<Eigen::Index>(k)) =
            structure.positions.col(static_cast<Eigen::Index>(order[k]));
        result.atomic_numbers[k] = structure.atomic_numbers[order[k]];
    }
    structure = std::move(result);
}

BenchStructure supercell(const BenchStructure& structure, int copies, bool shuffle) {
    BenchStructure cell = replicate(structure, copies);
    if (shuffle) {
        shuffle_atoms(cell);
    }
    return cell;
}

}  // namespace chorus::server
