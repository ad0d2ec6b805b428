#pragma once
// One evaluation of a model, and the deformed structures that finite-difference checks of its
// forces and virial need; shared by the tests of the energy models.
#include <Eigen/Core>

#include "chorus/engine/committee_result.hpp"
#include "chorus/engine/model.hpp"
#include "chorus/engine/system.hpp"

namespace chorus::test {

inline engine::CommitteeResult evaluate_model(const engine::Model& model, const engine::System& system,
                                              const engine::ComputeRequest& request) {
    engine::CommitteeResult result;
    model.evaluate(system, request, result);
    return result;
}

// The same structure with every atom and the cell deformed by (1 + strain).
inline engine::System strained(const engine::System& system, const Eigen::Matrix3d& strain) {
    const Eigen::Matrix3d deformation = Eigen::Matrix3d::Identity() + strain;
    return engine::System(system.atomic_numbers(), deformation * system.positions(),
                          deformation * system.cell(), system.periodic());
}

}  // namespace chorus::test
