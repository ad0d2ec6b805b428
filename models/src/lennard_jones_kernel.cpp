#include "lennard_jones_kernel.hpp"

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "chorus/engine/neighbour_list.hpp"
#include "chorus/error.hpp"

namespace chorus::models::detail {
namespace {

// One list per thread, rebuilt in place for every call: the model stays const and shared
// between connections, and steady-state calls do not allocate.
engine::NeighbourList& thread_neighbour_list(double cutoff) {
    thread_local std::optional<engine::NeighbourList> list;
    if (!list || list->cutoff() != cutoff) {
        list.emplace(cutoff);
    }
    return *list;
}

struct MemberConstants {
    double four_epsilon;
    double sigma_squared;
    double energy_at_cutoff;  // the shift that makes each pair energy vanish at r_c (as ASE)
};

}  // namespace

void check_lennard_jones_parameters(const LennardJonesParameters& parameters, double cutoff) {
    const auto check = [](const char* name, double value, const char* unit) {
        if (!std::isfinite(value) || !(value > 0.0)) {
            throw ConfigError(std::string("Lennard-Jones ") + name + " must be a positive finite number of " +
                              unit + ", got " + std::to_string(value));
        }
    };
    check("epsilon", parameters.epsilon, "eV");
    check("sigma", parameters.sigma, "Å");
    check("cutoff", cutoff, "Å");
}

void evaluate_lennard_jones(const engine::System& system, std::span<const LennardJonesParameters> members,
                            double cutoff, const engine::ComputeRequest& request,
                            engine::CommitteeResult& result) {
    const std::size_t count = members.size();
    result.reset(count, system.size(), request);

    thread_local std::vector<MemberConstants> constants;
    constants.clear();
    for (const LennardJonesParameters& member : members) {
        const double ratio6 = std::pow(member.sigma / cutoff, 6);
        constants.push_back({4.0 * member.epsilon, member.sigma * member.sigma,
                             4.0 * member.epsilon * (ratio6 * ratio6 - ratio6)});
    }

    if (request.atomic_energies) {
        result.member_atomic_energies.setZero();
    }

    engine::NeighbourList& list = thread_neighbour_list(cutoff);
    list.build(system);

    // The list is full (each pair from both ends); each pair is taken once, from its lower index,
    // and its force goes to both atoms. A centre's own periodic images are the exception: the
    // entries at +T and −T are the same pair, so each carries half of it (their forces cancel).
    const double inverse_count = 1.0 / static_cast<double>(count);
    Eigen::Matrix3d mean_virial = Eigen::Matrix3d::Zero();
    for (std::size_t centre = 0; centre < list.centres(); ++centre) {
        const auto i = static_cast<Eigen::Index>(centre);
        for (const engine::Neighbour& neighbour : list.neighbours(centre)) {
            const auto j = static_cast<Eigen::Index>(neighbour.index);
            if (j < i) {
                continue;
            }
            const double weight = j == i ? 0.5 : 1.0;
            const Eigen::Vector3d& r = neighbour.vector;
            const double inverse_r2 = 1.0 / (neighbour.distance * neighbour.distance);
            double mean_derivative = 0.0;
            for (std::size_t k = 0; k < count; ++k) {
                const MemberConstants& member = constants[k];
                const double s2 = member.sigma_squared * inverse_r2;
                const double c6 = s2 * s2 * s2;
                const double c12 = c6 * c6;
                const double pair_energy =
                    weight * (member.four_epsilon * (c12 - c6) - member.energy_at_cutoff);
                result.member_energies[static_cast<Eigen::Index>(k)] += pair_energy;
                if (request.atomic_energies) {
                    // Half to each end (shift included), so the atoms sum to the member's energy;
                    // a self-image pair gives both halves to its one atom.
                    result.member_atomic_energies(i, static_cast<Eigen::Index>(k)) += 0.5 * pair_energy;
                    result.member_atomic_energies(j, static_cast<Eigen::Index>(k)) += 0.5 * pair_energy;
                }
                // (du/dr)/r: the pair pulls the centre by derivative · r_ij and the neighbour
                // by the opposite, f_ij = −derivative · r_ij.
                const double derivative = -6.0 * member.four_epsilon * (2.0 * c12 - c6) * inverse_r2;
                mean_derivative += derivative;
                if (request.member_forces) {
                    result.member_forces[k].col(i) += derivative * r;
                    result.member_forces[k].col(j) -= derivative * r;
                }
                if (request.member_virials) {
                    // W += r_ij ⊗ f_ij
                    result.member_virials[k].noalias() -= weight * derivative * r * r.transpose();
                }
            }
            mean_derivative *= inverse_count;
            if (request.forces) {
                result.forces.col(i) += mean_derivative * r;
                result.forces.col(j) -= mean_derivative * r;
            }
            mean_virial.noalias() -= weight * mean_derivative * r * r.transpose();
        }
    }
    if (request.virial) {
        result.virial = mean_virial;
    }
    result.energy = result.member_energies.mean();
}

}  // namespace chorus::models::detail
