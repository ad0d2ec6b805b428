#pragma once
// A committee of linear equivariant models for a molecular dipole (or any polar vector of a
// structure), written as a sum of atomic contributions so that the total rotates with the structure:
//   μ_k,d = Σ_i Σ_q w_k,q^{(a_i)} X^{λ=1}_{q,m(d)}(i),   k = 1 … M,  d = x, y, z,
// with X^{λ=1}(i) the σ = +1 λ-SOAP block of centre i (FeatureCalculator::compute_equivariant) and
// m(d) the real-harmonic order of spherical_harmonics.hpp, (Y_1,−1, Y_10, Y_11) ∝ (y, z, x): the
// Cartesian x is μ-index 2, y is 0, z is 1. No constant term: a constant vector would not rotate.
// Each λ = 1 block transforms like a vector under proper rotations and is odd under inversion
// (l1 + l2 odd), so the prediction does both exactly.
//
// Units: Å in, the dipole in the units of the training labels (e·Å for extxyz `dipole`).
//
// Calibration (science.md §5): the stored weights are the raw members; α rescales their spread,
// μ_k ← μ̄ + α (μ_k − μ̄), when predicting, exactly as for energies.
//
// Model file kind "linear-dipole-committee" (dipole_committee_file.cpp):
//   {"kind": "linear-dipole-committee", "format_version": 1,
//    "units": {"dipole": "e*angstrom", "length": "angstrom"},
//    "species": [1, 8], "features": {…FeatureSettings JSON, λ-SOAP with 1 in its lambdas…},
//    "feature_count": Q,                    λ = 1 features per species channel
//    "alpha": α,
//    "members": [{"weights": [[w^{(H)}…Q], [w^{(O)}…Q]]}, …],
//    "training": {…free-form metadata…},
//    "checksum": {"algorithm": "sha256", "value": "<hex>"}}
// with the checksum defined as for "linear-committee" (linear_committee.hpp). It is not an
// engine::Model (it predicts no energy): `chorus serve --dipole-model` loads it beside --model.
#include <algorithm>
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

#include "chorus/engine/model.hpp"
#include "chorus/engine/system.hpp"
#include "chorus/models/features/feature_calculator.hpp"
#include "chorus/models/scratch_pool.hpp"

namespace chorus::models::dipole {

inline constexpr std::string_view dipole_committee_kind = "linear-dipole-committee";
inline constexpr int dipole_committee_format_version = 1;

// Row of the λ = 1 block holding Cartesian component d = 0, 1, 2 (x, y, z).
inline constexpr std::array<int, 3> cartesian_to_lambda1_row = {2, 0, 1};

// The λ = 1 rows of a whole structure for the linear model above: design is 3 × S·Q, row d,
// column s·Q + q = Σ_{i of channel s} X^{λ=1}_{q,m(d)}(i), so that μ = design · w with
// w = [w^{(0)}; w^{(1)}; …] (channel major). `blocks` is scratch (N·3 × Q). Throws InputError for
// species the settings do not list, ConfigError when λ-SOAP is not enabled.
void dipole_design(const features::FeatureCalculator& calculator, const engine::System& system,
                   features::FeatureWorkspace& workspace, features::FeatureMatrix& blocks,
                   Eigen::MatrixXd& design);

struct DipoleCommitteeParameters {
    features::FeatureSettings features;    // λ-SOAP enabled; λ = 1 is used
    std::vector<Eigen::MatrixXd> weights;  // M entries of S × Q (row = species channel)
    double alpha = 1.0;
    nlohmann::json training = nlohmann::json::object();  // metadata, stored verbatim
};

// One structure's prediction, calibration applied.
struct DipolePrediction {
    Eigen::Vector3d mean = Eigen::Vector3d::Zero();   // committee mean
    Eigen::Matrix3Xd members;                         // 3 × M, member k = column k (calibrated)
    Eigen::Vector3d sigma = Eigen::Vector3d::Zero();  // member spread per component (ddof 1)
    double norm = 0.0;                                // |mean|
    double norm_sigma = 0.0;                          // spread (ddof 1) of the members' |μ_k|
};

// ∂μ/∂r of one structure, calibration applied as in predict(): row α (x, y, z), column 3j + β holds
// ∂μ_α/∂r_{jβ}, i.e. column block j is atom j's atomic polar tensor (Born effective charge, in e for
// a dipole in e·Å). The model has no charges and its λ = 1 features see only relative positions, so
// μ is translation invariant and Σ_j ∂μ_α/∂r_{jβ} = 0 (acoustic sum rule with zero total charge),
// periodic or not.
struct DipoleDerivatives {
    Eigen::MatrixXd mean;                  // 3 × 3N: of the committee mean
    std::vector<Eigen::MatrixXd> members;  // M of 3 × 3N (calibrated) when asked for, else empty
    DipolePrediction prediction;           // μ itself, equal to predict(): the blocks are at hand
};

class DipoleCommittee {
public:
    // Throws ConfigError for inconsistent sizes, non-finite weights, α ≤ 0, fewer than 2 members,
    // or feature settings without λ = 1 in lambda_soap.
    explicit DipoleCommittee(DipoleCommitteeParameters parameters);
    ~DipoleCommittee();

    const DipoleCommitteeParameters& parameters() const { return parameters_; }
    const features::FeatureCalculator& calculator() const { return calculator_; }
    std::size_t committee_size() const { return parameters_.weights.size(); }
    std::size_t feature_count() const {
        return static_cast<std::size_t>(stacked_weights_.rows()) / species_count();
    }
    std::span<const int> species() const { return parameters_.features.species; }
    double calibration_alpha() const { return parameters_.alpha; }
    std::string description() const;

    // Thread safe (scratch from a pool). Throws InputError for species the model does not know.
    DipolePrediction predict(const engine::System& system) const;
    // The same with α = 1 (training uses it to fit α).
    DipolePrediction predict_uncalibrated(const engine::System& system) const;
    // ∂μ/∂r (DipoleDerivatives) by the adjoint of the λ = 1 blocks: one pass over the pairs for the
    // three components of the mean, or of every member with `with_members` (then the mean is their
    // average). Also returns predict()'s result from the same blocks, so a caller that needs both
    // (serve --born-charges) computes the λ-SOAP blocks once. Thread safe; throws InputError as
    // predict().
    DipoleDerivatives derivatives(const engine::System& system, bool with_members = false) const;

private:
    std::size_t species_count() const {
        return std::max<std::size_t>(1, parameters_.features.species.size());
    }
    DipolePrediction predict_with(const engine::System& system, double alpha) const;

    struct Scratch;

    DipoleCommitteeParameters parameters_;
    features::FeatureCalculator calculator_;
    Eigen::MatrixXd stacked_weights_;  // (S·Q) × M, column k = member k, channel major
    ScratchPool<Scratch> scratch_pool_;
};

// Summary statistics of M member vectors (3 × M) after rescaling their spread by α.
DipolePrediction summarise_members(const Eigen::Matrix3Xd& raw_members, double alpha);

// Model-file document (format above), checksum included; the sizes are checked first.
nlohmann::json dipole_committee_to_json(const DipoleCommitteeParameters& parameters);
// Writes it (pretty-printed). Throws IoError when the file cannot be written.
void save_dipole_committee(const DipoleCommitteeParameters& parameters, const std::filesystem::path& path);
// Reads and verifies a document (kind, version, units, sizes, finiteness, checksum). Throws
// ConfigError naming `origin`, the key and what to do.
DipoleCommitteeParameters dipole_committee_parameters_from_json(const nlohmann::json& document,
                                                                std::string_view origin);
// The model registry's entry for this kind (model_file.cpp): a dipole model predicts no energy, so
// it always throws a ConfigError saying where the file goes instead (--dipole-model, chorus eval).
std::unique_ptr<engine::Model> dipole_committee_as_energy_model(const nlohmann::json& document,
                                                                std::string_view origin);
// Reads a file. IoError when unreadable, ConfigError when not valid JSON or not this kind.
std::unique_ptr<DipoleCommittee> load_dipole_committee(const std::filesystem::path& path);

}  // namespace chorus::models::dipole
