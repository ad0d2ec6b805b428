#pragma once
// The input checks every consumer of weighted row blocks makes before it touches the numbers
// (NormalEquations::add_rows, ValidationLosses::add_rows): one row count for design, targets and
// weights, nothing non-finite, no negative weight. Column counts are checked by the callers,
// because what the columns must match differs (a normal matrix, a set of fitted weights).
#include <string_view>

#include <Eigen/Core>

namespace chorus::models::training::detail {

// Throws InputError naming the problem; `block` names the kind of block in the message
// ("design", "validation").
void check_row_block(const Eigen::Ref<const Eigen::MatrixXd>& design,
                     const Eigen::Ref<const Eigen::VectorXd>& targets,
                     const Eigen::Ref<const Eigen::VectorXd>& weights, std::string_view block);

}  // namespace chorus::models::training::detail
