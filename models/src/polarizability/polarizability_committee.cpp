// The polarizability committee (polarizability_committee.hpp): the λ = 0 and λ = 2 rows of a
// structure, their contraction with every member's weights, and the map between the five real
// λ = 2 components and traceless symmetric Cartesian tensors.
#include "chorus/models/polarizability/polarizability_committee.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>

#include "chorus/error.hpp"

namespace chorus::models::polarizability {

namespace {

features::FeatureSettings checked_settings(const features::FeatureSettings& settings) {
    const bool has_lambda2 = settings.lambda_soap && std::find(settings.lambda_soap_lambdas.begin(),
                                                               settings.lambda_soap_lambdas.end(),
                                                               2) != settings.lambda_soap_lambdas.end();
    if (!has_lambda2) {
        throw ConfigError(
            "polarizability committee: the feature settings must enable lambda_soap with 2 in its lambdas "
            "(the anisotropic part is built from λ = 2 blocks); add \"lambda_soap\": {\"n_max\": …, "
            "\"l_max\": …, \"lambdas\": [2]}");
    }
    return settings;
}

std::array<Eigen::Matrix3d, 5> make_lambda2_basis() {
    // Y_2m ∝ (xy, yz, (3z² − r²)/(2√3), xz, (x² − y²)/2) with ONE common factor (real harmonics
    // of spherical_harmonics.hpp, no Condon–Shortley phase): written as n̂ᵀ T n̂ with traceless
    // symmetric T, the five T have equal Frobenius norms and are mutually orthogonal. Equal norms
    // are what makes Σ_m c_m T_m rotate as R A Rᵀ when c rotates like Y_2m.
    const double r2 = 1.0 / std::sqrt(2.0);
    const double r6 = 1.0 / std::sqrt(6.0);
    std::array<Eigen::Matrix3d, 5> basis;
    for (auto& t : basis) {
        t.setZero();
    }
    basis[0](0, 1) = basis[0](1, 0) = r2;       // m = −2: xy
    basis[1](1, 2) = basis[1](2, 1) = r2;       // m = −1: yz
    basis[2].diagonal() << -r6, -r6, 2.0 * r6;  // m = 0: 2z² − x² − y²
    basis[3](0, 2) = basis[3](2, 0) = r2;       // m = 1: xz
    basis[4].diagonal() << r2, -r2, 0.0;        // m = 2: x² − y²
    return basis;
}

Eigen::Index row_of_lambda0(Eigen::Index channel, const PolarizabilityFeatureCounts& counts) {
    return channel * counts.row() + 1;
}

}  // namespace

const std::array<Eigen::Matrix3d, 5>& lambda2_basis() {
    static const std::array<Eigen::Matrix3d, 5> basis = make_lambda2_basis();
    return basis;
}

Eigen::Matrix3d traceless_from_lambda2(const Vector5d& coefficients) {
    Eigen::Matrix3d tensor = Eigen::Matrix3d::Zero();
    for (int m = 0; m < 5; ++m) {
        tensor += coefficients[m] * lambda2_basis()[static_cast<std::size_t>(m)];
    }
    return tensor;
}

Vector5d lambda2_from_tensor(const Eigen::Matrix3d& tensor) {
    Vector5d coefficients;
    for (int m = 0; m < 5; ++m) {
        coefficients[m] = lambda2_basis()[static_cast<std::size_t>(m)].cwiseProduct(tensor).sum();
    }
    return coefficients;
}

Vector6d irreducible_coordinates(const Eigen::Matrix3d& tensor) {
    Vector6d coordinates;
    coordinates[0] = tensor.trace() / std::sqrt(3.0);
    coordinates.tail<5>() = lambda2_from_tensor(tensor);
    return coordinates;
}

Eigen::Matrix3d tensor_from_coordinates(const Vector6d& coordinates) {
    return coordinates[0] / std::sqrt(3.0) * Eigen::Matrix3d::Identity() +
           traceless_from_lambda2(coordinates.tail<5>());
}

PolarizabilityFeatureCounts polarizability_feature_counts(const features::FeatureSettings& settings) {
    return {static_cast<Eigen::Index>(features::equivariant_feature_names(settings, 0).size()),
            static_cast<Eigen::Index>(features::equivariant_feature_names(settings, 2).size())};
}

void polarizability_design(const features::FeatureCalculator& calculator, const engine::System& system,
                           features::FeatureWorkspace& workspace, features::FeatureMatrix& blocks0,
                           features::FeatureMatrix& blocks2, Eigen::MatrixXd& design) {
    calculator.compute_equivariant(system, workspace, 0, blocks0);
    calculator.compute_equivariant(system, workspace, 2, blocks2);
    const PolarizabilityFeatureCounts counts{blocks0.cols(), blocks2.cols()};
    const auto& settings = calculator.settings();
    const auto species = static_cast<Eigen::Index>(settings.species.size());
    design.setZero(6, species * counts.row());
    const auto& numbers = system.atomic_numbers();
    for (std::size_t i = 0; i < numbers.size(); ++i) {
        // compute_equivariant has already refused species outside the settings.
        const Eigen::Index channel = settings.channel(numbers[i]);
        const Eigen::Index start = channel * counts.row();
        design(0, start) += 1.0;
        design.row(0).segment(row_of_lambda0(channel, counts), counts.lambda0) +=
            blocks0.row(static_cast<Eigen::Index>(i));
        for (Eigen::Index m = 0; m < 5; ++m) {
            design.row(1 + m).segment(start + 1 + counts.lambda0, counts.lambda2) +=
                blocks2.row(static_cast<Eigen::Index>(5 * i) + m);
        }
    }
}

PolarizabilityPrediction summarise_polarizability_members(const Eigen::Matrix<double, 6, Eigen::Dynamic>& raw,
                                                          double alpha_isotropic, double alpha) {
    PolarizabilityPrediction prediction;
    const Eigen::Index members = raw.cols();
    const Vector6d raw_mean = raw.rowwise().mean();
    Vector6d scale = Vector6d::Constant(alpha);
    scale[0] = alpha_isotropic;
    const Eigen::Matrix<double, 6, Eigen::Dynamic> calibrated =
        (scale.asDiagonal() * (raw.colwise() - raw_mean)).colwise() + raw_mean;
    // Row 0 is the isotropic part a; the orthonormal coordinate is √3 a.
    const auto coordinates_of = [](const Vector6d& column) {
        Vector6d c = column;
        c[0] *= std::sqrt(3.0);
        return c;
    };
    prediction.coordinates = coordinates_of(raw_mean);
    prediction.mean = tensor_from_coordinates(prediction.coordinates);
    prediction.members.reserve(static_cast<std::size_t>(members));
    Eigen::Matrix3d sum_squares = Eigen::Matrix3d::Zero();
    Vector6d coordinate_squares = Vector6d::Zero();
    for (Eigen::Index k = 0; k < members; ++k) {
        const Vector6d c = coordinates_of(calibrated.col(k));
        prediction.members.push_back(tensor_from_coordinates(c));
        sum_squares += (prediction.members.back() - prediction.mean).cwiseAbs2();
        coordinate_squares += (c - prediction.coordinates).cwiseAbs2();
    }
    if (members > 1) {
        prediction.sigma = (sum_squares / static_cast<double>(members - 1)).cwiseSqrt();
        prediction.coordinate_sigma = (coordinate_squares / static_cast<double>(members - 1)).cwiseSqrt();
    }
    return prediction;
}

struct PolarizabilityCommittee::Scratch {
    explicit Scratch(const features::FeatureCalculator& calculator) : workspace(calculator.workspace()) {}
    features::FeatureWorkspace workspace;
    features::FeatureMatrix blocks0;
    features::FeatureMatrix blocks2;
    Eigen::MatrixXd design;
};

PolarizabilityCommittee::PolarizabilityCommittee(PolarizabilityCommitteeParameters parameters)
    : parameters_(std::move(parameters)),
      calculator_(checked_settings(parameters_.features)),
      counts_(polarizability_feature_counts(parameters_.features)) {
    const auto species = static_cast<Eigen::Index>(parameters_.features.species.size());
    const Eigen::Index row = counts_.row();
    if (parameters_.weights.size() < 2) {
        throw ConfigError("polarizability committee: " + std::to_string(parameters_.weights.size()) +
                          " member(s); a committee needs at least 2 for a spread");
    }
    for (const double alpha : {parameters_.alpha, parameters_.alpha_isotropic}) {
        if (!(alpha > 0.0) || !std::isfinite(alpha)) {
            throw ConfigError("polarizability committee: calibration factor " + std::to_string(alpha) +
                              " must be a finite number > 0");
        }
    }
    stacked_weights_.resize(species * row, static_cast<Eigen::Index>(parameters_.weights.size()));
    for (std::size_t k = 0; k < parameters_.weights.size(); ++k) {
        const Eigen::MatrixXd& w = parameters_.weights[k];
        if (w.rows() != species || w.cols() != row) {
            throw ConfigError(
                "polarizability committee: member " + std::to_string(k) + " has " + std::to_string(w.rows()) +
                " × " + std::to_string(w.cols()) + " weights, but the feature settings define " +
                std::to_string(species) + " species × (1 + " + std::to_string(counts_.lambda0) + " λ = 0 + " +
                std::to_string(counts_.lambda2) + " λ = 2) weights; the file is inconsistent, retrain it");
        }
        if (!w.allFinite()) {
            throw ConfigError("polarizability committee: member " + std::to_string(k) +
                              " has non-finite weights; retrain it");
        }
        for (Eigen::Index s = 0; s < species; ++s) {
            stacked_weights_.col(static_cast<Eigen::Index>(k)).segment(s * row, row) = w.row(s).transpose();
        }
    }
}

PolarizabilityCommittee::~PolarizabilityCommittee() = default;

std::string PolarizabilityCommittee::description() const {
    char alpha[64];
    std::snprintf(alpha, sizeof alpha, "%.4g (isotropic %.4g)", parameters_.alpha,
                  parameters_.alpha_isotropic);
    return "linear polarizability committee of " + std::to_string(committee_size()) + " members, " +
           std::to_string(counts_.lambda0) + " λ=0 + " + std::to_string(counts_.lambda2) +
           " λ=2 features per species, α = " + alpha;
}

PolarizabilityPrediction PolarizabilityCommittee::predict(const engine::System& system) const {
    return predict_with(system, parameters_.alpha_isotropic, parameters_.alpha);
}

PolarizabilityPrediction PolarizabilityCommittee::predict_uncalibrated(const engine::System& system) const {
    return predict_with(system, 1.0, 1.0);
}

PolarizabilityPrediction PolarizabilityCommittee::predict_with(const engine::System& system,
                                                               double alpha_isotropic, double alpha) const {
    Eigen::Matrix<double, 6, Eigen::Dynamic> raw;
    {
        const auto scratch = scratch_pool_.lease([this] { return std::make_unique<Scratch>(calculator_); });
        polarizability_design(calculator_, system, scratch->workspace, scratch->blocks0, scratch->blocks2,
                              scratch->design);
        raw = scratch->design * stacked_weights_;
    }
    return summarise_polarizability_members(raw, alpha_isotropic, alpha);
}

}  // namespace chorus::models::polarizability
