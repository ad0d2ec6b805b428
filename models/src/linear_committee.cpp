#include "chorus/models/linear_committee.hpp"

#include <cmath>
#include <sstream>

#include "chorus/error.hpp"

namespace chorus::models {

struct LinearCommittee::Scratch {
    explicit Scratch(const features::FeatureCalculator& calculator) : workspace(calculator.workspace()) {}

    features::FeatureWorkspace workspace;
    features::FeatureMatrix features;
    features::FeatureMatrix gradient;  // ∂E/∂X for one member (per-member passes)
    Eigen::Matrix3Xd forces;
    Eigen::Matrix3d virial;
    Eigen::RowVectorXd feature_sums;  // S·F: Σ_{i of channel s} X(i), channel major
    Eigen::VectorXd species_counts;   // S
    std::vector<int> channels;        // N
};

namespace {

void require(bool condition, const std::string& message) {
    if (!condition) {
        throw ConfigError("linear committee: " + message);
    }
}

std::string shape(const Eigen::MatrixXd& matrix) {
    return std::to_string(matrix.rows()) + " × " + std::to_string(matrix.cols());
}

}  // namespace

LinearCommittee::LinearCommittee(LinearCommitteeParameters parameters)
    : parameters_(std::move(parameters)), calculator_(parameters_.features) {
    const auto species = static_cast<Eigen::Index>(calculator_.species());
    const auto features = static_cast<Eigen::Index>(calculator_.size());
    const auto members = static_cast<Eigen::Index>(parameters_.weights.size());
    require(members >= 1, "no members; a committee needs at least one weight set");
    require(parameters_.baselines.rows() == species && parameters_.baselines.cols() == members,
            "baselines are " + shape(parameters_.baselines) + ", expected species × members = " +
                std::to_string(species) + " × " + std::to_string(members));
    require(parameters_.baselines.allFinite(), "a baseline is not finite; retrain the model");
    require(std::isfinite(parameters_.alpha) && parameters_.alpha > 0.0,
            "alpha must be a positive number, got " + std::to_string(parameters_.alpha));
    mean_weights_.setZero(species, features);
    stacked_weights_.resize(species * features, members);
    for (Eigen::Index k = 0; k < members; ++k) {
        const Eigen::MatrixXd& w = parameters_.weights[static_cast<std::size_t>(k)];
        require(w.rows() == species && w.cols() == features,
                "member " + std::to_string(k) + " has " + shape(w) +
                    " weights, expected species × features = " + std::to_string(species) + " × " +
                    std::to_string(features));
        require(w.allFinite(), "member " + std::to_string(k) + " has a non-finite weight; retrain the model");
        mean_weights_ += w;
        for (Eigen::Index s = 0; s < species; ++s) {
            stacked_weights_.col(k).segment(s * features, features) = w.row(s).transpose();
        }
    }
    mean_weights_ /= static_cast<double>(members);
}

LinearCommittee::~LinearCommittee() = default;

std::string LinearCommittee::description() const {
    std::string species;
    for (const int z : parameters_.features.species) {
        species += (species.empty() ? "" : ",") + std::to_string(z);
    }
    std::ostringstream text;
    text.precision(4);
    text << "linear-committee: " << committee_size() << " members, " << calculator_.size()
         << " features per species, range " << cutoff() << " Å, species " << species << ", alpha "
         << parameters_.alpha;
    return text.str();
}

std::unique_ptr<LinearCommittee::Scratch> LinearCommittee::acquire_scratch() const {
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

void LinearCommittee::release_scratch(std::unique_ptr<Scratch> scratch) const {
    const std::lock_guard lock(pool_mutex_);
    pool_.push_back(std::move(scratch));
}

void LinearCommittee::compute(const engine::System& system, const engine::ComputeRequest& request,
                              engine::CommitteeResult& result) const {
    const std::size_t members = committee_size();
    const std::size_t atoms = system.size();
    const auto species = static_cast<Eigen::Index>(calculator_.species());
    const auto features = static_cast<Eigen::Index>(calculator_.size());
    result.reset(members, atoms, request);

    // Returned to the pool on every path, exceptions included.
    struct Lease {
        const LinearCommittee& owner;
        std::unique_ptr<Scratch> scratch;
        ~Lease() { owner.release_scratch(std::move(scratch)); }
    } lease{*this, acquire_scratch()};
    Scratch& s = *lease.scratch;

    const bool member_gradients = request.member_forces || request.member_virials;
    const bool mean_gradients = request.forces || request.virial;
    if (mean_gradients && !member_gradients) {
        // The fused path: features, mean forces and mean virial in one pass.
        calculator_.compute_linear(system, s.workspace, mean_weights_, s.forces, s.virial, &s.features);
    } else {
        calculator_.compute(system, s.workspace, s.features);
    }

    s.channels.resize(atoms);
    s.feature_sums.setZero(species * features);
    s.species_counts.setZero(species);
    const auto& numbers = system.atomic_numbers();
    for (std::size_t i = 0; i < atoms; ++i) {
        const int channel = parameters_.features.channel(numbers[i]);
        if (channel < 0) {
            throw InputError("atomic number " + std::to_string(numbers[i]) + " (atom " + std::to_string(i) +
                             ") is not a species of this linear committee; use a model trained for it");
        }
        s.channels[i] = channel;
        s.species_counts[channel] += 1.0;
        s.feature_sums.segment(channel * features, features) += s.features.row(static_cast<Eigen::Index>(i));
    }
    // One (S·F) · (S·F × M) product gives every member's energy.
    result.member_energies = (s.feature_sums * stacked_weights_).transpose() +
                             parameters_.baselines.transpose() * s.species_counts;
    result.energy = result.member_energies.mean();

    if (request.atomic_energies) {
        for (std::size_t i = 0; i < atoms; ++i) {
            const int c = s.channels[i];
            const auto row = static_cast<Eigen::Index>(i);
            result.member_atomic_energies.row(row) =
                s.features.row(row) * stacked_weights_.middleRows(c * features, features) +
                parameters_.baselines.row(c);
        }
    }

    if (member_gradients) {
        // One adjoint pass per member on the densities of the compute() above, then the mean.
        s.gradient.resize(static_cast<Eigen::Index>(atoms), features);
        for (std::size_t k = 0; k < members; ++k) {
            const Eigen::MatrixXd& w = parameters_.weights[k];
            for (std::size_t i = 0; i < atoms; ++i) {
                s.gradient.row(static_cast<Eigen::Index>(i)) = w.row(s.channels[i]);
            }
            calculator_.backward(system, s.workspace, s.gradient, s.forces, s.virial);
            if (request.member_forces) {
                result.member_forces[k] = s.forces;
            }
            if (request.member_virials) {
                result.member_virials[k] = s.virial;
            }
            if (mean_gradients) {
                if (k == 0) {
                    result.virial.setZero();
                    if (request.forces) {
                        result.forces.setZero();
                    }
                }
                result.virial += s.virial;
                if (request.forces) {
                    result.forces += s.forces;
                }
            }
        }
        const double inverse = 1.0 / static_cast<double>(members);
        result.virial *= inverse;
        result.forces *= inverse;
        return;
    }
    if (request.forces) {
        result.forces = s.forces;
    }
    if (request.virial) {
        result.virial = s.virial;
    }
}

}  // namespace chorus::models
