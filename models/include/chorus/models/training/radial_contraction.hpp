#pragma once
// Data-driven ("optimal") radial basis by contraction (Goscinski, Musil, Pozdnyakov, Nigam,
// Ceriotti, J. Chem. Phys. 155, 104106 (2021)). The density is expanded in a large primitive basis
// (primitive_n_max functions per l); for every l the covariance of its coefficients over the
// training centres,
//   C_l[n, n'] = Σ_centres Σ_species channels a Σ_m c^a_{nlm} c^a_{n'lm},
// (uncentred, species pooled so that one table of radial functions still serves every species)
// is diagonalised, and its top n_max eigenvectors U_l become the contraction of radial_basis.hpp:
// R'_ql = Σ_n U_l[n, q] R_nl. Ordered by descending eigenvalue, so an order using fewer functions
// than the density (e.g. ν = 3 with a smaller n_max) takes the most informative ones.
//
// Σ_m c^a_{nlm} c^a_{n'lm} is exactly the power spectrum p^{aa}_{nn'l} of the centre, so C_l is the
// sum over centres of the primitive basis's same-species ν = 2 features: computed by the ordinary
// FeatureCalculator, no new kernel.
//
// Meaningful when the primitive functions are (close to) orthonormal, as the Laplacian eigenstates
// and the orthonormalised GTOs are: then the eigenvectors are the directions of largest variance of
// the density itself, not artefacts of the basis's metric. Deterministic: each eigenvector's sign is
// fixed so that its largest-magnitude component is positive.
#include <span>
#include <vector>

#include <Eigen/Core>

#include "chorus/engine/system.hpp"
#include "chorus/models/features/feature_settings.hpp"

namespace chorus::models::training {

struct RadialContractionFit {
    std::vector<std::vector<double>> matrices;  // [l]: primitive_n_max × n_max, row-major
    std::vector<double> retained_variance;      // [l]: Σ kept eigenvalues / trace, in [0, 1]
    std::vector<Eigen::VectorXd> eigenvalues;   // [l]: all of them, descending
};

// The covariances C_l (l = 0 … density_l_max) of the primitive basis `settings` asks for (its
// primitive_n_max; contraction and contraction_fit are ignored), over every atom of `systems` as a
// centre. Throws InputError for atoms of species the settings do not list.
std::vector<Eigen::MatrixXd> radial_covariances(const features::FeatureSettings& settings,
                                                std::span<const engine::System* const> systems);

// Top n_max eigenvectors of every C_l, signs fixed. Throws ConfigError when n_max exceeds the size
// of a matrix, InputError when a covariance is not finite or is zero (no neighbours at all).
RadialContractionFit contraction_from_covariances(const std::vector<Eigen::MatrixXd>& covariances, int n_max);

// `settings` with its pending contraction (contraction_fit) replaced by matrices fitted on
// `systems`; `fit`, when not null, receives the details.
features::FeatureSettings fit_radial_contraction(const features::FeatureSettings& settings,
                                                 std::span<const engine::System* const> systems,
                                                 RadialContractionFit* fit = nullptr);

}  // namespace chorus::models::training
