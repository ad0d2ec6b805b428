#include "chorus/models/linear_committee.hpp"

#include <cmath>
#include <sstream>

#include "chorus/error.hpp"

namespace chorus::models {

struct LinearCommittee::Scratch {
    explicit Scratch(const features::FeatureCalculator& calculator) : workspace(calculator.workspace()) {}

    features::FeatureWorkspace workspace;
    features::FeatureMatrix features;  // N × F, only for per-atom energies and energy-only calls
    Eigen::Matrix3Xd forces;
    Eigen::Matrix3d virial;
    Eigen::VectorXd member_energies;  // M, from the committee pass; the result's come from feature_sums
                                      // on every path, so they do not depend on what was requested
    std::vector<Eigen::Matrix3Xd> member_forces;  // M, when the caller did not ask for them
    std::vector<Eigen::Matrix3d> member_virials;  // M, likewise
    Eigen::MatrixXd channel_sums;                 // S × F: Σ_{i of channel s} X(i)
    Eigen::RowVectorXd feature_sums;              // the same flattened, channel major
    Eigen::VectorXd species_counts;               // S
    std::vector<int> channels;                    // N
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

void LinearCommittee::compute(const engine::System& system, const engine::ComputeRequest& request,
                              engine::CommitteeResult& result) const {
    const std::size_t members = committee_size();
    const std::size_t atoms = system.size();
    const auto species = static_cast<Eigen::Index>(calculator_.species());
    const auto features = static_cast<Eigen::Index>(calculator_.size());
    result.reset(members, atoms, request);

    const auto lease = scratch_pool_.lease([this] { return std::make_unique<Scratch>(calculator_); });
    Scratch& s = *lease;

    const bool member_gradients = request.member_forces || request.member_virials;
    const bool mean_gradients = request.forces || request.virial;
    // The N × F features only for per-atom energies; member energies need their per-species sums
    // alone, which the calculator accumulates per thread.
    features::FeatureMatrix* const per_atom = request.atomic_energies ? &s.features : nullptr;
    if (member_gradients) {
        // Every member's forces and virial in one pass over the pairs, straight into the result
        // where the caller wants them.
        calculator_.compute_linear_committee(
            system, s.workspace, parameters_.weights, s.member_energies,
            request.member_forces ? result.member_forces : s.member_forces,
            request.member_virials ? result.member_virials : s.member_virials, per_atom, &s.channel_sums);
    } else if (mean_gradients) {
        // The fused path: mean forces and mean virial in one pass.
        calculator_.compute_linear(system, s.workspace, mean_weights_, s.forces, s.virial, per_atom,
                                   &s.channel_sums);
    } else {
        calculator_.compute(system, s.workspace, s.features);
        s.channel_sums.setZero(species, features);
        for (std::size_t i = 0; i < atoms; ++i) {
            const int channel = parameters_.features.channel(system.atomic_numbers()[i]);
            s.channel_sums.row(channel) += s.features.row(static_cast<Eigen::Index>(i));
        }
    }

    s.channels.resize(atoms);
    s.species_counts.setZero(species);
    const auto& numbers = system.atomic_numbers();
    for (std::size_t i = 0; i < atoms; ++i) {
        // The calculator has rejected species it does not describe (InputError naming the atom).
        const int channel = parameters_.features.channel(numbers[i]);
        s.channels[i] = channel;
        s.species_counts[channel] += 1.0;
    }
    s.feature_sums.resize(species * features);
    for (Eigen::Index channel = 0; channel < species; ++channel) {
        s.feature_sums.segment(channel * features, features) = s.channel_sums.row(channel);
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
        // The mean of the members (the model is linear in its weights: the force of the mean weights).
        const auto& forces = request.member_forces ? result.member_forces : s.member_forces;
        const auto& virials = request.member_virials ? result.member_virials : s.member_virials;
        result.virial.setZero();
        if (request.forces) {
            result.forces.setZero();
        }
        for (std::size_t k = 0; k < members; ++k) {
            result.virial += virials[k];
            if (request.forces) {
                result.forces += forces[k];
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
