#include "live_reweight.hpp"

#include <cmath>
#include <exception>

#include "chorus/engine/block_average.hpp"
#include "chorus/engine/reweighting.hpp"
#include "chorus/error.hpp"
#include "reweight_committee_log.hpp"

namespace chorus::server {
namespace {

void reweight_group(const ReweightInput& input, std::uint32_t group, double kt_ev, std::optional<int> beads,
                    LiveGroupReweight& result) {
    const auto members = static_cast<Eigen::Index>(input.members);
    // The volume, σ_E and the dipole scalars ride along as extra "members": group_into_steps
    // averages every column over the beads of a step alike, and the first M columns (and the dipole
    // scalars, averaged by the same loop offline) come out exactly as offline.
    CommitteeLogContents contents;
    contents.members = static_cast<std::size_t>(input.values.cols());
    std::vector<Eigen::Index> rows;
    for (std::size_t r = 0; r < input.groups.size(); ++r) {
        if (input.groups[r] == group) {
            rows.push_back(static_cast<Eigen::Index>(r));
        }
    }
    result.records = rows.size();
    contents.member_energies.resize(static_cast<Eigen::Index>(rows.size()), input.values.cols());
    for (std::size_t k = 0; k < rows.size(); ++k) {
        contents.member_energies.row(static_cast<Eigen::Index>(k)) = input.values.row(rows[k]);
        contents.beads.push_back(input.beads[static_cast<std::size_t>(rows[k])]);
        contents.blocks.push_back(0);
        contents.connections.emplace_back();
    }
    if (rows.empty()) {
        throw InputError("no structures evaluated yet");
    }
    const SteppedPotentials stepped = group_into_steps(contents, beads);
    result.steps = static_cast<std::size_t>(stepped.potentials.rows());
    result.beads = stepped.beads;
    result.incomplete_steps = stepped.incomplete_steps;
    if (result.steps < 2) {
        throw InputError("fewer than 2 complete steps so far");
    }
    const Eigen::MatrixXd potentials = stepped.potentials.leftCols(members);
    const Eigen::VectorXd volume = stepped.potentials.col(members);
    const Eigen::VectorXd sigma = stepped.potentials.col(members + 1);
    const auto dipole_columns = static_cast<Eigen::Index>(input.dipole ? dipole_scalar_count : 0);

    std::vector<std::string> names = {"potential_energy"};
    const bool periodic = volume.allFinite();
    Eigen::MatrixXd observables(potentials.rows(), (periodic ? 3 : 2) + dipole_columns);
    observables.col(0) = potentials.rowwise().mean();  // as `chorus reweight` makes observable 0
    Eigen::Index next = 1;
    if (periodic) {
        observables.col(next++) = volume;
        names.emplace_back("volume");
    }
    observables.col(next++) = sigma;
    names.emplace_back("sigma_energy");
    // Offline, these are observables 1-4 (after the potential energy): the same columns reweighted
    // one at a time, so the same doubles.
    observables.rightCols(dipole_columns) = stepped.potentials.middleCols(members + 2, dipole_columns);
    for (Eigen::Index s = 0; s < dipole_columns; ++s) {
        names.emplace_back(dipole_scalar_names[static_cast<std::size_t>(s)]);
    }

    const double beta = 1.0 / kt_ev;
    const Eigen::MatrixXd deviations = engine::potential_deviations(potentials);
    const engine::ReweightedAverages averages =
        reweight_each_observable(deviations, observables, beta, /*exact=*/false);
    const Eigen::VectorXd ess = engine::effective_sample_sizes(deviations, beta);
    result.effective_sample_sizes.assign(ess.data(), ess.data() + ess.size());
    for (Eigen::Index k = 0; k < observables.cols(); ++k) {
        const engine::BlockAverage blocked = engine::block_average(observables.col(k));
        LiveObservable observable;
        observable.name = names[static_cast<std::size_t>(k)];
        observable.sampled = averages.sampled[k];
        observable.statistical_error = blocked.standard_error;
        observable.block_size = blocked.block_size;
        observable.blocks = blocked.blocks;
        observable.reliable = blocked.reliable;
        observable.member_mean = averages.member_mean[k];
        observable.committee_spread = averages.committee_spread[k];
        for (Eigen::Index i = 0; i < averages.members.cols(); ++i) {
            observable.member_averages.push_back(averages.members(k, i));
        }
        result.observables.push_back(std::move(observable));
    }
}

}  // namespace

LiveReweight compute_live_reweight(const ReweightInput& input, double kt_ev, std::optional<int> beads) {
    LiveReweight result;
    result.kt_ev = kt_ev;
    result.members = input.members;
    result.truncated = input.truncated;
    for (std::size_t g = 0; g < input.group_names.size(); ++g) {
        LiveGroupReweight group;
        group.group = input.group_names[g];
        try {
            reweight_group(input, static_cast<std::uint32_t>(g), kt_ev, beads, group);
        } catch (const Error& error) {
            group.error = error.what();
            group.effective_sample_sizes.clear();
            group.observables.clear();
        }
        result.groups.push_back(std::move(group));
    }
    return result;
}

}  // namespace chorus::server
