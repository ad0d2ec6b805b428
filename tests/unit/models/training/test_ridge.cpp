#include <cmath>
#include <limits>

#include <catch2/catch.hpp>

#include "chorus/error.hpp"
#include "chorus/models/training/normal_equations.hpp"
#include "chorus/models/training/ridge.hpp"
#include "linear_problem.hpp"

using Catch::Matchers::Contains;
using chorus::models::training::LambdaGrid;
using chorus::models::training::NormalEquations;
using chorus::models::training::PenaltyScale;
using chorus::models::training::RegularisationLayout;
using chorus::models::training::regulariser_path;
using chorus::models::training::RegulariserSelection;
using chorus::models::training::ridge_penalty;
using chorus::models::training::select_regulariser;
using chorus::models::training::solve_ridge;
using chorus::models::training::ValidationLosses;
using chorus::test::linear_problem;
using chorus::test::LinearProblem;
using chorus::test::LinearProblemShape;
using chorus::test::StructureRows;

namespace {

NormalEquations accumulate(const std::vector<StructureRows>& structures) {
    NormalEquations equations(structures.front().design.cols());
    for (const auto& s : structures) {
        equations.add_rows(s.design, s.targets, s.weights);
    }
    return equations;
}

// λ chosen on `validation`'s rows for fits on `training`, as `chorus train` does.
RegulariserSelection select(const NormalEquations& training, const std::vector<StructureRows>& validation,
                            const RegularisationLayout& layout, const LambdaGrid& grid) {
    const auto path = regulariser_path(training, layout, grid);
    ValidationLosses losses(path);
    for (const auto& s : validation) {
        losses.add_rows(s.design, s.targets, s.weights);
    }
    return select_regulariser(path, losses);
}

// Σ w (b − A x)² / Σ w straight from the rows.
double row_loss(const std::vector<StructureRows>& structures, const Eigen::VectorXd& weights) {
    double squares = 0.0;
    double weight_sum = 0.0;
    for (const auto& s : structures) {
        squares += s.weights.dot((s.design * weights - s.targets).cwiseAbs2());
        weight_sum += s.weights.sum();
    }
    return squares / weight_sum;
}

double relative_error(const Eigen::VectorXd& value, const Eigen::VectorXd& truth) {
    return (value - truth).norm() / truth.norm();
}

}  // namespace

TEST_CASE("noiseless linear data: the weights are recovered to rounding", "[training]") {
    const LinearProblem problem = linear_problem({.structures = 30, .baselines = 3, .features = 12}, 101u);
    const NormalEquations equations = accumulate(problem.structures);
    RegularisationLayout layout{.baseline_columns = 3};
    // The default baseline ridge (1e-10 relative) would bias the baselines by about that much;
    // this test asks for more, so it lowers it too.
    layout.baseline_lambda = 1e-16;
    const auto solution = solve_ridge(equations, layout, 1e-16);
    CHECK_FALSE(solution.report.used_fallback);
    CHECK(relative_error(solution.weights, problem.truth) < 1e-10);
    CHECK(solution.report.relative_residual < 1e-12);
    // Zero up to the cancellation in loss(): ~1e-16 of the mean squared target.
    CHECK(equations.loss(solution.weights) < 1e-13 * equations.target_norm() / equations.weight_sum());
}

TEST_CASE("streamed ridge equals the one-shot dense solution by QR", "[training]") {
    const LinearProblem problem =
        linear_problem({.structures = 20, .baselines = 2, .features = 9, .noise = 0.4}, 7u);
    const NormalEquations equations = accumulate(problem.structures);
    const RegularisationLayout layout{.baseline_columns = 2};
    for (const double lambda : {1e-6, 1e-2, 1.0}) {
        CAPTURE(lambda);
        const auto solution = solve_ridge(equations, layout, lambda);
        const Eigen::VectorXd reference = chorus::test::ridge_by_qr(chorus::test::stacked(problem.structures),
                                                                    ridge_penalty(equations, layout, lambda));
        CHECK(relative_error(solution.weights, reference) < 1e-11);
    }
}

TEST_CASE("per-block regularisation scales each block by its own mean diagonal", "[training]") {
    const LinearProblem problem =
        linear_problem({.structures = 15, .baselines = 2, .features = 9, .noise = 0.1}, 3u);
    // Features in three blocks of very different magnitude: ×1, ×100, ×0.01, same true weights.
    std::vector<StructureRows> structures = problem.structures;
    for (auto& s : structures) {
        s.design.middleCols(5, 3) *= 100.0;
        s.design.middleCols(8, 3) *= 0.01;
        s.targets = s.design * problem.truth;
    }
    const NormalEquations equations = accumulate(structures);
    const RegularisationLayout layout{
        .baseline_columns = 2, .block_ends = {5, 8, 11}, .block_lambdas = {1.0, 10.0, 1e10}};
    // Small enough that shrinking the ×100 block (whose signal dominates the targets) leaves a
    // residual far below the tolerances below: the other columns would absorb it by chance.
    const double lambda = 1e-6;

    // The penalty by hand: λ · λ_B · (mean diagonal of AᵀWA over block B); baselines fixed.
    const Eigen::VectorXd diagonal = Eigen::MatrixXd(equations.gram()).diagonal();
    const Eigen::VectorXd penalty = ridge_penalty(equations, layout, lambda);
    CHECK(penalty[0] == Approx(layout.baseline_lambda * diagonal.head(2).mean()));
    CHECK(penalty[1] == penalty[0]);
    CHECK(penalty[4] == Approx(lambda * 1.0 * diagonal.segment(2, 3).mean()));
    CHECK(penalty[5] == Approx(lambda * 10.0 * diagonal.segment(5, 3).mean()));
    CHECK(penalty[10] == Approx(lambda * 1e10 * diagonal.segment(8, 3).mean()));

    const auto solution = solve_ridge(equations, layout, lambda);
    const Eigen::VectorXd reference = chorus::test::ridge_by_qr(chorus::test::stacked(structures), penalty);
    CHECK(relative_error(solution.weights, reference) < 1e-10);
    // The weakly regularised blocks fit whatever their magnitude (relative penalties 1e-6 and
    // 1e-5); the block penalised 1e4 relative to its own scale is shrunk to ~0.
    CHECK(solution.weights.segment(2, 3).isApprox(problem.truth.segment(2, 3), 0.01));
    CHECK(solution.weights.segment(5, 3).isApprox(problem.truth.segment(5, 3), 0.01));
    CHECK(solution.weights.segment(8, 3).norm() < 1e-3 * problem.truth.segment(8, 3).norm());
    // Baselines are not shrunk even though λ · λ_B is huge elsewhere.
    CHECK(solution.weights.head(2).isApprox(problem.truth.head(2), 0.01));
}

TEST_CASE("column-scaled penalty: badly scaled features keep their weights where the block mean crushes them",
          "[training]") {
    // Noiseless data whose last four feature columns are 10⁻⁶ of the others (diagonal 10⁻¹²),
    // as high-l, high-n power-spectrum columns are next to low ones. One feature block.
    LinearProblem problem = linear_problem({.structures = 25, .baselines = 2, .features = 12}, 41u);
    for (auto& s : problem.structures) {
        s.design.rightCols(4) *= 1e-6;
        s.targets = s.design * problem.truth;
    }
    // Same true weights: the small columns carry 10⁻⁶ of the signal, which is still exact data.
    const NormalEquations equations = accumulate(problem.structures);
    const double lambda = 1e-12;

    // Block mean: the small columns' penalty is λ · mean diagonal ≈ their own diagonal, so their
    // weights come out far too small — the loss of small directions a tiny λ cannot fix.
    const RegularisationLayout block{.baseline_columns = 2, .baseline_lambda = 1e-16};
    const auto crushed = solve_ridge(equations, block, lambda);
    CHECK((crushed.weights.tail(4) - problem.truth.tail(4)).norm() > 0.1 * problem.truth.tail(4).norm());

    // Column: each column is penalised relative to itself; every weight is recovered.
    const RegularisationLayout column{
        .baseline_columns = 2, .baseline_lambda = 1e-16, .scale = PenaltyScale::column};
    const Eigen::VectorXd diagonal = equations.gram_diagonal();
    const Eigen::VectorXd penalty = ridge_penalty(equations, column, lambda);
    CHECK(penalty[2] == Approx(lambda * diagonal[2]));
    CHECK(penalty[13] == Approx(lambda * diagonal[13]));
    const auto recovered = solve_ridge(equations, column, lambda);
    INFO(recovered.report.describe());
    CHECK_FALSE(recovered.report.used_fallback);
    // Not to 1e-12: their signal is 10⁻⁶ of the targets, so the normal equations resolve it from
    // differences of O(1) sums that are 10⁻⁶ of them (~1e-7 observed); the block fit is off by O(1).
    CHECK(relative_error(recovered.weights.tail(4), problem.truth.tail(4)) < 1e-5);
    CHECK(relative_error(recovered.weights, problem.truth) < 1e-5);

    // The selection's eigendecomposition path uses the same penalty: at one λ it reproduces the
    // direct solve's (zero) loss, whereas the block-scaled selection does not fit the data.
    const LambdaGrid one{.smallest = lambda, .largest = lambda, .points = 1};
    const double mean_square = equations.target_norm() / equations.weight_sum();
    const double column_loss = select(equations, problem.structures, column, one).validation_loss;
    const double block_loss = select(equations, problem.structures, block, one).validation_loss;
    const double crushed_loss = row_loss(problem.structures, crushed.weights);
    INFO("column-scaled loss " << column_loss << ", block-scaled " << block_loss << ", direct solve's "
                               << crushed_loss << ", mean square " << mean_square);
    CHECK(column_loss < 1e-13 * mean_square);
    CHECK(column_loss < 1e-3 * block_loss);
    // The crushed fit's loss is ~4e-15 of the mean square target, the residual of weights that the
    // two solvers (eigendecomposition, Cholesky) agree on to ~1e-10: its digits beyond 1e-3 are theirs.
    CHECK(block_loss == Approx(crushed_loss).epsilon(1e-3));
}

TEST_CASE("regulariser selection on a validation split", "[training]") {
    // Few, noisy structures for many features: an unregularised fit overfits, a huge λ underfits.
    const LinearProblemShape shape{.structures = 10, .baselines = 2, .features = 40, .noise = 1.0};
    const LinearProblem training = linear_problem(shape, 17u);
    LinearProblem validation = linear_problem(shape, 18u);
    // Same truth for the validation structures: regenerate their targets from training's truth.
    for (auto& s : validation.structures) {
        s.targets += s.design * (training.truth - validation.truth);
    }
    const NormalEquations train_equations = accumulate(training.structures);
    const NormalEquations validation_equations = accumulate(validation.structures);
    const RegularisationLayout layout{.baseline_columns = 2};
    const LambdaGrid grid{.smallest = 1e-8, .largest = 1e2, .points = 21};

    const auto path = regulariser_path(train_equations, layout, grid);
    ValidationLosses losses(path);
    for (const auto& s : validation.structures) {
        losses.add_rows(s.design, s.targets, s.weights);
    }
    const auto selection = select_regulariser(path, losses);
    REQUIRE(selection.lambdas.size() == 21);
    CHECK(selection.lambdas.front() == 1e-8);
    CHECK(selection.lambdas.back() == 1e2);
    CHECK(selection.validation_loss <= selection.validation_losses.front());
    CHECK(selection.validation_loss <= selection.validation_losses.back());
    CHECK_FALSE(selection.at_grid_edge);
    CHECK(selection.lambda == selection.lambdas[selection.best]);
    CHECK(selection.largest_eigenvalue > selection.smallest_eigenvalue);

    // The eigendecomposition path gives the same fits as a direct solve at every λ, and each
    // loss is that fit's loss on the validation rows.
    for (std::size_t i = 0; i < selection.lambdas.size(); ++i) {
        CAPTURE(selection.lambdas[i]);
        const auto direct = solve_ridge(train_equations, layout, selection.lambdas[i]);
        CHECK(relative_error(path.weights.col(static_cast<Eigen::Index>(i)), direct.weights) < 1e-9);
        CHECK(row_loss(validation.structures, direct.weights) ==
              Approx(selection.validation_losses[i]).epsilon(1e-8));
        CHECK(validation_equations.loss(direct.weights) ==
              Approx(selection.validation_losses[i]).epsilon(1e-8));
    }
}

TEST_CASE("water-like baselines: collinear species columns still solve", "[training]") {
    // Every structure has N_H = 2 N_O: only b_O/3 + 2 b_H/3 is determined by the energies. The
    // tiny baseline ridge then picks the minimum-norm split, b ∝ (1, 2).
    const LinearProblem problem =
        linear_problem({.structures = 20, .baselines = 2, .features = 6, .water_like = true}, 23u);
    const NormalEquations equations = accumulate(problem.structures);
    const RegularisationLayout layout{.baseline_columns = 2};
    const auto solution = solve_ridge(equations, layout, 1e-14);
    INFO(solution.report.describe());
    CHECK_FALSE(solution.report.used_fallback);
    const double identified = (problem.truth[0] + 2.0 * problem.truth[1]) / 3.0;
    CHECK((solution.weights[0] + 2.0 * solution.weights[1]) / 3.0 == Approx(identified).epsilon(1e-9));
    CHECK(solution.weights[1] / solution.weights[0] == Approx(2.0).epsilon(1e-6));
    CHECK(solution.weights.tail(6).isApprox(problem.truth.tail(6), 1e-9));

    // Selection eliminates the same baselines through a Schur complement: it must agree.
    const auto selection =
        select(equations, problem.structures, layout, {.smallest = 1e-14, .largest = 1e-14, .points = 1});
    CHECK(selection.validation_loss < 1e-13 * equations.target_norm() / equations.weight_sum());
}

TEST_CASE("a singular system falls back to a raised Cholesky and says so", "[training]") {
    LinearProblem problem = linear_problem({.structures = 8, .baselines = 0, .features = 5}, 31u);
    for (auto& s : problem.structures) {
        s.design.col(4) = s.design.col(3);  // a duplicated feature
        s.targets = s.design * problem.truth;
    }
    const NormalEquations equations = accumulate(problem.structures);
    const auto solution = solve_ridge(equations, RegularisationLayout{}, 0.0);
    INFO(solution.report.describe());
    CHECK(solution.report.used_fallback);
    // τ = F ε ‖S‖₁ for the unit-diagonal matrix: ‖S‖₁ ≤ F = 5.
    CHECK(solution.report.raised_by > 0.0);
    CHECK(solution.report.raised_by <= 5.0 * 5.0 * std::numeric_limits<double>::epsilon());
    CHECK(solution.weights.allFinite());
    CHECK_THAT(solution.report.describe(), Contains("unreliable") && Contains("raised"));
    // Only the sum of the duplicated weights is determined: it is the truth's, and the split stays
    // near the even (minimum-norm) one, where an unreliable Cholesky answer may put anything. Not
    // exactly even: the rhs's rounding along the null direction is divided by τ, not dropped.
    CHECK(solution.weights[3] + solution.weights[4] == Approx(problem.truth[3] + problem.truth[4]));
    CHECK(std::abs(solution.weights[3] - solution.weights[4]) <
          0.1 * std::abs(solution.weights[3] + solution.weights[4]));
    CHECK(equations.loss(solution.weights) < 1e-13 * equations.target_norm() / equations.weight_sum());
    CHECK(solution.report.relative_residual < 1e-10);
}

TEST_CASE("bad regularisation settings are refused with the offending value", "[training]") {
    const LinearProblem problem = linear_problem({.structures = 4, .baselines = 1, .features = 4}, 2u);
    const NormalEquations equations = accumulate(problem.structures);
    CHECK_THROWS_WITH(solve_ridge(equations, {.baseline_columns = 1}, -1.0), Contains("λ = -1"));
    CHECK_THROWS_WITH(solve_ridge(equations, {.baseline_columns = 6}, 1.0), Contains("baseline_columns = 6"));
    CHECK_THROWS_WITH(solve_ridge(equations, {.baseline_columns = 1, .block_ends = {3, 4, 9}}, 1.0),
                      Contains("block end 9"));
    CHECK_THROWS_WITH(solve_ridge(equations, {.baseline_columns = 1, .block_ends = {3}}, 1.0),
                      Contains("ends at column 3"));
    CHECK_THROWS_WITH(
        solve_ridge(equations, {.baseline_columns = 1, .block_ends = {3, 5}, .block_lambdas = {1.0}}, 1.0),
        Contains("1 block λ values for 2"));
    CHECK_THROWS_WITH(
        solve_ridge(equations, {.baseline_columns = 1, .block_ends = {3, 5}, .block_lambdas = {1.0, 0.0}},
                    1.0),
        Contains("must be positive"));
    CHECK_THROWS_WITH(regulariser_path(equations, {}, {.smallest = 0.0}), Contains("0 < smallest"));
    CHECK_THROWS_WITH(regulariser_path(equations, {.baseline_columns = 6}, {}),
                      Contains("baseline_columns = 6"));
    const auto path = regulariser_path(equations, {.baseline_columns = 1}, {});
    ValidationLosses losses(path);
    CHECK_THROWS_WITH(
        losses.add_rows(Eigen::MatrixXd::Ones(1, 3), Eigen::VectorXd::Ones(1), Eigen::VectorXd::Ones(1)),
        Contains("3 columns"));
}
