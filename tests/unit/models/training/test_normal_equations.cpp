#include <limits>

#include <catch2/catch.hpp>

#include "chorus/error.hpp"
#include "chorus/models/training/normal_equations.hpp"
#include "linear_problem.hpp"

using Catch::Matchers::Contains;
using chorus::models::training::NormalEquations;
using chorus::test::linear_problem;
using chorus::test::LinearProblemShape;
using chorus::test::stacked;

namespace {

double relative_difference(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
    return (a - b).norm() / b.norm();
}

}  // namespace

TEST_CASE("streamed normal equations equal the one-shot dense products", "[training]") {
    const auto problem =
        linear_problem({.structures = 25, .baselines = 3, .features = 11, .noise = 0.3}, 11u);
    NormalEquations streamed(14);
    for (const auto& s : problem.structures) {
        streamed.add_rows(s.design, s.targets, s.weights);
    }
    const auto all = stacked(problem.structures);
    const Eigen::MatrixXd dense_gram = all.design.transpose() * all.weights.asDiagonal() * all.design;
    const Eigen::VectorXd dense_moment = all.design.transpose() * all.weights.cwiseProduct(all.targets);

    const Eigen::MatrixXd gram = streamed.gram();
    CHECK(relative_difference(gram, dense_gram) < 1e-13);
    CHECK(relative_difference(streamed.moment(), dense_moment) < 1e-13);
    CHECK(streamed.gram_diagonal().isApprox(dense_gram.diagonal(), 1e-13));
    CHECK(streamed.target_norm() == Approx(all.weights.dot(all.targets.cwiseAbs2())).epsilon(1e-13));
    CHECK(streamed.weight_sum() == Approx(all.weights.sum()));
    CHECK(streamed.rows() == static_cast<std::size_t>(all.design.rows()));

    // loss(x) from the normal equations = the weighted mean squared residual of the rows.
    const Eigen::VectorXd guess = problem.truth + 0.1 * Eigen::VectorXd::Ones(14);
    const Eigen::VectorXd residual = all.targets - all.design * guess;
    const double direct = all.weights.dot(residual.cwiseAbs2()) / all.weights.sum();
    CHECK(streamed.loss(guess) == Approx(direct).epsilon(1e-10));
}

TEST_CASE("adding accumulators equals adding their rows", "[training]") {
    const auto problem = linear_problem({.structures = 6, .baselines = 1, .features = 4}, 5u);
    NormalEquations first(5);
    NormalEquations second(5);
    NormalEquations together(5);
    for (std::size_t s = 0; s < problem.structures.size(); ++s) {
        const auto& rows = problem.structures[s];
        (s % 2 == 0 ? first : second).add_rows(rows.design, rows.targets, rows.weights);
        together.add_rows(rows.design, rows.targets, rows.weights);
    }
    first.add(second);
    CHECK(relative_difference(Eigen::MatrixXd(first.gram()), Eigen::MatrixXd(together.gram())) < 1e-14);
    CHECK(first.moment().isApprox(together.moment(), 1e-14));
    CHECK(first.rows() == together.rows());
    CHECK(first.weight_sum() == Approx(together.weight_sum()));
}

TEST_CASE("bad rows are refused with the offending value", "[training]") {
    NormalEquations equations(3);
    const Eigen::MatrixXd design = Eigen::MatrixXd::Ones(2, 3);
    const Eigen::VectorXd targets = Eigen::VectorXd::Ones(2);
    Eigen::VectorXd weights = Eigen::VectorXd::Ones(2);

    CHECK_THROWS_WITH(equations.add_rows(Eigen::MatrixXd::Ones(2, 4), targets, weights),
                      Contains("4 columns") && Contains("3 features"));
    CHECK_THROWS_WITH(equations.add_rows(design, Eigen::VectorXd::Ones(3), weights), Contains("3 targets"));
    weights[1] = -2.0;
    CHECK_THROWS_AS(equations.add_rows(design, targets, weights), chorus::InputError);
    CHECK_THROWS_WITH(equations.add_rows(design, targets, weights), Contains("design row weight -2"));
    weights[1] = std::numeric_limits<double>::infinity();
    CHECK_THROWS_WITH(equations.add_rows(design, targets, weights), Contains("NaN or Inf"));
    CHECK_THROWS_AS(NormalEquations(0), chorus::InputError);
    CHECK(equations.rows() == 0);  // nothing was half-added
    CHECK(equations.loss(Eigen::VectorXd::Ones(3)) == 0.0);
}
