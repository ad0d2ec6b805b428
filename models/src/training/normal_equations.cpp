#include "chorus/models/training/normal_equations.hpp"

#include <algorithm>
#include <string>

#include <Eigen/Core>

#include "chorus/error.hpp"
#include "row_block_check.hpp"

namespace chorus::models::training {

NormalEquations::NormalEquations(Eigen::Index features) {
    if (features <= 0) {
        throw InputError("normal equations need at least one feature column, got " +
                         std::to_string(features));
    }
    gram_.setZero(features, features);
    moment_.setZero(features);
}

void NormalEquations::add_rows(const Eigen::Ref<const Eigen::MatrixXd>& design,
                               const Eigen::Ref<const Eigen::VectorXd>& targets,
                               const Eigen::Ref<const Eigen::VectorXd>& weights) {
    if (design.cols() != features()) {
        throw InputError("a design block has " + std::to_string(design.cols()) +
                         " columns but the model has " + std::to_string(features()) +
                         " features; build every block with the same feature layout");
    }
    detail::check_row_block(design, targets, weights, "design");
    if (design.rows() == 0) {
        return;
    }
    // √W A once, then AᵀWA = (√W A)ᵀ(√W A) as one rank-k update of the lower triangle.
    const Eigen::MatrixXd scaled = weights.cwiseSqrt().asDiagonal() * design;
    gram_.selfadjointView<Eigen::Lower>().rankUpdate(scaled.transpose());
    moment_.noalias() += design.transpose() * weights.cwiseProduct(targets);
    target_norm_ += weights.dot(targets.cwiseAbs2());
    weight_sum_ += weights.sum();
    rows_ += static_cast<std::size_t>(design.rows());
}

void NormalEquations::add(const NormalEquations& other) {
    if (other.features() != features()) {
        throw InputError("cannot add normal equations of " + std::to_string(other.features()) +
                         " features to ones of " + std::to_string(features()));
    }
    gram_.triangularView<Eigen::Lower>() += other.gram_;
    moment_ += other.moment_;
    target_norm_ += other.target_norm_;
    weight_sum_ += other.weight_sum_;
    rows_ += other.rows_;
}

double NormalEquations::loss(const Eigen::Ref<const Eigen::VectorXd>& weights) const {
    if (weights.size() != features()) {
        throw InputError("a weight vector of length " + std::to_string(weights.size()) + " does not fit " +
                         std::to_string(features()) + " features");
    }
    if (weight_sum_ <= 0.0) {
        return 0.0;
    }
    const Eigen::VectorXd gram_weights = gram() * weights;
    const double squared = weights.dot(gram_weights) - 2.0 * weights.dot(moment_) + target_norm_;
    // A residual sum of squares cannot be negative; a tiny negative value is rounding.
    return std::max(squared, 0.0) / weight_sum_;
}

}  // namespace chorus::models::training
