// Choosing λ from validation ROWS (ValidationLosses) rather than validation normal equations.
#include <cmath>
#include <cstddef>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <Eigen/SVD>
#include <catch2/catch.hpp>

#include "chorus/error.hpp"
#include "chorus/models/training/normal_equations.hpp"
#include "chorus/models/training/ridge.hpp"
#include "linear_problem.hpp"

using Catch::Matchers::Contains;
using chorus::models::training::LambdaGrid;
using chorus::models::training::NormalEquations;
using chorus::models::training::RegularisationLayout;
using chorus::models::training::regulariser_path;
using chorus::models::training::RegulariserPath;
using chorus::models::training::select_regulariser;
using chorus::models::training::skipped_lambda_lines;
using chorus::models::training::ValidationLosses;
using chorus::test::linear_problem;
using chorus::test::LinearProblem;
using chorus::test::StructureRows;

namespace {

// The reference arithmetic: quadruple precision where the compiler has it (113-bit significand,
// well beyond the implementation's long double), else long double.
#ifdef __SIZEOF_FLOAT128__
using Reference = __float128;
#else
using Reference = long double;
#endif

// Σ w (a·x − y)² / Σ w of every path column, row by row in Reference precision.
std::vector<double> direct_losses(const std::vector<StructureRows>& structures, const RegulariserPath& path) {
    std::vector<double> losses;
    for (Eigen::Index l = 0; l < path.weights.cols(); ++l) {
        Reference squares = 0;
        Reference weight_sum = 0;
        for (const StructureRows& s : structures) {
            for (Eigen::Index r = 0; r < s.design.rows(); ++r) {
                Reference residual = -static_cast<Reference>(s.targets[r]);
                for (Eigen::Index j = 0; j < s.design.cols(); ++j) {
                    residual +=
                        static_cast<Reference>(s.design(r, j)) * static_cast<Reference>(path.weights(j, l));
                }
                squares += static_cast<Reference>(s.weights[r]) * residual * residual;
                weight_sum += static_cast<Reference>(s.weights[r]);
            }
        }
        losses.push_back(static_cast<double>(squares / weight_sum));
    }
    return losses;
}

std::size_t lowest(const std::vector<double>& values) {
    std::size_t best = 0;
    for (std::size_t i = 1; i < values.size(); ++i) {
        if (values[i] < values[best]) {
            best = i;
        }
    }
    return best;
}

NormalEquations accumulate(const std::vector<StructureRows>& structures) {
    NormalEquations equations(structures.front().design.cols());
    for (const auto& s : structures) {
        equations.add_rows(s.design, s.targets, s.weights);
    }
    return equations;
}

ValidationLosses score(const RegulariserPath& path, const std::vector<StructureRows>& structures) {
    ValidationLosses losses(path);
    for (const auto& s : structures) {
        losses.add_rows(s.design, s.targets, s.weights);
    }
    return losses;
}

// Rows a_r = c_r v + δ g_r (c_r, g_r standard normal): every row nearly parallel to one vector v,
// so that AᵀA has eigenvalues ~|v|² and ~δ², a condition number ~1e18 at δ = 1e-9; targets a·x* +
// noise σ. Ten rows per structure.
std::vector<StructureRows> nearly_collinear(std::size_t structures, const Eigen::VectorXd& direction,
                                            const Eigen::VectorXd& truth, double delta, double noise,
                                            std::mt19937_64& generator) {
    std::normal_distribution<double> normal;
    std::vector<StructureRows> blocks;
    for (std::size_t s = 0; s < structures; ++s) {
        StructureRows block;
        block.design.resize(10, direction.size());
        block.targets.resize(10);
        block.weights = Eigen::VectorXd::Ones(10);
        for (Eigen::Index r = 0; r < 10; ++r) {
            const double along = normal(generator);
            for (Eigen::Index j = 0; j < direction.size(); ++j) {
                block.design(r, j) = along * direction[j] + delta * normal(generator);
            }
            block.targets[r] = block.design.row(r).dot(truth) + noise * normal(generator);
        }
        blocks.push_back(std::move(block));
    }
    return blocks;
}

}  // namespace

TEST_CASE("ill-conditioned fits: the loss from the rows is exact where the normal-equation loss is rounding",
          "[training][ridge]") {
    std::mt19937_64 generator(5u);
    std::normal_distribution<double> normal;
    Eigen::VectorXd direction(6);
    Eigen::VectorXd truth(6);
    for (Eigen::Index j = 0; j < 6; ++j) {
        direction[j] = normal(generator);
        truth[j] = normal(generator);
    }
    const auto training = nearly_collinear(40, direction, truth, 1e-9, 1e-3, generator);
    const auto validation = nearly_collinear(500, direction, truth, 1e-9, 1e-3, generator);
    const NormalEquations training_equations = accumulate(training);
    {
        // From the rows' singular values (Jacobi SVD resolves the small ones, which an
        // eigendecomposition of AᵀA would bury in rounding): cond(AᵀA) = (σ_max/σ_min)².
        const Eigen::VectorXd singular =
            Eigen::JacobiSVD<Eigen::MatrixXd>(chorus::test::stacked(training).design).singularValues();
        const double condition = std::pow(singular.maxCoeff() / singular.minCoeff(), 2);
        INFO("singular values of A: " << singular.transpose() << "; condition of AᵀA " << condition);
        CHECK(condition > 1e14);
    }
    const LambdaGrid grid{.smallest = 1e-20, .largest = 1e-2, .points = 37};
    const RegulariserPath path = regulariser_path(training_equations, RegularisationLayout{}, grid);
    const ValidationLosses losses = score(path, validation);
    const auto selection = select_regulariser(path, losses);
    const std::vector<double> exact = direct_losses(validation, path);
    const NormalEquations validation_equations = accumulate(validation);

    // At the smallest λ the weights have grown ~1e7-fold along the near-null directions.
    INFO("|x| at λ = 1e-20: " << path.weights.col(0).norm()
                              << ", at λ = 1e-2: " << path.weights.col(36).norm());
    CHECK(path.weights.col(0).norm() > 1e4 * path.weights.col(36).norm());
    // The old loss, (xᵀGx − 2xᵀb + c)/Σw from the validation normal equations, is rounding
    // there: it clamps to 0 or misses the exact value by more than a factor 10.
    const double old_loss = validation_equations.loss(path.weights.col(0));
    INFO("λ = 1e-20: normal-equation loss " << old_loss << ", exact " << exact[0]);
    CHECK((old_loss == 0.0 || std::abs(old_loss - exact[0]) > 10.0 * exact[0]));
    std::vector<double> old_losses;
    for (Eigen::Index l = 0; l < path.weights.cols(); ++l) {
        old_losses.push_back(validation_equations.loss(path.weights.col(l)));
    }
    CHECK(lowest(old_losses) != lowest(exact));  // the trap: the old selection picks rounding

    // The loss from the rows agrees with the quadruple-precision evaluation at every λ.
    REQUIRE(selection.validation_losses.size() == exact.size());
    for (std::size_t i = 0; i < exact.size(); ++i) {
        CAPTURE(selection.lambdas[i], exact[i], old_losses[i]);
        CHECK(std::abs(selection.validation_losses[i] - exact[i]) < 1e-10 * exact[i]);
    }
    CHECK(selection.skipped.empty());
    CHECK(selection.best == lowest(exact));
    CHECK(selection.lambda == path.lambdas[lowest(exact)]);
    CHECK(losses.rows() == 5000);
    CHECK(losses.weight_sum() == 5000.0);
}

TEST_CASE("well-conditioned fits: selection from the rows equals the normal-equation selection",
          "[training][ridge]") {
    const chorus::test::LinearProblemShape shape{
        .structures = 10, .baselines = 2, .features = 40, .noise = 1.0};
    const LinearProblem training = linear_problem(shape, 17u);
    LinearProblem validation = linear_problem(shape, 18u);
    for (auto& s : validation.structures) {
        s.targets += s.design * (training.truth - validation.truth);
    }
    const RegularisationLayout layout{.baseline_columns = 2};
    const RegulariserPath path = regulariser_path(accumulate(training.structures), layout,
                                                  {.smallest = 1e-8, .largest = 1e2, .points = 21});
    const auto selection = select_regulariser(path, score(path, validation.structures));

    // What select_regulariser computed before it took rows: the same fits, scored by
    // NormalEquations::loss on the validation normal equations.
    const NormalEquations validation_equations = accumulate(validation.structures);
    std::vector<double> old_losses;
    for (Eigen::Index l = 0; l < path.weights.cols(); ++l) {
        old_losses.push_back(validation_equations.loss(path.weights.col(l)));
    }
    for (std::size_t i = 0; i < old_losses.size(); ++i) {
        CAPTURE(selection.lambdas[i]);
        CHECK(selection.validation_losses[i] == Approx(old_losses[i]).epsilon(1e-10));
    }
    CHECK(selection.best == lowest(old_losses));
    CHECK(selection.validation_loss == Approx(old_losses[lowest(old_losses)]).epsilon(1e-10));
    CHECK_FALSE(selection.at_grid_edge);
}

TEST_CASE("a λ whose loss is not finite is skipped, and all of them is an error", "[training][ridge]") {
    const LinearProblem problem =
        linear_problem({.structures = 6, .baselines = 1, .features = 4, .noise = 0.1}, 4u);
    RegulariserPath path = regulariser_path(accumulate(problem.structures), {.baseline_columns = 1},
                                            {.smallest = 1e-6, .largest = 1e-2, .points = 3});
    path.weights(2, 0) = std::numeric_limits<double>::quiet_NaN();  // as an overflowed fit would be
    const auto selection = select_regulariser(path, score(path, problem.structures));
    REQUIRE(selection.skipped.size() == 1);
    CHECK(selection.skipped.front() == 0);
    CHECK(selection.best != 0);
    CHECK(std::isfinite(selection.validation_loss));
    const std::vector<std::string> lines = skipped_lambda_lines(selection, " (isotropic)");
    REQUIRE(lines.size() == 1);
    CHECK_THAT(lines.front(), Contains("regulariser (isotropic): skipped lambda 1e-06") && Contains("nan"));

    path.weights.setConstant(std::numeric_limits<double>::infinity());
    CHECK_THROWS_WITH(select_regulariser(path, score(path, problem.structures)),
                      Contains("every λ") && Contains("raise regulariser.smallest"));
}

TEST_CASE("validation rows that do not fit the path are refused with the offending sizes",
          "[training][ridge]") {
    const LinearProblem problem = linear_problem({.structures = 4, .baselines = 1, .features = 4}, 2u);
    const RegulariserPath path =
        regulariser_path(accumulate(problem.structures), {.baseline_columns = 1}, {.points = 5});
    REQUIRE(path.weights.rows() == 5);
    REQUIRE(path.weights.cols() == 5);
    ValidationLosses losses(path);
    const StructureRows& rows = problem.structures.front();
    CHECK_THROWS_WITH(
        losses.add_rows(Eigen::MatrixXd::Ones(2, 4), Eigen::VectorXd::Ones(2), Eigen::VectorXd::Ones(2)),
        Contains("4 columns") && Contains("have 5"));
    CHECK_THROWS_WITH(
        losses.add_rows(rows.design, Eigen::VectorXd::Ones(rows.design.rows() + 1), rows.weights),
        Contains("targets"));
    CHECK_THROWS_WITH(losses.add_rows(rows.design, rows.targets, Eigen::VectorXd::Ones(1)),
                      Contains("1 weights"));
    Eigen::VectorXd negative = rows.weights;
    negative[0] = -2.0;
    CHECK_THROWS_WITH(losses.add_rows(rows.design, rows.targets, negative),
                      Contains("validation row weight -2") && Contains("negative"));
    Eigen::MatrixXd broken = rows.design;
    broken(0, 0) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH(losses.add_rows(broken, rows.targets, rows.weights), Contains("NaN"));
    CHECK(losses.rows() == 0);  // nothing refused was counted

    // No weighted validation row: nothing to choose λ with.
    CHECK_THROWS_WITH(select_regulariser(path, losses), Contains("no validation row"));
    losses.add_rows(rows.design, rows.targets, Eigen::VectorXd::Zero(rows.design.rows()));
    CHECK_THROWS_AS(select_regulariser(path, losses), chorus::InputError);

    // Losses of another path (other grid length or feature count).
    const RegulariserPath shorter =
        regulariser_path(accumulate(problem.structures), {.baseline_columns = 1}, {.points = 3});
    CHECK_THROWS_WITH(select_regulariser(shorter, score(path, problem.structures)),
                      Contains("do not belong to this path"));
    RegulariserPath hand_made;
    hand_made.lambdas = {1.0, 2.0};
    hand_made.weights = Eigen::MatrixXd::Zero(5, 3);
    CHECK_THROWS_WITH(ValidationLosses{hand_made}, Contains("2 λ values has 3 weight columns"));
    CHECK_THROWS_AS(regulariser_path(accumulate(problem.structures), {}, {.smallest = 0.0}),
                    chorus::InputError);
}
