#pragma once
// What a committee of M models predicts for one structure: the mean (what drives the dynamics)
// and each member, with the spread as the uncertainty. Units: eV, eV/Å, eV.
#include <cstddef>
#include <span>
#include <vector>

#include <Eigen/Core>

namespace chorus::engine {

// Which parts of a result the caller needs; models skip the rest.
struct ComputeRequest {
    bool forces = true;
    bool virial = true;
    bool member_forces = false;    // per-member forces (one adjoint pass each for linear models)
    bool member_virials = false;   // per-member virials
    bool atomic_energies = false;  // per-atom energies of every member (committee logs); costs N × M memory
};

// Standard deviation of committee members' values with ddof 1 (science.md §5: σ² = Σ (y_k − ȳ)²/(M − 1));
// 0 when M < 2. The one definition every report of a member spread uses.
double member_spread(std::span<const double> members);

struct CommitteeResult {
    // Mean over members. The virial is W = −∂E/∂ε = Σ_pairs r_ij ⊗ f_ij (i-PI's convention;
    // ASE's stress is −W/V).
    double energy = 0.0;
    Eigen::Matrix3Xd forces;
    Eigen::Matrix3d virial = Eigen::Matrix3d::Zero();

    Eigen::VectorXd member_energies;              // M, always
    std::vector<Eigen::Matrix3Xd> member_forces;  // M when requested, else empty
    std::vector<Eigen::Matrix3d> member_virials;  // M when requested, else empty
    // N × M per-atom energies e_ik with Σ_i e_ik = member_energies[k], when requested. reset() fills
    // it with NaN, so a model that cannot split its energy into atoms leaves it NaN rather than a
    // plausible-looking zero; models that can overwrite every entry.
    Eigen::MatrixXd member_atomic_energies;

    std::size_t committee_size() const { return static_cast<std::size_t>(member_energies.size()); }

    // Sizes every requested part for M members and N atoms and zeroes it; keeps capacity.
    void reset(std::size_t members, std::size_t atoms, const ComputeRequest& request);

    // Sets energy/forces/virial to the member means (for models that compute members one by one).
    void set_mean_from_members();

    // Standard deviation of member energies with ddof 1 (0 when M < 2).
    double energy_spread() const;

    // Per atom, the standard deviation over members of its energy, ddof 1 (N; zeros when M < 2,
    // empty when per-atom energies were not requested).
    Eigen::VectorXd atomic_energy_spread() const;

    // Calibrates the committee: y_k ← ȳ + α (y_k − ȳ) for energies, per-atom energies, forces and virials
    // alike, so each member's forces stay minus the gradient of its energy. The mean is unchanged.
    void apply_calibration(double alpha);
};

}  // namespace chorus::engine
