#include "row_block_check.hpp"

#include <sstream>
#include <string>

#include "chorus/error.hpp"

namespace chorus::models::training::detail {

void check_row_block(const Eigen::Ref<const Eigen::MatrixXd>& design,
                     const Eigen::Ref<const Eigen::VectorXd>& targets,
                     const Eigen::Ref<const Eigen::VectorXd>& weights, std::string_view block) {
    const std::string name(block);
    if (targets.size() != design.rows() || weights.size() != design.rows()) {
        throw InputError("a " + name + " block has " + std::to_string(design.rows()) + " rows but " +
                         std::to_string(targets.size()) + " targets and " + std::to_string(weights.size()) +
                         " weights; pass one of each per row");
    }
    if (!design.allFinite() || !targets.allFinite() || !weights.allFinite()) {
        throw InputError("a " + name + " block of " + std::to_string(design.rows()) +
                         " rows contains NaN or Inf (design, targets or weights); check the "
                         "reference data and the features of that structure");
    }
    if (weights.size() > 0 && weights.minCoeff() < 0.0) {
        std::ostringstream weight;
        weight.precision(6);
        weight << weights.minCoeff();
        throw InputError(name + " row weight " + weight.str() +
                         " is negative; weights are 1/error² and must be ≥ 0");
    }
}

}  // namespace chorus::models::training::detail
