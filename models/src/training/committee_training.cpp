#include "chorus/models/training/committee_training.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>
#include <numeric>
#include <random>
#include <string>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include "chorus/error.hpp"

namespace chorus::models::training {

namespace {

// SplitMix64 finaliser: turns (seed, member) into well-separated generator seeds, so that
// neighbouring seeds or members do not start correlated Mersenne Twister streams.
std::uint64_t mix(std::uint64_t value) {
    value += 0x9e3779b97f4a7c15ULL;
    value = (value ^ (value >> 30U)) * 0xbf58476d1ce4e5b9ULL;
    value = (value ^ (value >> 27U)) * 0x94d049bb133111ebULL;
    return value ^ (value >> 31U);
}

// Uniform in [0, bound) by rejection: the same numbers from every standard library.
std::uint64_t uniform_below(std::mt19937_64& generator, std::uint64_t bound) {
    // Values below `threshold` would make the low residues more likely; 2^64 mod bound of them.
    const std::uint64_t threshold = (0 - bound) % bound;
    for (;;) {
        const std::uint64_t value = generator();
        if (value >= threshold) {
            return value % bound;
        }
    }
}

}  // namespace

std::vector<std::vector<std::size_t>> draw_committee_subsets(std::size_t structures,
                                                             const CommitteeSampling& sampling) {
    if (sampling.members == 0) {
        throw InputError("a committee needs at least one member, got 0");
    }
    if (structures == 0) {
        throw InputError("a committee needs at least one training structure, got 0");
    }
    if (!(sampling.fraction > 0.0 && sampling.fraction <= 1.0)) {
        throw InputError("subsampling fraction " + std::to_string(sampling.fraction) +
                         " must lie in (0, 1]; it is the share of training structures per member");
    }
    const auto size = std::max<std::size_t>(
        1, static_cast<std::size_t>(std::llround(sampling.fraction * static_cast<double>(structures))));

    std::vector<std::vector<std::size_t>> subsets(sampling.members);
    std::vector<std::size_t> order(structures);
    for (std::size_t k = 0; k < sampling.members; ++k) {
        std::mt19937_64 generator(mix(sampling.seed ^ mix(k)));
        std::iota(order.begin(), order.end(), std::size_t{0});
        // Partial Fisher–Yates: the first `size` entries become a uniform random subset.
        for (std::size_t i = 0; i < size; ++i) {
            const auto j = i + static_cast<std::size_t>(uniform_below(generator, structures - i));
            std::swap(order[i], order[j]);
        }
        subsets[k].assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(size));
        std::sort(subsets[k].begin(), subsets[k].end());
    }
    return subsets;
}

CommitteeNormalEquations::CommitteeNormalEquations(Eigen::Index features, std::size_t structures,
                                                   const CommitteeSampling& sampling)
    : subsets_(draw_committee_subsets(structures, sampling)),
      members_of_structure_(structures),
      members_(sampling.members, NormalEquations(features)),
      all_(features),
      added_(structures, false) {
    for (std::size_t k = 0; k < subsets_.size(); ++k) {
        for (const std::size_t s : subsets_[k]) {
            members_of_structure_[s].push_back(k);
        }
    }
}

void CommitteeNormalEquations::add_structure(std::size_t structure,
                                             const Eigen::Ref<const Eigen::MatrixXd>& design,
                                             const Eigen::Ref<const Eigen::VectorXd>& targets,
                                             const Eigen::Ref<const Eigen::VectorXd>& weights) {
    if (structure >= added_.size()) {
        throw InputError("training structure index " + std::to_string(structure) +
                         " is out of range: the committee was set up for " + std::to_string(added_.size()) +
                         " structures");
    }
    if (added_[structure]) {
        throw InputError("training structure " + std::to_string(structure) +
                         " was added twice; add each structure once");
    }
    // This structure's AᵀWA once (rows · F² work), then F² per member that sees it.
    NormalEquations block(all_.features());
    block.add_rows(design, targets, weights);
    all_.add(block);
    for (const std::size_t k : members_of_structure_[structure]) {
        members_[k].add(block);
    }
    added_[structure] = true;
    ++added_count_;
}

CommitteeWeights solve_committee(const CommitteeNormalEquations& equations,
                                 const RegularisationLayout& layout, double lambda,
                                 const SolvedCallback& solved) {
    if (equations.structures_added() != equations.structures()) {
        throw InputError("only " + std::to_string(equations.structures_added()) + " of " +
                         std::to_string(equations.structures()) +
                         " training structures were added; add all before solving");
    }
    const std::size_t members = equations.members();
    // System k < members is member k, system `members` the fit on all structures.
    std::vector<RidgeSolution> solutions(members + 1);
    std::mutex report_mutex;
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, members + 1, 1),
                      [&](const tbb::blocked_range<std::size_t>& range) {
                          for (std::size_t k = range.begin(); k != range.end(); ++k) {
                              const auto start = std::chrono::steady_clock::now();
                              solutions[k] = solve_ridge(k < members ? equations.member(k) : equations.all(),
                                                         layout, lambda);
                              if (solved) {
                                  const std::chrono::duration<double> elapsed =
                                      std::chrono::steady_clock::now() - start;
                                  const std::lock_guard lock(report_mutex);
                                  solved(k, solutions[k].report, elapsed.count());
                              }
                          }
                      });
    CommitteeWeights committee;
    committee.lambda = lambda;
    committee.members.resize(equations.all().features(), static_cast<Eigen::Index>(members));
    committee.member_reports.reserve(members);
    for (std::size_t k = 0; k < members; ++k) {
        committee.members.col(static_cast<Eigen::Index>(k)) = solutions[k].weights;
        committee.member_reports.push_back(solutions[k].report);
    }
    committee.all_structures = std::move(solutions[members].weights);
    committee.all_structures_report = solutions[members].report;
    return committee;
}

}  // namespace chorus::models::training
