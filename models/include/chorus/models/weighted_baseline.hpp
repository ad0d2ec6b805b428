#pragma once
// The weighted baseline of Imbalzano et al. (JCP 2021), science.md §5: a committee trained as a
// correction ΔV to a cheap physical baseline V_b of uncertainty s_b gives
//
//     V = V_b + w ΔV̄,   w = s_b² / (s_b² + σ²),
//
// so the model falls back to the baseline where the committee is uncertain (σ ≫ s_b). Forces and
// virials differentiate w too (σ² depends on the positions), exactly as i-PI's <ffcommittee> does.
//
// Members: V_k = V + √w (ΔV_k − ΔV̄). Their mean is V and their spread √w σ = (1/σ² + 1/s_b²)^(−1/2),
// the error of the two independent estimates combined, so reweighting to members and the committee
// uncertainty stay meaningful. Member forces are minus the exact gradient of V_k.
#include <memory>

#include "chorus/engine/model.hpp"

namespace chorus::models {

class WeightedBaselineModel final : public engine::Model {
public:
    // `correction` must be a committee (M ≥ 2) whose calibration is already applied by its
    // evaluate(); `baseline_uncertainty` is s_b in eV (per structure), > 0; +∞ gives the plain sum
    // V_b + ΔV_k (what `train --baseline` fitted), with members V_b + ΔV_k. Throws ConfigError.
    WeightedBaselineModel(std::shared_ptr<const engine::Model> baseline,
                          std::shared_ptr<const engine::Model> correction, double baseline_uncertainty);

    std::string_view kind() const override { return "weighted-baseline"; }
    std::string description() const override;
    std::span<const int> species() const override { return correction_->species(); }
    double cutoff() const override;
    std::size_t committee_size() const override { return correction_->committee_size(); }

    double baseline_uncertainty() const { return baseline_uncertainty_; }

protected:
    void compute(const engine::System& system, const engine::ComputeRequest& request,
                 engine::CommitteeResult& result) const override;

private:
    std::shared_ptr<const engine::Model> baseline_;
    std::shared_ptr<const engine::Model> correction_;
    double baseline_uncertainty_;
};

}  // namespace chorus::models
