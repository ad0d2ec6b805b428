#pragma once
// Training a committee of linear models by random subsampling of the training structures
// (Musil et al., JCTC 15, 906 (2019); science.md §4): member k is a ridge fit on its own random
// subset of the structures, drawn without replacement.
//
// Usage, with rows built by the caller from features and reference data:
//   CommitteeNormalEquations train(F, training_structures, sampling);
//   for each training structure s: train.add_structure(s, A_s, b_s, w_s);
//   auto path = regulariser_path(train.all(), layout, grid);
//   ValidationLosses validation(path);  for each validation structure: validation.add_rows(A, b, w);
//   auto selection = select_regulariser(path, validation);
//   auto committee = solve_committee(train, layout, selection.lambda);
//
// Memory: (M + 1) normal matrices of F² doubles (the members and the fit on all structures);
// F = 4000, M = 8 is 1.2 GB. Each structure's AᵀWA is computed once (the expensive part, rows·F²)
// and added to the members whose subset contains it (F² each).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include <Eigen/Core>

#include "chorus/models/training/normal_equations.hpp"
#include "chorus/models/training/ridge.hpp"

namespace chorus::models::training {

struct CommitteeSampling {
    std::size_t members = 8;
    // Fraction of the training structures each member sees. Half is our default: members must
    // differ enough for their spread to be informative, yet each must see enough data to be
    // accurate on its own; the calibration α then corrects the scale of the spread. (Musil et
    // al. subsample without replacement; we did not find a single prescribed fraction there.)
    double fraction = 0.5;
    std::uint64_t seed = 0;
};

// Member k's structures: round(fraction · structures) indices (at least 1), sorted, distinct.
// Deterministic for a seed on every platform: it uses std::mt19937_64, whose output the standard
// fixes, and its own unbiased bounded draw instead of std::uniform_int_distribution (whose
// algorithm is left to each library). Throws InputError for M = 0, no structures or a fraction
// outside (0, 1].
std::vector<std::vector<std::size_t>> draw_committee_subsets(std::size_t structures,
                                                             const CommitteeSampling& sampling);

class CommitteeNormalEquations {
public:
    CommitteeNormalEquations(Eigen::Index features, std::size_t structures,
                             const CommitteeSampling& sampling);

    // Adds training structure `structure` (0-based, < structures) to the full fit and to every
    // member whose subset contains it. Throws InputError for an index out of range, a structure
    // added twice, and whatever NormalEquations::add_rows rejects.
    void add_structure(std::size_t structure, const Eigen::Ref<const Eigen::MatrixXd>& design,
                       const Eigen::Ref<const Eigen::VectorXd>& targets,
                       const Eigen::Ref<const Eigen::VectorXd>& weights);

    std::size_t members() const { return members_.size(); }
    std::size_t structures() const { return added_.size(); }
    std::size_t structures_added() const { return added_count_; }
    const NormalEquations& all() const { return all_; }  // every structure: select λ on this
    const NormalEquations& member(std::size_t k) const { return members_.at(k); }
    const std::vector<std::size_t>& subset(std::size_t k) const { return subsets_.at(k); }

private:
    std::vector<std::vector<std::size_t>> subsets_;
    std::vector<std::vector<std::size_t>> members_of_structure_;
    std::vector<NormalEquations> members_;
    NormalEquations all_;
    std::vector<bool> added_;
    std::size_t added_count_ = 0;
};

struct CommitteeWeights {
    double lambda = 0.0;
    Eigen::MatrixXd members;         // F × M, column k = member k
    Eigen::VectorXd all_structures;  // the fit on every training structure at the same λ
    std::vector<SolveReport> member_reports;
    SolveReport all_structures_report;
};

// Called once per finished solve: `system` is the member's index, or members() for the fit on
// all structures. Calls come one at a time, but from whichever thread finished the solve.
using SolvedCallback = std::function<void(std::size_t system, const SolveReport& report, double seconds)>;

// Solves every member (and the full fit) at the same λ, in parallel over the systems (each solve
// is serial, so the weights do not depend on the thread count). Throws InputError when a
// structure was never added (the subsets would silently shrink).
CommitteeWeights solve_committee(const CommitteeNormalEquations& equations,
                                 const RegularisationLayout& layout, double lambda,
                                 const SolvedCallback& solved = {});

}  // namespace chorus::models::training
