// The dipole committee (dipole_committee.hpp): λ = 1 rows of a structure and their contraction
// with every member's weights.
#include "chorus/models/dipole/dipole_committee.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>

#include "chorus/error.hpp"

namespace chorus::models::dipole {

namespace {

features::FeatureSettings checked_settings(const features::FeatureSettings& settings) {
    const bool has_lambda1 = settings.lambda_soap && std::find(settings.lambda_soap_lambdas.begin(),
                                                               settings.lambda_soap_lambdas.end(),
                                                               1) != settings.lambda_soap_lambdas.end();
    if (!has_lambda1) {
        throw ConfigError(
            "dipole committee: the feature settings must enable lambda_soap with 1 in its lambdas (the "
            "dipole is built from λ = 1 blocks); add \"lambda_soap\": {\"n_max\": …, \"l_max\": …, "
            "\"lambdas\": [1]}");
    }
    return settings;
}

}  // namespace

namespace {

// The design of dipole_design from blocks already computed for `system`.
void design_from_blocks(const features::FeatureCalculator& calculator, const engine::System& system,
                        const features::FeatureMatrix& blocks, Eigen::MatrixXd& design) {
    const Eigen::Index features = blocks.cols();
    const auto& settings = calculator.settings();
    const auto species = static_cast<Eigen::Index>(settings.species.size());
    design.setZero(3, species * features);
    const auto& numbers = system.atomic_numbers();
    for (std::size_t i = 0; i < numbers.size(); ++i) {
        // compute_equivariant has already refused species outside the settings.
        const Eigen::Index channel = settings.channel(numbers[i]);
        for (Eigen::Index d = 0; d < 3; ++d) {
            design.row(d).segment(channel * features, features) += blocks.row(
                static_cast<Eigen::Index>(3 * i) + cartesian_to_lambda1_row[static_cast<std::size_t>(d)]);
        }
    }
}

}  // namespace

void dipole_design(const features::FeatureCalculator& calculator, const engine::System& system,
                   features::FeatureWorkspace& workspace, features::FeatureMatrix& blocks,
                   Eigen::MatrixXd& design) {
    calculator.compute_equivariant(system, workspace, 1, blocks);
    design_from_blocks(calculator, system, blocks, design);
}

struct DipoleCommittee::Scratch {
    explicit Scratch(const features::FeatureCalculator& calculator) : workspace(calculator.workspace()) {}
    features::FeatureWorkspace workspace;
    features::FeatureMatrix blocks;
    Eigen::MatrixXd design;
    // derivatives(): ∂μ_α/∂B per (weight set, α), and their adjoint forces and virials.
    std::vector<features::FeatureMatrix> gradients;
    std::vector<Eigen::Matrix3Xd> forces;
    std::vector<Eigen::Matrix3d> virials;
};

DipoleCommittee::DipoleCommittee(DipoleCommitteeParameters parameters)
    : parameters_(std::move(parameters)), calculator_(checked_settings(parameters_.features)) {
    const auto species = static_cast<Eigen::Index>(parameters_.features.species.size());
    const auto features =
        static_cast<Eigen::Index>(features::equivariant_feature_names(parameters_.features, 1).size());
    if (parameters_.weights.size() < 2) {
        throw ConfigError("dipole committee: " + std::to_string(parameters_.weights.size()) +
                          " member(s); a committee needs at least 2 for a spread");
    }
    if (!(parameters_.alpha > 0.0) || !std::isfinite(parameters_.alpha)) {
        throw ConfigError("dipole committee: alpha = " + std::to_string(parameters_.alpha) +
                          " must be a finite number > 0");
    }
    stacked_weights_.resize(species * features, static_cast<Eigen::Index>(parameters_.weights.size()));
    for (std::size_t k = 0; k < parameters_.weights.size(); ++k) {
        const Eigen::MatrixXd& w = parameters_.weights[k];
        if (w.rows() != species || w.cols() != features) {
            throw ConfigError("dipole committee: member " + std::to_string(k) + " has " +
                              std::to_string(w.rows()) + " × " + std::to_string(w.cols()) +
                              " weights, but the feature settings define " + std::to_string(species) +
                              " species × " + std::to_string(features) +
                              " λ = 1 features; the file is inconsistent, retrain it");
        }
        if (!w.allFinite()) {
            throw ConfigError("dipole committee: member " + std::to_string(k) + " has non-finite weights");
        }
        for (Eigen::Index s = 0; s < species; ++s) {
            stacked_weights_.col(static_cast<Eigen::Index>(k)).segment(s * features, features) =
                w.row(s).transpose();
        }
    }
}

DipoleCommittee::~DipoleCommittee() = default;

std::string DipoleCommittee::description() const {
    char alpha[32];
    std::snprintf(alpha, sizeof alpha, "%.4g", parameters_.alpha);
    return "linear dipole committee of " + std::to_string(committee_size()) + " members, " +
           std::to_string(feature_count()) + " λ=1 features per species, α = " + alpha;
}

DipolePrediction DipoleCommittee::predict(const engine::System& system) const {
    return predict_with(system, parameters_.alpha);
}

DipolePrediction DipoleCommittee::predict_uncalibrated(const engine::System& system) const {
    return predict_with(system, 1.0);
}

DipolePrediction DipoleCommittee::predict_with(const engine::System& system, double alpha) const {
    Eigen::Matrix3Xd raw;
    {
        const auto scratch = scratch_pool_.lease([this] { return std::make_unique<Scratch>(calculator_); });
        dipole_design(calculator_, system, scratch->workspace, scratch->blocks, scratch->design);
        raw = scratch->design * stacked_weights_;
    }
    return summarise_members(raw, alpha);
}

DipoleDerivatives DipoleCommittee::derivatives(const engine::System& system, bool with_members) const {
    const auto scratch = scratch_pool_.lease([this] { return std::make_unique<Scratch>(calculator_); });
    calculator_.compute_equivariant(system, scratch->workspace, 1, scratch->blocks);
    design_from_blocks(calculator_, system, scratch->blocks, scratch->design);
    const DipolePrediction prediction =
        summarise_members(scratch->design * stacked_weights_, parameters_.alpha);
    const Eigen::Index features = scratch->blocks.cols();
    const auto atoms = static_cast<Eigen::Index>(system.size());
    const auto members = static_cast<Eigen::Index>(committee_size());
    const Eigen::Index sets = with_members ? members : 1;
    // Weight set k: member k, or the mean weights (μ̄ is linear in them; calibration keeps it).
    const Eigen::MatrixXd weights =
        with_members ? stacked_weights_ : Eigen::MatrixXd(stacked_weights_.rowwise().mean());
    // μ_α = Σ_i Σ_q w^{(a_i)}_q B(3i + m(α), q), so ∂μ_α/∂B has the weights of atom i's species
    // on row 3i + m(α) and zeros elsewhere.
    scratch->gradients.resize(static_cast<std::size_t>(3 * sets));
    for (Eigen::Index k = 0; k < sets; ++k) {
        for (std::size_t alpha = 0; alpha < 3; ++alpha) {
            features::FeatureMatrix& g = scratch->gradients[static_cast<std::size_t>(3 * k) + alpha];
            g.setZero(3 * atoms, features);
            for (Eigen::Index i = 0; i < atoms; ++i) {
                const Eigen::Index channel =
                    parameters_.features.channel(system.atomic_numbers()[static_cast<std::size_t>(i)]);
                g.row(3 * i + cartesian_to_lambda1_row[alpha]) =
                    weights.col(k).segment(channel * features, features).transpose();
            }
        }
    }
    calculator_.backward_equivariant(system, scratch->workspace, 1, scratch->gradients, scratch->forces,
                                     scratch->virials);
    // forces = −∂μ_α/∂r: row α of set k is minus the flattened forces of gradient 3k + α.
    std::vector<Eigen::MatrixXd> raw(static_cast<std::size_t>(sets), Eigen::MatrixXd(3, 3 * atoms));
    for (Eigen::Index k = 0; k < sets; ++k) {
        for (std::size_t alpha = 0; alpha < 3; ++alpha) {
            const Eigen::Matrix3Xd& f = scratch->forces[static_cast<std::size_t>(3 * k) + alpha];
            raw[static_cast<std::size_t>(k)].row(static_cast<Eigen::Index>(alpha)) =
                -Eigen::Map<const Eigen::RowVectorXd>(f.data(), 3 * atoms);
        }
    }
    DipoleDerivatives result;
    result.prediction = prediction;
    if (!with_members) {
        result.mean = std::move(raw.front());
        return result;
    }
    result.mean.setZero(3, 3 * atoms);
    for (const auto& member : raw) {
        result.mean += member;
    }
    result.mean /= static_cast<double>(sets);
    for (const auto& member : raw) {
        result.members.push_back(result.mean + parameters_.alpha * (member - result.mean));
    }
    return result;
}

DipolePrediction summarise_members(const Eigen::Matrix3Xd& raw_members, double alpha) {
    DipolePrediction prediction;
    const Eigen::Index members = raw_members.cols();
    prediction.mean = raw_members.rowwise().mean();
    prediction.members = (alpha * (raw_members.colwise() - prediction.mean)).colwise() + prediction.mean;
    prediction.norm = prediction.mean.norm();
    if (members > 1) {
        const Eigen::Matrix3Xd deviations = prediction.members.colwise() - prediction.mean;
        prediction.sigma =
            (deviations.rowwise().squaredNorm() / static_cast<double>(members - 1)).cwiseSqrt();
        const Eigen::VectorXd norms = prediction.members.colwise().norm().transpose();
        const double norm_mean = norms.mean();
        prediction.norm_sigma =
            std::sqrt((norms.array() - norm_mean).square().sum() / static_cast<double>(members - 1));
    }
    return prediction;
}

}  // namespace chorus::models::dipole
