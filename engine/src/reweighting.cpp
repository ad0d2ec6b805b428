#include "chorus/engine/reweighting.hpp"

#include <cmath>
#include <string>

#include "chorus/error.hpp"

namespace chorus::engine {
namespace {

std::string shape(const Eigen::MatrixXd& m) {
    return std::to_string(m.rows()) + " × " + std::to_string(m.cols());
}

void check_inputs(const Eigen::MatrixXd& deviations, const Eigen::MatrixXd& observables, double beta) {
    if (!(beta > 0.0) || !std::isfinite(beta)) {
        throw InputError("reweighting: β = " + std::to_string(beta) +
                         " is not a positive finite inverse temperature; give a positive temperature");
    }
    if (deviations.rows() == 0 || deviations.cols() < 2) {
        throw InputError(
            "reweighting needs at least one frame and two committee members, got potentials of shape " +
            shape(deviations) + " (frames × members)");
    }
    if (observables.rows() != deviations.rows() || observables.cols() == 0) {
        throw InputError("reweighting: " + std::to_string(deviations.rows()) + " frames of potentials but " +
                         std::to_string(observables.rows()) + " of observables (shape " + shape(observables) +
                         "); give one observable row per potential row");
    }
    if (!deviations.allFinite() || !observables.allFinite()) {
        throw InputError(
            "reweighting: potentials or observables contain NaN or infinite values; remove those frames");
    }
}

// Fills member_mean and committee_spread from members.
void summarise_members(ReweightedAverages& result) {
    const auto m = static_cast<double>(result.members.cols());
    result.member_mean = result.members.rowwise().mean();
    const Eigen::MatrixXd centred = result.members.colwise() - result.member_mean;
    result.committee_spread = (centred.array().square().rowwise().sum() / (m - 1.0)).sqrt().matrix();
}

}  // namespace

Eigen::MatrixXd potential_deviations(const Eigen::MatrixXd& member_potentials,
                                     const std::optional<Eigen::VectorXd>& sampling_potential) {
    if (member_potentials.cols() == 0) {
        throw InputError("potential deviations: no committee members (0 columns)");
    }
    if (sampling_potential) {
        if (sampling_potential->size() != member_potentials.rows()) {
            throw InputError("potential deviations: " + std::to_string(sampling_potential->size()) +
                             " sampling potentials for " + std::to_string(member_potentials.rows()) +
                             " frames; give one per frame");
        }
        return member_potentials.colwise() - *sampling_potential;
    }
    // Differences to the first member first: members agree to many digits while the absolute
    // potential of a condensed system is large, so the mean of the differences loses nothing.
    const Eigen::MatrixXd relative = member_potentials.colwise() - member_potentials.col(0);
    return relative.colwise() - relative.rowwise().mean();
}

Eigen::MatrixXd bead_average(const Eigen::MatrixXd& records, int beads) {
    if (beads < 1 || records.rows() % beads != 0) {
        throw InputError("bead averaging: " + std::to_string(records.rows()) +
                         " records do not split into frames of " + std::to_string(beads) +
                         " beads; check the number of beads");
    }
    const Eigen::Index frames = records.rows() / beads;
    Eigen::MatrixXd averaged(frames, records.cols());
    for (Eigen::Index f = 0; f < frames; ++f) {
        averaged.row(f) = records.middleRows(f * beads, beads).colwise().mean();
    }
    return averaged;
}

Eigen::MatrixXd bead_average(std::span<const Eigen::MatrixXd> per_bead) {
    if (per_bead.empty()) {
        throw InputError("bead averaging: no beads given");
    }
    Eigen::MatrixXd sum = per_bead.front();
    for (std::size_t k = 1; k < per_bead.size(); ++k) {
        if (per_bead[k].rows() != sum.rows() || per_bead[k].cols() != sum.cols()) {
            throw InputError("bead averaging: bead " + std::to_string(k) + " has shape " +
                             shape(per_bead[k]) + " but bead 0 has " + shape(sum) +
                             "; every bead needs the same frames and members");
        }
        sum += per_bead[k];
    }
    return sum / static_cast<double>(per_bead.size());
}

ReweightedAverages reweight_exact(const Eigen::MatrixXd& deviations, const Eigen::MatrixXd& observables,
                                  double beta) {
    check_inputs(deviations, observables, beta);
    ReweightedAverages result;
    result.sampled = observables.colwise().mean().transpose();

    // log w − max log w per member: the largest weight is 1, none overflows, and the ratio
    // Σ a w / Σ w is unchanged by the common factor.
    Eigen::MatrixXd weights = -beta * deviations;
    const Eigen::RowVectorXd largest = weights.colwise().maxCoeff();
    weights = (weights.rowwise() - largest).array().exp().matrix();
    const Eigen::RowVectorXd norms = weights.colwise().sum();
    result.members = (observables.transpose() * weights).array().rowwise() / norms.array();
    summarise_members(result);
    return result;
}

ReweightedAverages reweight_cumulant(const Eigen::MatrixXd& deviations, const Eigen::MatrixXd& observables,
                                     double beta) {
    check_inputs(deviations, observables, beta);
    ReweightedAverages result;
    const auto frames = static_cast<double>(deviations.rows());
    result.sampled = observables.colwise().mean().transpose();
    const Eigen::MatrixXd a = observables.rowwise() - result.sampled.transpose();
    const Eigen::MatrixXd dv = deviations.rowwise() - deviations.colwise().mean();
    // Population covariance (1/frames), as the expectation values of the formula are.
    const Eigen::MatrixXd covariance = a.transpose() * dv / frames;
    result.members = (-beta * covariance).colwise() + result.sampled;
    summarise_members(result);
    return result;
}

Eigen::VectorXd effective_sample_sizes(const Eigen::MatrixXd& deviations, double beta) {
    check_inputs(deviations, Eigen::MatrixXd::Zero(deviations.rows(), 1), beta);
    Eigen::MatrixXd weights = -beta * deviations;
    const Eigen::RowVectorXd largest = weights.colwise().maxCoeff();
    weights = (weights.rowwise() - largest).array().exp().matrix();
    const Eigen::ArrayXd sums = weights.colwise().sum().transpose().array();
    const Eigen::ArrayXd squares = weights.array().square().colwise().sum().transpose();
    return (sums.square() / squares).matrix();
}

ObservableCommitteeUncertainty observable_committee_uncertainty(const ReweightedAverages& reweighted) {
    const Eigen::Index models = reweighted.members.rows();   // N_a
    const Eigen::Index members = reweighted.members.cols();  // M
    if (models < 2 || members < 2) {
        throw InputError(
            "the observable-committee uncertainty needs at least 2 observable models and 2 potential "
            "members, got " +
            std::to_string(models) + " and " + std::to_string(members) +
            "; give one observable column per model");
    }
    const auto n = static_cast<double>(models);
    const auto m = static_cast<double>(members);

    ObservableCommitteeUncertainty result;
    result.mean = reweighted.sampled.mean();
    const double variance_a =
        (reweighted.sampled.array() - result.mean).square().sum() / (n - 1.0);       // Eq. 27
    const double variance_av = reweighted.committee_spread.array().square().mean();  // Eq. 28
    // Eq. 26: the variance of all N_a·M reweighted averages about their mean, split into its two
    // sources. (i-PI's uncertainty_CEA_multiple_models() calls CEA(obs, pot, kT) with its two
    // arguments swapped, so its σ_aV reweights the potentials with the observable models; here the
    // observable models are reweighted with the potential members, as Eq. 28 says.)
    result.sigma_a = std::sqrt(variance_a);
    result.sigma_av = std::sqrt(variance_av);
    result.total =
        std::sqrt(m * (n - 1.0) / (m * n - 1.0) * variance_a + (m - 1.0) * n / (m * n - 1.0) * variance_av);
    return result;
}

}  // namespace chorus::engine
