#pragma once
// Equivariant features of whole structures (science.md §1–4): the density c^a_{nlm}(i) of every
// centre, the invariants X(i) of feature_settings.hpp, their ADJOINT (forces and virial from
// ∂E/∂X without materialising ∂X/∂r), a forward-mode design matrix for training linear models, and
// λ-SOAP equivariant blocks.
//
// How the adjoint works. For every centre, g(i) = ∂E/∂c(i) is cheap (a contraction of ∂E/∂X(i)
// with c(i), the ν-body product rule). One pass over the centre's pairs then turns g into pair
// gradients ∂E/∂r_ij by contracting over n first (G_lm = Σ_n g_nlm g_nl(r), likewise with g'),
// then ∇ = Σ_lm [G'_lm Y_lm r̂ + G_lm ∇Y_lm]. Forces: F_j −= ∂E/∂r_ij, F_i += ∂E/∂r_ij; virial
// W = Σ_pairs r_ij ⊗ f_ij with f_ij = −∂E/∂r_ij. For local orders (ν ≤ 3) the forward and backward
// passes of a centre are fused so its pair terms (Y, ∇Y, g, g') are computed once and stay in cache.
// λ-SOAP blocks use the same machinery (backward_equivariant): g(i) = ∂L/∂c(i) from ∂L/∂B(i) by the
// product rule through the CG coupling, then the same pair contraction.
// [1←1] features depend on the neighbours' densities: g is also accumulated into every
// neighbour's density (by a gather over the full neighbour list, so no two threads write the same
// row) and the bond adds its own pair gradient; pairs therefore reach 2 r_c in effect.
//
// Threads: TBB over centres with per-thread force/virial accumulators; results agree between
// thread counts to rounding (1e-12 relative), not bitwise. Scratch lives in a FeatureWorkspace
// (one per concurrent caller); after the first call with a given structure size nothing allocates.
//
// Units: Å in, features in the units of the density (Å^{-3/2} per factor); forces and virials in
// the units of E per Å and of E.
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "chorus/engine/system.hpp"
#include "chorus/models/features/feature_settings.hpp"

namespace chorus::models::features {

namespace detail {
struct FeatureTables;
struct WorkspaceState;
}  // namespace detail

// One row per centre (atom), one column per invariant feature.
using FeatureMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Training rows of one structure for the linear model E = Σ_i w^{(a_i)} · X(i), whose weights are
// stacked as w = [w^{(0)}; w^{(1)}; …] (S·F, species channel major).
struct StructureDesign {
    Eigen::VectorXd energy;  // S·F: Σ_{i of channel s} X(i); E = energy · w
    Eigen::MatrixXd forces;  // 3N × S·F: −∂(Σ_{i of channel s} X(i))/∂r_{j,d} at row 3j + d; F = forces · w
    Eigen::MatrixXd virial;  // 9 × S·F: row 3α + β gives W_αβ = Σ_pairs r_α f_β; W = virial · w
};

// Reusable scratch of a FeatureCalculator (neighbour list, densities, per-thread buffers). Holds
// the state of the last call: backward() uses the densities a compute() left (compute_linear and
// compute_linear_committee keep none), backward_equivariant() those of a compute_equivariant() with
// the same λ.
class FeatureWorkspace {
public:
    FeatureWorkspace(FeatureWorkspace&&) noexcept;
    FeatureWorkspace& operator=(FeatureWorkspace&&) noexcept;
    ~FeatureWorkspace();

private:
    friend class FeatureCalculator;
    explicit FeatureWorkspace(std::unique_ptr<detail::WorkspaceState> state);
    std::unique_ptr<detail::WorkspaceState> state_;
};

class FeatureCalculator {
public:
    // Validates the settings (ConfigError) and sets up splines, harmonics and CG tables.
    explicit FeatureCalculator(FeatureSettings settings);
    ~FeatureCalculator();
    FeatureCalculator(const FeatureCalculator&) = delete;
    FeatureCalculator& operator=(const FeatureCalculator&) = delete;

    const FeatureSettings& settings() const { return settings_; }
    // Number of invariant features F and their names (feature_settings.hpp).
    std::size_t size() const;
    const std::vector<std::string>& names() const { return names_; }
    // Number of species channels S.
    std::size_t species() const { return settings_.species.size(); }
    // r_c, or 2 r_c with [1←1] features.
    double interaction_range() const { return settings_.interaction_range(); }
    // Size of one centre's density c(i) (S · n_max · (l_max+1)², padded layout).
    std::size_t density_size() const;

    FeatureWorkspace workspace() const;

    // X(i) for every atom: features is resized to N × F. Throws InputError for atoms whose
    // species the settings do not list, or two atoms on top of each other.
    void compute(const engine::System& system, FeatureWorkspace& workspace, FeatureMatrix& features) const;

    // Adjoint of the last compute() on this workspace (same system): given ∂E/∂X (N × F), the
    // forces −∂E/∂r (3 × N) and the virial W = −∂E/∂ε. Throws InputError on a size mismatch.
    void backward(const engine::System& system, FeatureWorkspace& workspace, const FeatureMatrix& gradient,
                  Eigen::Matrix3Xd& forces, Eigen::Matrix3d& virial) const;

    // The fused path for E = Σ_i w^{(a_i)} · X(i), weights S × F (row = species channel): returns E,
    // fills forces and virial, and the features too when `features` is not null. `channel_sums`,
    // when not null, becomes S × F: row a = Σ_{i of channel a} X(i) (all a linear committee needs for
    // its member energies, without the N × F feature matrix).
    double compute_linear(const engine::System& system, FeatureWorkspace& workspace,
                          const Eigen::MatrixXd& weights, Eigen::Matrix3Xd& forces, Eigen::Matrix3d& virial,
                          FeatureMatrix* features = nullptr, Eigen::MatrixXd* channel_sums = nullptr) const;

    // The fused path for a committee of linear models on the same features, E_k = Σ_i w_k^{(a_i)} · X(i)
    // with weights[k] S × F: every member's energy, forces and virial from ONE pass over the pairs.
    // The pair terms (Y, ∇Y, g, g') are evaluated once per centre; only the adjoint ∂E_k/∂c(i) and
    // its contraction with the pair terms are per member. Member k's forces equal compute_linear()
    // with weights[k] to rounding (1e-12 relative). Fills the features too when `features` is not
    // null, and `channel_sums` as compute_linear(). With [1←1] features: one compute() and one
    // adjoint pass per member.
    void compute_linear_committee(const engine::System& system, FeatureWorkspace& workspace,
                                  std::span<const Eigen::MatrixXd> weights, Eigen::VectorXd& energies,
                                  std::vector<Eigen::Matrix3Xd>& forces,
                                  std::vector<Eigen::Matrix3d>& virials, FeatureMatrix* features = nullptr,
                                  Eigen::MatrixXd* channel_sums = nullptr) const;

    // Forward-mode training rows (StructureDesign). Dense: 3N × S·F doubles. Local orders go through
    // the product rule per pair; [1←1] columns are built by one adjoint pass each (slower, exact).
    void design(const engine::System& system, FeatureWorkspace& workspace, StructureDesign& design) const;

    // λ-SOAP block of one λ (listed in settings.lambda_soap_lambdas or not, 0 ≤ λ ≤ 2 l_max; λ = 0
    // is the power spectrum through the CG route, (−1)^l/√(2l+1) Σ_m, kept for cross-checks):
    // rows centre·(2λ+1) + μ (μ = m + λ, the m-order of spherical_harmonics.hpp; row-major, so each
    // centre writes and its consumers read contiguous memory at any size), columns
    // equivariant_feature_names(settings, λ). Computes the densities itself.
    void compute_equivariant(const engine::System& system, FeatureWorkspace& workspace, int lambda,
                             FeatureMatrix& blocks) const;

    // Adjoint of the last compute_equivariant(system, workspace, λ, blocks) on this workspace (same
    // system): given ∂L/∂B (the shape of blocks), the forces −∂L/∂r (3 × N) and the virial
    // W_αβ = −∂L/∂ε_αβ under r → (1 + ε) r (positions and cell), as backward(). L need not be
    // rotation invariant, so W need not be symmetric: it is Σ_pairs f_ij ⊗ r_ij, the transpose of
    // science.md's Σ r_ij ⊗ f_ij (the two agree for invariants). Throws InputError on a shape mismatch, or
    // when the workspace's last call was not compute_equivariant with this λ on a structure of this size.
    void backward_equivariant(const engine::System& system, FeatureWorkspace& workspace, int lambda,
                              const FeatureMatrix& gradient, Eigen::Matrix3Xd& forces,
                              Eigen::Matrix3d& virial) const;

    // The same for several ∂L_k/∂B at once (e.g. the three Cartesian components of a dipole, for
    // every committee member): the pair terms are evaluated once per centre and shared, as in
    // compute_linear_committee. forces[k], virials[k] equal the single call with gradients[k] to
    // rounding.
    void backward_equivariant(const engine::System& system, FeatureWorkspace& workspace, int lambda,
                              std::span<const FeatureMatrix> gradients, std::vector<Eigen::Matrix3Xd>& forces,
                              std::vector<Eigen::Matrix3d>& virials) const;

private:
    FeatureSettings settings_;
    std::vector<std::string> names_;
    std::unique_ptr<detail::FeatureTables> tables_;
};

}  // namespace chorus::models::features
