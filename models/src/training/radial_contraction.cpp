#include "chorus/models/training/radial_contraction.hpp"

#include <cmath>
#include <sstream>
#include <string>

#include <Eigen/Eigenvalues>

#include "chorus/error.hpp"
#include "chorus/models/features/feature_calculator.hpp"

namespace chorus::models::training {
namespace {

// Same-species power spectrum of the primitive basis at the density's l_max: its centre sums are
// the covariances (header comment).
features::FeatureSettings primitive_power_spectrum(const features::FeatureSettings& settings) {
    features::FeatureSettings primitive = settings;
    const int l_max = settings.density_l_max();
    primitive.primitive_n_max = 0;
    primitive.contraction.clear();
    primitive.contraction_fit = false;
    primitive.nu1_n_max.reset();
    primitive.nu3.reset();
    primitive.message_passing.reset();
    primitive.lambda_soap.reset();
    primitive.lambda_soap_lambdas.clear();
    primitive.nu2 = features::OrderTruncation{settings.primitive_n_max, l_max};
    primitive.nu2_species_pairs.clear();
    for (const int z : settings.species) {
        primitive.nu2_species_pairs.push_back({z, z});
    }
    return primitive;
}

}  // namespace

std::vector<Eigen::MatrixXd> radial_covariances(const features::FeatureSettings& settings,
                                                std::span<const engine::System* const> systems) {
    if (settings.primitive_n_max < 1) {
        throw ConfigError("radial contraction: `radial_basis.primitive_n_max` = " +
                          std::to_string(settings.primitive_n_max) + " must be positive, e.g. 18");
    }
    const features::FeatureCalculator calculator(primitive_power_spectrum(settings));
    auto workspace = calculator.workspace();
    features::FeatureMatrix features;
    Eigen::VectorXd sums = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(calculator.size()));
    for (const engine::System* system : systems) {
        calculator.compute(*system, workspace, features);
        sums += features.colwise().sum().transpose();
    }

    // Unpack in the layout's order: species pairs (a, a), then l, then n1 ≤ n2 (feature_settings.hpp).
    const int n = settings.primitive_n_max;
    const int orders = settings.density_l_max() + 1;
    std::vector<Eigen::MatrixXd> covariances(static_cast<std::size_t>(orders), Eigen::MatrixXd::Zero(n, n));
    Eigen::Index column = 0;
    for (std::size_t a = 0; a < settings.species.size(); ++a) {
        for (int l = 0; l < orders; ++l) {
            Eigen::MatrixXd& c = covariances[static_cast<std::size_t>(l)];
            for (int n1 = 0; n1 < n; ++n1) {
                for (int n2 = n1; n2 < n; ++n2, ++column) {
                    c(n1, n2) += sums[column];
                    if (n2 != n1) {
                        c(n2, n1) += sums[column];
                    }
                }
            }
        }
    }
    if (column != sums.size()) {
        throw Error("radial contraction: the power-spectrum layout has " + std::to_string(sums.size()) +
                    " features, expected " + std::to_string(column) + " (internal inconsistency)");
    }
    return covariances;
}

RadialContractionFit contraction_from_covariances(const std::vector<Eigen::MatrixXd>& covariances,
                                                  int n_max) {
    RadialContractionFit fit;
    for (std::size_t l = 0; l < covariances.size(); ++l) {
        const Eigen::MatrixXd& c = covariances[l];
        if (n_max < 1 || n_max > c.rows()) {
            throw ConfigError("radial contraction: n_max = " + std::to_string(n_max) +
                              " contracted functions cannot come from " + std::to_string(c.rows()) +
                              " primitive ones; raise `radial_basis.primitive_n_max`");
        }
        if (!c.allFinite() || c.trace() <= 0.0) {
            throw InputError("radial contraction: the l = " + std::to_string(l) +
                             " covariance of the training densities is zero or not finite; the training "
                             "frames have no neighbours within the cutoff");
        }
        const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(c);
        const Eigen::Index size = c.rows();
        Eigen::VectorXd values = solver.eigenvalues().reverse();
        Eigen::MatrixXd vectors = solver.eigenvectors().rowwise().reverse();
        std::vector<double> matrix(static_cast<std::size_t>(size * n_max));
        for (Eigen::Index q = 0; q < n_max; ++q) {
            Eigen::Index largest = 0;
            vectors.col(q).cwiseAbs().maxCoeff(&largest);
            if (vectors(largest, q) < 0.0) {
                vectors.col(q) = -vectors.col(q);
            }
            for (Eigen::Index row = 0; row < size; ++row) {
                matrix[static_cast<std::size_t>(row * n_max + q)] = vectors(row, q);
            }
        }
        fit.matrices.push_back(std::move(matrix));
        fit.retained_variance.push_back(values.head(n_max).sum() / values.sum());
        fit.eigenvalues.push_back(std::move(values));
    }
    return fit;
}

features::FeatureSettings fit_radial_contraction(const features::FeatureSettings& settings,
                                                 std::span<const engine::System* const> systems,
                                                 RadialContractionFit* fit) {
    RadialContractionFit result =
        contraction_from_covariances(radial_covariances(settings, systems), settings.density_n_max());
    features::FeatureSettings fitted = settings;
    fitted.contraction = result.matrices;
    fitted.contraction_fit = false;
    fitted.validate();
    if (fit != nullptr) {
        *fit = std::move(result);
    }
    return fitted;
}

}  // namespace chorus::models::training
