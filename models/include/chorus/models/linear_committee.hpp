#pragma once
// A committee of linear models on shared equivariant features (science.md §4):
//   E_k = Σ_i [ b_k(a_i) + w_k^{(a_i)} · X(i) ],   k = 1 … M,
// with X(i) the invariant features of centre i (FeatureSettings), one baseline b_k(a) and one
// weight vector w_k^{(a)} per species channel a and member k.
//
// Cost per structure: the features once; member energies from the per-species feature sums (one
// (M × F)·(F) product per species); mean forces and virial by ONE adjoint pass with the mean
// weights (the model is linear in its weights, so the mean of the members' forces is the force of
// the mean weights). Per-member forces/virials, when requested, come from one pass over the pairs
// for all members together (FeatureCalculator::compute_linear_committee): the pair terms are shared
// and only the adjoint contraction is per member; the mean is then the members' average.
//
// Model file kind "linear-committee" (linear_committee_file.cpp, written by save_linear_committee):
//   {"kind": "linear-committee", "format_version": 1,
//    "units": {"energy": "eV", "length": "angstrom"},
//    "species": [1, 8],                       atomic numbers, in feature-channel order
//    "features": {…FeatureSettings JSON…}, "feature_count": F,
//    "alpha": α,
//    "members": [{"baselines": [b(H), b(O)], "weights": [[w^{(H)}…F], [w^{(O)}…F]]}, …],
//    "training": {…free-form metadata: data hashes, split, date, version, command line…},
//    "checksum": {"algorithm": "sha256", "value": "<hex>"}}
// The checksum is the SHA-256 of the document without its "checksum" key, serialised by
// nlohmann::json::dump() (compact, keys sorted, doubles in shortest round-trip form): any edit or
// truncation changes it. Weights are plain JSON numbers: the shipped water committee (8 × 2 × 968
// weights) parses in a few milliseconds, far below the 0.5 s budget, so no binary block is needed.
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
#include "chorus/models/features/feature_calculator.hpp"
#include "chorus/models/scratch_pool.hpp"

namespace chorus::models {

// The parameters of a linear committee, as training produces them and model files store them.
struct LinearCommitteeParameters {
    features::FeatureSettings features;
    // Member k: baselines.col(k) (S, eV per atom of each species) and weights[k] (S × F, row = species
    // channel).
    Eigen::MatrixXd baselines;             // S × M
    std::vector<Eigen::MatrixXd> weights;  // M entries of S × F
    double alpha = 1.0;
    nlohmann::json training = nlohmann::json::object();  // metadata, stored verbatim
};

class LinearCommittee final : public engine::Model {
public:
    // Throws ConfigError for inconsistent sizes, non-finite numbers, α ≤ 0, or bad feature settings.
    explicit LinearCommittee(LinearCommitteeParameters parameters);
    ~LinearCommittee() override;

    const LinearCommitteeParameters& parameters() const { return parameters_; }
    const features::FeatureCalculator& calculator() const { return calculator_; }

    std::string_view kind() const override { return "linear-committee"; }
    std::string description() const override;
    std::span<const int> species() const override { return parameters_.features.species; }
    double cutoff() const override { return calculator_.interaction_range(); }
    std::size_t committee_size() const override { return parameters_.weights.size(); }
    double calibration_alpha() const override { return parameters_.alpha; }

protected:
    void compute(const engine::System& system, const engine::ComputeRequest& request,
                 engine::CommitteeResult& result) const override;

private:
    struct Scratch;

    LinearCommitteeParameters parameters_;
    features::FeatureCalculator calculator_;
    Eigen::MatrixXd mean_weights_;     // S × F
    Eigen::MatrixXd stacked_weights_;  // (S·F) × M, column k = member k's weights, channel major
    ScratchPool<Scratch> scratch_pool_;
};

// The model-file document of a committee (format above), checksum included.
nlohmann::json linear_committee_to_json(const LinearCommitteeParameters& parameters);
// Writes it (pretty-printed). Throws IoError when the file cannot be written.
void save_linear_committee(const LinearCommitteeParameters& parameters, const std::filesystem::path& path);
// Reads and verifies a document (kind, format version, units, sizes, finiteness, checksum).
// Throws ConfigError naming `origin`, the key and what to do.
LinearCommitteeParameters linear_committee_parameters_from_json(const nlohmann::json& document,
                                                                std::string_view origin);
// The registry's factory for kind "linear-committee".
std::unique_ptr<engine::Model> linear_committee_from_json(const nlohmann::json& document,
                                                          std::string_view origin);

// SHA-256 of the canonical serialisation of `document` without its "checksum" key.
std::string linear_committee_checksum(const nlohmann::json& document);

inline constexpr int linear_committee_format_version = 1;

}  // namespace chorus::models
