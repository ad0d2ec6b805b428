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

void dipole_design(const features::FeatureCalculator& calculator, const engine::System& system,
                   features::FeatureWorkspace& workspace, Eigen::MatrixXd& blocks, Eigen::MatrixXd& design) {
    calculator.compute_equivariant(system, workspace, 1, blocks);
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

struct DipoleCommittee::Scratch {
    explicit Scratch(const features::FeatureCalculator& calculator) : workspace(calculator.workspace()) {}
    features::FeatureWorkspace workspace;
    Eigen::MatrixXd blocks;
    Eigen::MatrixXd design;
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

std::unique_ptr<DipoleCommittee::Scratch> DipoleCommittee::acquire_scratch() const {
    {
        const std::lock_guard lock(pool_mutex_);
        if (!pool_.empty()) {
            auto scratch = std::move(pool_.back());
            pool_.pop_back();
            return scratch;
        }
    }
    return std::make_unique<Scratch>(calculator_);
}

void DipoleCommittee::release_scratch(std::unique_ptr<Scratch> scratch) const {
    const std::lock_guard lock(pool_mutex_);
    pool_.push_back(std::move(scratch));
}

DipolePrediction DipoleCommittee::predict(const engine::System& system) const {
    return predict_with(system, parameters_.alpha);
}

DipolePrediction DipoleCommittee::predict_uncalibrated(const engine::System& system) const {
    return predict_with(system, 1.0);
}

DipolePrediction DipoleCommittee::predict_with(const engine::System& system, double alpha) const {
    std::unique_ptr<Scratch> scratch = acquire_scratch();
    Eigen::Matrix3Xd raw;
    try {
        dipole_design(calculator_, system, scratch->workspace, scratch->blocks, scratch->design);
        raw = scratch->design * stacked_weights_;
    } catch (...) {
        release_scratch(std::move(scratch));
        throw;
    }
    release_scratch(std::move(scratch));
    return summarise_members(raw, alpha);
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
