#pragma once
// A committee of linear equivariant models for a structure's polarizability α (a symmetric 3×3
// tensor), decomposed into its irreducible parts and written as sums of atomic contributions:
//   α_k = a_k I + Σ_m c_k,m T_m,
//   a_k   = Σ_i [b_k^{(a_i)} + u_k^{(a_i)} · X^{λ=0}(i)]           (isotropic part, tr α / 3)
//   c_k,m = Σ_i v_k^{(a_i)} · X^{λ=2}_m(i),   m = −2 … 2            (traceless symmetric part)
// with X^{λ}(i) the σ = +1 λ-SOAP blocks of centre i (FeatureCalculator::compute_equivariant) and b
// a per-species constant (the isotropic polarizability is close to additive). T_m is the traceless
// symmetric Cartesian tensor of the real harmonic Y_2m of spherical_harmonics.hpp, normalised to a
// Frobenius-orthonormal basis (lambda2_basis()): Y_2m(n̂) ∝ n̂ᵀ T_m n̂ with one common factor, so
// rotating the structure by R maps α to R α Rᵀ exactly and the model is even under inversion.
//
// Units: Å in, α in the units of the training labels (extxyz `polarizability`; chorus documents
// e·Å²/V, i.e. the file's units are recorded but never converted).
//
// Calibration (science.md §5): α_cal rescales the members' spread of the five λ = 2 coordinates
// c_m (fitted on them pooled, as for dipole components) and α_iso that of the isotropic part a
// (fitted on it alone): the two parts are different fits whose spreads need not be equally
// off — a nearly additive isotropic part can be fitted far better than the anisotropy.
//
// Model file kind "linear-polarizability-committee" (polarizability_committee_file.cpp), the layout
// and checksum of "linear-dipole-committee" files:
//   {"kind": "linear-polarizability-committee", "format_version": 1,
//    "units": {"polarizability": "e*angstrom^2/V", "length": "angstrom"},
//    "species", "features": {…λ-SOAP with 2 in its lambdas…},
//    "feature_count": 1 + Q0 + Q2,            per species row: [b, u (Q0 λ = 0), v (Q2 λ = 2)]
//    "alpha": α_cal, "alpha_isotropic": α_iso,
//    "members": [{"weights": [[…per species…]]}, …], "training", "checksum"}
#include <array>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include "chorus/engine/system.hpp"
#include "chorus/models/features/feature_calculator.hpp"
#include "chorus/models/scratch_pool.hpp"

namespace chorus::models::polarizability {

inline constexpr std::string_view polarizability_committee_kind = "linear-polarizability-committee";
inline constexpr int polarizability_committee_format_version = 1;
inline constexpr std::string_view polarizability_unit = "e*angstrom^2/V";

using Vector5d = Eigen::Matrix<double, 5, 1>;
using Vector6d = Eigen::Matrix<double, 6, 1>;

// T_m for m = −2 … 2 (index m + 2): (xy, yz, 2z²−x²−y², xz, x²−y²) shapes, Frobenius-orthonormal.
const std::array<Eigen::Matrix3d, 5>& lambda2_basis();
// Σ_m c_m T_m, and its inverse on the traceless symmetric part, c_m = ⟨T_m, A⟩_F.
Eigen::Matrix3d traceless_from_lambda2(const Vector5d& coefficients);
Vector5d lambda2_from_tensor(const Eigen::Matrix3d& tensor);
// The six Frobenius-orthonormal coordinates of a symmetric tensor: (tr A / √3, c_−2 … c_2), and back.
Vector6d irreducible_coordinates(const Eigen::Matrix3d& tensor);
Eigen::Matrix3d tensor_from_coordinates(const Vector6d& coordinates);

// Sizes of one species row of the weights.
struct PolarizabilityFeatureCounts {
    Eigen::Index lambda0 = 0;  // Q0
    Eigen::Index lambda2 = 0;  // Q2
    Eigen::Index row() const { return 1 + lambda0 + lambda2; }
};
PolarizabilityFeatureCounts polarizability_feature_counts(const features::FeatureSettings& settings);

// The six coordinate rows of a whole structure: design is 6 × S·(1 + Q0 + Q2), channel major; row 0
// (the isotropic part a, not √3 a) holds in channel s's block [atoms of s, Σ_{i of s} X^{λ=0}(i), 0],
// rows 1 + (m + 2) hold [0, 0, Σ_{i of s} X^{λ=2}_m(i)], so that (a, c) = design · w. `blocks0`,
// `blocks2` are scratch. Throws InputError for species the settings do not list.
void polarizability_design(const features::FeatureCalculator& calculator, const engine::System& system,
                           features::FeatureWorkspace& workspace, features::FeatureMatrix& blocks0,
                           features::FeatureMatrix& blocks2, Eigen::MatrixXd& design);

struct PolarizabilityCommitteeParameters {
    features::FeatureSettings features;                  // λ-SOAP enabled with 2 in its lambdas
    std::vector<Eigen::MatrixXd> weights;                // M entries of S × (1 + Q0 + Q2)
    double alpha = 1.0;                                  // λ = 2 part
    double alpha_isotropic = 1.0;                        // isotropic part
    nlohmann::json training = nlohmann::json::object();  // metadata, stored verbatim
};

// One structure's prediction, calibration applied.
struct PolarizabilityPrediction {
    Eigen::Matrix3d mean = Eigen::Matrix3d::Zero();   // committee mean (symmetric)
    std::vector<Eigen::Matrix3d> members;             // every member's tensor (calibrated)
    Eigen::Matrix3d sigma = Eigen::Matrix3d::Zero();  // member spread per element (ddof 1)
    Vector6d coordinates = Vector6d::Zero();          // irreducible_coordinates(mean)
    Vector6d coordinate_sigma = Vector6d::Zero();     // their member spread (ddof 1)
};

// Summary of the members' coordinates (6 × M: a, c_−2 … c_2 per column; a NOT scaled by √3) after
// rescaling the spread of a by alpha_isotropic and that of c by alpha.
PolarizabilityPrediction summarise_polarizability_members(const Eigen::Matrix<double, 6, Eigen::Dynamic>& raw,
                                                          double alpha_isotropic, double alpha);

class PolarizabilityCommittee {
public:
    // Throws ConfigError for inconsistent sizes, non-finite weights, α ≤ 0, fewer than 2 members or
    // feature settings without λ = 2 in lambda_soap (either α ≤ 0 too).
    explicit PolarizabilityCommittee(PolarizabilityCommitteeParameters parameters);
    ~PolarizabilityCommittee();

    const PolarizabilityCommitteeParameters& parameters() const { return parameters_; }
    std::size_t committee_size() const { return parameters_.weights.size(); }
    PolarizabilityFeatureCounts feature_counts() const { return counts_; }
    std::span<const int> species() const { return parameters_.features.species; }
    double calibration_alpha() const { return parameters_.alpha; }
    std::string description() const;

    // Thread safe (scratch from a pool). Throws InputError for species the model does not know.
    PolarizabilityPrediction predict(const engine::System& system) const;
    PolarizabilityPrediction predict_uncalibrated(const engine::System& system) const;

private:
    PolarizabilityPrediction predict_with(const engine::System& system, double alpha_isotropic,
                                          double alpha) const;

    struct Scratch;

    PolarizabilityCommitteeParameters parameters_;
    features::FeatureCalculator calculator_;
    PolarizabilityFeatureCounts counts_;
    Eigen::MatrixXd stacked_weights_;  // S·(1 + Q0 + Q2) × M, column k = member k, channel major
    ScratchPool<Scratch> scratch_pool_;
};

// Model-file document (format above), checksum included; the sizes are checked first.
nlohmann::json polarizability_committee_to_json(const PolarizabilityCommitteeParameters& parameters);
// Writes it. Throws IoError when the file cannot be written.
void save_polarizability_committee(const PolarizabilityCommitteeParameters& parameters,
                                   const std::filesystem::path& path);
// Reads and verifies a document (kind, version, units, sizes, finiteness, checksum). Throws
// ConfigError naming `origin`, the key and what to do.
PolarizabilityCommitteeParameters polarizability_committee_parameters_from_json(
    const nlohmann::json& document, std::string_view origin);
// Reads a file. IoError when unreadable, ConfigError when not valid JSON or not this kind.
std::unique_ptr<PolarizabilityCommittee> load_polarizability_committee(const std::filesystem::path& path);

}  // namespace chorus::models::polarizability
