#pragma once
// Weighted least squares on a stream of row blocks, kept as its normal equations: AᵀWA (F × F),
// AᵀWb (F) and bᵀWb, so that training never stores the rows themselves (a water frame of 192
// atoms is 577 rows of F ≈ 4000 features; 300 frames would be 5 GB, their normal matrix 128 MB).
//
// A row is one target: an energy per atom, a force component, a virial component per atom. W is
// diagonal: one weight per row, typically 1/(expected error of that kind of target)², so that
// energies and forces, which differ in units and number, enter the loss on a common footing
// (science.md §4). loss(w) is the weighted mean squared error of a weight vector on the rows,
// without the rows; it is a diagnostic, not a way to choose λ (see loss() and ridge.hpp).
#include <cstddef>

#include <Eigen/Core>

namespace chorus::models::training {

class NormalEquations {
public:
    explicit NormalEquations(Eigen::Index features);

    // Adds the rows of one block: design (rows × F), targets (rows), weights (rows, ≥ 0, finite).
    // The Gram update is a rank-k update (BLAS-3), on the lower triangle only.
    // Throws InputError for mismatched sizes, non-finite entries or negative weights.
    void add_rows(const Eigen::Ref<const Eigen::MatrixXd>& design,
                  const Eigen::Ref<const Eigen::VectorXd>& targets,
                  const Eigen::Ref<const Eigen::VectorXd>& weights);

    // Adds the rows another accumulator has seen (e.g. one structure's block into a member).
    void add(const NormalEquations& other);

    Eigen::Index features() const { return moment_.size(); }
    std::size_t rows() const { return rows_; }
    double weight_sum() const { return weight_sum_; }

    // AᵀWA as a symmetric view: `Eigen::MatrixXd g = equations.gram();` makes a full copy, and
    // `equations.gram() * w` multiplies without one.
    auto gram() const { return gram_.selfadjointView<Eigen::Lower>(); }
    Eigen::VectorXd gram_diagonal() const { return gram_.diagonal(); }
    const Eigen::VectorXd& moment() const { return moment_; }  // AᵀWb
    double target_norm() const { return target_norm_; }        // bᵀWb

    // Weighted mean squared residual Σ w (b − A x)² / Σ w of the accumulated rows, evaluated as
    // (xᵀAᵀWAx − 2xᵀAᵀWb + bᵀWb)/Σw. The terms cancel: the absolute error is ~ε‖AᵀWA‖‖x‖², which
    // swamps the loss of ill-conditioned fits with large weights (that is why λ is scored on the
    // validation rows themselves: ValidationLosses in ridge.hpp). 0 when no row has weight.
    double loss(const Eigen::Ref<const Eigen::VectorXd>& weights) const;

private:
    Eigen::MatrixXd gram_;  // lower triangle holds AᵀWA; the strict upper triangle is unused
    Eigen::VectorXd moment_;
    double target_norm_ = 0.0;
    double weight_sum_ = 0.0;
    std::size_t rows_ = 0;
};

}  // namespace chorus::models::training
