#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include <catch2/catch.hpp>

#include "chorus/engine/calibration.hpp"
#include "chorus/error.hpp"
#include "chorus/models/training/committee_training.hpp"
#include "linear_problem.hpp"

using Catch::Matchers::Contains;
using chorus::models::training::CommitteeNormalEquations;
using chorus::models::training::CommitteeSampling;
using chorus::models::training::draw_committee_subsets;
using chorus::models::training::NormalEquations;
using chorus::models::training::RegularisationLayout;
using chorus::models::training::regulariser_path;
using chorus::models::training::select_regulariser;
using chorus::models::training::solve_committee;
using chorus::models::training::solve_ridge;
using chorus::models::training::ValidationLosses;
using chorus::test::linear_problem;
using chorus::test::LinearProblem;

namespace {

CommitteeNormalEquations accumulate(const LinearProblem& problem, const CommitteeSampling& sampling) {
    CommitteeNormalEquations equations(problem.truth.size(), problem.structures.size(), sampling);
    // In reverse order: the structure index, not the order of arrival, decides membership.
    for (std::size_t s = problem.structures.size(); s-- > 0;) {
        const auto& rows = problem.structures[s];
        equations.add_structure(s, rows.design, rows.targets, rows.weights);
    }
    return equations;
}

}  // namespace

TEST_CASE("committee subsets are deterministic for a seed, distinct between members", "[training]") {
    const CommitteeSampling sampling{.members = 8, .fraction = 0.5, .seed = 42};
    const auto subsets = draw_committee_subsets(101, sampling);
    REQUIRE(subsets.size() == 8);
    CHECK(subsets == draw_committee_subsets(101, sampling));
    for (const auto& subset : subsets) {
        CHECK(subset.size() == 51);  // round(0.5 · 101)
        CHECK(std::is_sorted(subset.begin(), subset.end()));
        CHECK(std::set<std::size_t>(subset.begin(), subset.end()).size() == subset.size());
        CHECK(subset.back() < 101);
    }
    for (std::size_t a = 0; a < subsets.size(); ++a) {
        for (std::size_t b = a + 1; b < subsets.size(); ++b) {
            CHECK(subsets[a] != subsets[b]);
        }
    }
    CHECK(draw_committee_subsets(101, {.members = 8, .fraction = 0.5, .seed = 43}) != subsets);

    // Golden subsets: the sampling must not change between platforms or releases, or a shipped
    // model stops being reproducible from its seed.
    const auto small = draw_committee_subsets(10, {.members = 3, .fraction = 0.4, .seed = 7});
    const std::vector<std::vector<std::size_t>> golden{{0, 3, 6, 7}, {0, 4, 6, 7}, {0, 1, 5, 9}};
    CHECK(small == golden);
}

TEST_CASE("each member is the ridge fit on exactly its own structures", "[training]") {
    const LinearProblem problem =
        linear_problem({.structures = 16, .baselines = 2, .features = 7, .noise = 0.3}, 9u);
    const CommitteeSampling sampling{.members = 4, .fraction = 0.5, .seed = 5};
    const CommitteeNormalEquations equations = accumulate(problem, sampling);
    const RegularisationLayout layout{.baseline_columns = 2};
    const auto committee = solve_committee(equations, layout, 1e-4);
    REQUIRE(committee.members.cols() == 4);

    for (std::size_t k = 0; k < equations.members(); ++k) {
        CAPTURE(k);
        NormalEquations own(problem.truth.size());
        for (const std::size_t s : equations.subset(k)) {
            const auto& rows = problem.structures[s];
            own.add_rows(rows.design, rows.targets, rows.weights);
        }
        CHECK(equations.member(k).rows() == own.rows());
        CHECK(Eigen::MatrixXd(equations.member(k).gram()).isApprox(Eigen::MatrixXd(own.gram()), 1e-13));
        const auto direct = solve_ridge(own, layout, 1e-4);
        CHECK(committee.members.col(static_cast<Eigen::Index>(k)).isApprox(direct.weights, 1e-10));
        CHECK_FALSE(committee.member_reports[k].used_fallback);
    }
    // Members differ from each other and from the full fit (noisy data, different subsets).
    CHECK_FALSE(committee.members.col(0).isApprox(committee.members.col(1), 1e-6));
    const auto all = solve_ridge(equations.all(), layout, 1e-4);
    CHECK(committee.all_structures.isApprox(all.weights, 1e-12));
}

TEST_CASE("noiseless data: every member recovers the exact weights", "[training]") {
    const LinearProblem problem = linear_problem({.structures = 24, .baselines = 2, .features = 6}, 13u);
    const CommitteeNormalEquations equations =
        accumulate(problem, {.members = 5, .fraction = 0.5, .seed = 1});
    RegularisationLayout layout{.baseline_columns = 2};
    layout.baseline_lambda = 1e-16;
    const auto committee = solve_committee(equations, layout, 1e-16);
    for (Eigen::Index k = 0; k < committee.members.cols(); ++k) {
        CAPTURE(k);
        CHECK((committee.members.col(k) - problem.truth).norm() / problem.truth.norm() < 1e-10);
    }
}

TEST_CASE("train, select λ, fit a committee, calibrate: the whole chain", "[training]") {
    const chorus::test::LinearProblemShape shape{
        .structures = 60, .baselines = 2, .features = 30, .noise = 2.0};
    const LinearProblem training = linear_problem(shape, 61u);
    LinearProblem validation = linear_problem(shape, 62u);
    for (auto& s : validation.structures) {
        s.targets += s.design * (training.truth - validation.truth);
    }
    const CommitteeNormalEquations equations = accumulate(training, {.members = 8, .seed = 3});
    const RegularisationLayout layout{.baseline_columns = 2};
    const auto path = regulariser_path(equations.all(), layout, {});
    ValidationLosses validation_losses(path);
    for (const auto& s : validation.structures) {
        validation_losses.add_rows(s.design, s.targets, s.weights);
    }
    const auto selection = select_regulariser(path, validation_losses);
    const auto committee = solve_committee(equations, layout, selection.lambda);

    // Force-component residuals and member spreads on the validation rows, as `chorus train` will.
    std::vector<double> residuals;
    std::vector<double> spreads;
    for (const auto& s : validation.structures) {
        const Eigen::MatrixXd predictions = s.design * committee.members;  // rows × M
        for (Eigen::Index row = 1; row < predictions.rows(); ++row) {
            const Eigen::RowVectorXd members = predictions.row(row);
            const double mean = members.mean();
            residuals.push_back(s.targets[row] - mean);
            spreads.push_back(std::sqrt((members.array() - mean).square().sum() / 7.0));
        }
    }
    const auto report = chorus::engine::calibrate_alpha(residuals, spreads, 8);
    INFO("α = " << report.alpha << ", λ = " << selection.lambda);
    CHECK_FALSE(report.clamped);
    CHECK(report.alpha > 1.0);  // half-data members underestimate the noise-dominated error
    CHECK(report.after.within_two_sigma > report.before.within_two_sigma);
}

TEST_CASE("committee bookkeeping errors are refused with the offending index", "[training]") {
    const LinearProblem problem = linear_problem({.structures = 3, .baselines = 1, .features = 2}, 4u);
    CommitteeNormalEquations equations(3, 3, {.members = 2, .fraction = 0.5, .seed = 0});
    const auto& rows = problem.structures[0];
    CHECK_THROWS_WITH(equations.add_structure(3, rows.design, rows.targets, rows.weights),
                      Contains("index 3 is out of range"));
    equations.add_structure(1, rows.design, rows.targets, rows.weights);
    CHECK_THROWS_WITH(equations.add_structure(1, rows.design, rows.targets, rows.weights),
                      Contains("structure 1 was added twice"));
    CHECK_THROWS_WITH(solve_committee(equations, {.baseline_columns = 1}, 1e-3), Contains("only 1 of 3"));
    CHECK_THROWS_WITH(draw_committee_subsets(10, {.members = 2, .fraction = 1.5}), Contains("1.5"));
    CHECK_THROWS_AS(draw_committee_subsets(0, {}), chorus::InputError);
    CHECK_THROWS_AS(draw_committee_subsets(10, {.members = 0}), chorus::InputError);
}
