#pragma once
// Ridge regression on accumulated normal equations: minimise
//   Σ_rows w (b − A x)²  +  Σ_j p_j x_j²,
// i.e. solve (AᵀWA + P) x = AᵀWb with a diagonal penalty P, and choose its strength on a
// validation split.
//
// Column layout (science.md §4, E = Σ_i [b(a_i) + w^{(a_i)}·X(i)]):
//   [0, baseline_columns)      per-species baselines: in an energy-per-atom row the fraction of
//                              atoms of each species (zero in force and virial rows, since atom
//                              counts do not depend on positions);
//   [baseline_columns, F)      features, split into blocks (e.g. one per species and body order).
//
// Penalty, with s_B = the mean diagonal of AᵀWA over the columns of block B (PenaltyScale::block)
// or s_j = the column's own diagonal (PenaltyScale::column):
//   feature block B:  p_j = λ · λ_B · s_B      (block)   or   p_j = λ · λ_B · s_j   (column)
//   baselines:        p_j = baseline_lambda · s_baselines, independent of λ.
// Per-column scaling is ridge on standardised features: every column, however small its values,
// is shrunk relative to its own size. With the block mean, a column whose values are 10⁻⁶ of the
// block's typical ones is penalised 10¹² λ relative to its own diagonal and is effectively
// dropped unless λ is tiny. (For the shipped water features both give the same errors: their
// columns are not that unequal; models/pretrained/README.md.)
// Scaling by s_B makes λ dimensionless, independent of feature units and of the amount of data
// (a committee member on half the structures gets half the penalty of the full fit, as it
// should), and lets blocks of very different magnitude share one λ. Baselines carry the mean
// energy per atom of each species, which must not be shrunk: baseline_lambda only pins down
// combinations that no energy distinguishes (in liquid water N_H = 2 N_O in every frame, so only
// b_O + 2 b_H is determined; the tiny ridge picks the minimum-norm split).
#include <cstddef>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "chorus/models/training/normal_equations.hpp"

namespace chorus::models::training {

// How the feature penalty is sized (header comment): by the block's mean diagonal or by each
// column's own diagonal (standardised features).
enum class PenaltyScale { block, column };

struct RegularisationLayout {
    Eigen::Index baseline_columns = 0;
    // Exclusive ends of the feature blocks, increasing, the last equal to F; empty means one
    // block [baseline_columns, F).
    std::vector<Eigen::Index> block_ends{};
    // Relative strength λ_B > 0 of each block; empty means 1 for every block.
    std::vector<double> block_lambdas{};
    double baseline_lambda = 1e-10;
    PenaltyScale scale = PenaltyScale::block;
};

// How a solve went. Every solve is first attempted by Cholesky on the Jacobi-scaled matrix (unit
// diagonal); if that fails or estimates a condition number beyond ~1e14, every eigenvalue of the
// scaled matrix is raised by its rounding level τ = F · ε · ‖S‖₁ and Cholesky factorises the
// result (a ridge of strength τ on top of λ: the directions rounding cannot resolve are damped,
// the others keep their answer).
struct SolveReport {
    bool used_fallback = false;
    double condition_estimate = 0.0;  // of the scaled, regularised (and raised) matrix, 1-norm estimate
    double raised_by = 0.0;           // τ, fallback only
    double relative_residual = 0.0;   // ‖(AᵀWA + P)x − AᵀWb‖ / ‖AᵀWb‖
    // One line for a log: what was solved, how, and whether the result can be trusted.
    std::string describe() const;
};

struct RidgeSolution {
    Eigen::VectorXd weights;
    SolveReport report;
};

// Solves at strength λ ≥ 0. Throws InputError for a negative or non-finite λ, or a layout that
// does not fit the equations (with the offending value).
RidgeSolution solve_ridge(const NormalEquations& equations, const RegularisationLayout& layout,
                          double lambda);

// Penalty diagonal p (length F) that solve_ridge uses at strength λ; for reports and tests.
Eigen::VectorXd ridge_penalty(const NormalEquations& equations, const RegularisationLayout& layout,
                              double lambda);

// λ values spaced evenly in log between smallest and largest, both included.
struct LambdaGrid {
    double smallest = 1e-10;
    double largest = 1.0;
    std::size_t points = 21;  // two per decade by default
    std::vector<double> values() const;
};

// The ridge fits of every grid λ on one set of training equations: the first half of choosing λ.
// The second half scores them on validation rows (ValidationLosses) and picks the best
// (select_regulariser). Scoring is split off because it must see the validation ROWS: a loss
// evaluated from validation normal equations, (xᵀGx − 2xᵀb + c)/Σw, has an absolute error of
// ~ε‖G‖‖x‖², and at a λ small enough for ill-conditioned weights to grow large that error swamps
// the loss (on the water features below λ ≈ 1e-16 it rounded to exactly 0 and that λ won).
struct RegulariserPath {
    std::vector<double> lambdas;
    Eigen::MatrixXd weights;  // F × L: column i is the fit at lambdas[i]
    // Eigenvalue range of the scaled feature matrix after eliminating the baselines; relative to
    // each λ it says how much that λ regularises.
    double smallest_eigenvalue = 0.0;
    double largest_eigenvalue = 0.0;
};

// Fits on `training` for every λ of the grid. One eigendecomposition of the penalty-scaled normal
// matrix (baselines eliminated exactly by a Schur complement) makes each grid point an O(F²)
// operation; the weights agree with solve_ridge at the same λ wherever that solve is well
// conditioned. Throws InputError for an empty grid, a non-positive bound or a layout that does
// not fit the equations.
RegulariserPath regulariser_path(const NormalEquations& training, const RegularisationLayout& layout,
                                 const LambdaGrid& grid);

// Validation losses of every fit of a path, Σ_r w_r (A_r x_λ − y_r)² / Σ_r w_r, accumulated from
// the rows themselves, one block (e.g. one structure) at a time, so that the rows never need to be
// stored together. The residuals are formed first (one product A·X per block), so the error of a
// loss is relative to the loss itself: ~u·|A_r||x|/|r| per residual, however large the weights.
// The product is taken in long double (u ≈ 5e-20 on x86-64): in double, the weights that grew
// 1e7-fold at λ = 1e-20 in the ill-conditioned test (test_validation_losses.cpp) left its loss
// only ~1e-9 accurate, enough to rank λ but not to trust the digits. The price: ~0.15–0.2 s on one
// core for a 577 × 2142 block and 37 λ, about what the block's validation Gram update cost before
// (water, 79 validation structures: 36 s for the whole pass, features included).
// Memory: the F × L weights and L sums, plus one block's residuals.
class ValidationLosses {
public:
    explicit ValidationLosses(const RegulariserPath& path);

    // Adds one block of rows: design (rows × F), targets (rows), weights (rows, ≥ 0, finite).
    // Throws InputError for mismatched sizes, non-finite entries or negative weights, as
    // NormalEquations::add_rows does.
    void add_rows(const Eigen::Ref<const Eigen::MatrixXd>& design,
                  const Eigen::Ref<const Eigen::VectorXd>& targets,
                  const Eigen::Ref<const Eigen::VectorXd>& weights);

    Eigen::Index features() const { return weights_.rows(); }
    std::size_t rows() const { return rows_; }
    double weight_sum() const { return weight_sum_; }
    // Weighted mean squared residual of each λ's fit (length L); all 0 while no row has weight.
    // A fit whose weights overflowed gives Inf or NaN here; select_regulariser skips it.
    std::vector<double> losses() const;

private:
    using ExtendedMatrix = Eigen::Matrix<long double, Eigen::Dynamic, Eigen::Dynamic>;
    ExtendedMatrix weights_;  // F × L, copied (exactly) from the path so that nothing can dangle
    Eigen::Matrix<long double, Eigen::Dynamic, 1> squared_sums_;  // L
    ExtendedMatrix residuals_;  // rows × L of the latest block, kept to reuse its allocation
    double weight_sum_ = 0.0;
    std::size_t rows_ = 0;
};

struct RegulariserSelection {
    std::vector<double> lambdas;
    std::vector<double> validation_losses;  // weighted mean squared error on the validation rows
    std::size_t best = 0;                   // index of the lowest finite loss
    double lambda = 0.0;                    // lambdas[best]
    double validation_loss = 0.0;           // validation_losses[best]
    // The best λ is the first or last grid point: the optimum may lie outside; widen the grid.
    bool at_grid_edge = false;
    // Grid indices whose loss is not finite (weights overflowed at that λ); never selected.
    std::vector<std::size_t> skipped{};
    // As in RegulariserPath.
    double smallest_eigenvalue = 0.0;
    double largest_eigenvalue = 0.0;
};

// Picks the λ of the path with the lowest finite validation loss. Throws InputError when the
// losses were accumulated for another path (other F or L), when no validation row has weight, or
// when no λ has a finite loss.
RegulariserSelection select_regulariser(const RegulariserPath& path, const ValidationLosses& validation);

// One log line per skipped λ of a selection ("regulariser: skipped lambda …"), for the trainers'
// progress output; `prefix` names the part of a model the selection is for ("" for a whole model).
std::vector<std::string> skipped_lambda_lines(const RegulariserSelection& selection,
                                              const std::string& prefix = "");

}  // namespace chorus::models::training
