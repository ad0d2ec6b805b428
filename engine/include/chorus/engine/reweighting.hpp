#pragma once
// Averages of a trajectory sampled with one potential, reweighted to each member of a committee
// (shared/science.md §6; Imbalzano et al., J. Chem. Phys. 154, 074102 (2021)). The trajectory was
// sampled with the mean potential V̄ (or a given sampling potential) at inverse temperature β; for
// member i the frame weight is w_i = exp(−β ΔV_i) with ΔV_i = V_i − V̄.
//
// Shapes: potentials are frames × M (members), observables frames × K (observables, or observable
// models with multi_model_uncertainty). Energies in any unit, with β in its inverse (chorus: eV).
#include <optional>
#include <span>

#include <Eigen/Core>

namespace chorus::engine {

// ΔV_i per frame: member potentials minus the member mean, or minus `sampling_potential` (one per
// frame) when the trajectory was sampled with something else than the committee mean.
Eigen::MatrixXd potential_deviations(const Eigen::MatrixXd& member_potentials,
                                     const std::optional<Eigen::VectorXd>& sampling_potential = std::nullopt);

// Path integrals: the reweighting potential is the bead average (1/P) Σ_k V_i(q_k).
// `records` has frames·P rows, the P beads of a frame consecutive (bead 0 … P−1, then the next
// frame), and one column per member.
Eigen::MatrixXd bead_average(const Eigen::MatrixXd& records, int beads);
// The same with one frames × M matrix per bead (e.g. one i-PI output file per bead).
Eigen::MatrixXd bead_average(std::span<const Eigen::MatrixXd> per_bead);

struct ReweightedAverages {
    Eigen::VectorXd sampled;           // K: ⟨a⟩, the plain average under the sampling potential
    Eigen::MatrixXd members;           // K × M: ⟨a⟩_i
    Eigen::VectorXd member_mean;       // K: mean over i of ⟨a⟩_i (i-PI's "Mean" column)
    Eigen::VectorXd committee_spread;  // K: standard deviation over i of ⟨a⟩_i, ddof 1
};

// Exact reweighting ⟨a⟩_i = Σ_t a_t w_it / Σ_t w_it, with the weights shifted by their largest
// exponent (log-sum-exp), so no overflow whatever β ΔV is.
ReweightedAverages reweight_exact(const Eigen::MatrixXd& deviations, const Eigen::MatrixXd& observables,
                                  double beta);

// Cumulant expansion to first order: ⟨a⟩_i ≈ ⟨a⟩ − β (⟨a ΔV_i⟩ − ⟨a⟩⟨ΔV_i⟩), evaluated as a
// covariance of centred series (no cancellation between two large products).
ReweightedAverages reweight_cumulant(const Eigen::MatrixXd& deviations, const Eigen::MatrixXd& observables,
                                     double beta);

// Kish's effective sample size (Σ_t w_it)² / Σ_t w_it² per member (M): the number of frames the
// exact estimate is really worth. Between 1 and frames.
Eigen::VectorXd effective_sample_sizes(const Eigen::MatrixXd& deviations, double beta);

// An observable predicted by N_a models, on a trajectory sampled with a committee of M potentials:
// the decomposition of Imbalzano et al. 2021, Eqs. 26–28.
struct ObservableCommitteeUncertainty {
    double mean = 0.0;      // ⟨ā⟩: the plain average over frames and observable models
    double sigma_a = 0.0;   // spread of the observable models' plain averages (Eq. 27, ddof 1)
    double sigma_av = 0.0;  // mean over observable models of the spread over potential members (Eq. 28)
    double total = 0.0;     // sqrt of Eq. 26's weighted sum of the two variances
};

// `reweighted` is reweight_exact() or reweight_cumulant() applied to the frames × N_a matrix of
// observable-model predictions (so members is N_a × M). Needs N_a ≥ 2 and M ≥ 2 (InputError).
ObservableCommitteeUncertainty observable_committee_uncertainty(const ReweightedAverages& reweighted);

}  // namespace chorus::engine
