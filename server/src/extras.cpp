#include "extras.hpp"

#include <vector>

#include <nlohmann/json.hpp>

#include "wire_conversion.hpp"

namespace chorus::server {

engine::ComputeRequest compute_request_for(ExtrasMode mode) {
    engine::ComputeRequest request;
    request.forces = true;
    request.virial = true;
    request.member_forces = mode == ExtrasMode::full;
    request.member_virials = mode == ExtrasMode::full;
    return request;
}

std::string build_extras(const engine::CommitteeResult& result, ExtrasMode mode, const ExtrasContext& context) {
    if (mode == ExtrasMode::none) {
        return {};
    }
    const std::size_t members = result.committee_size();
    nlohmann::json extras = nlohmann::json::object();

    auto& energies = extras["committee_pot"] = nlohmann::json::array();
    for (std::size_t k = 0; k < members; ++k) {
        energies.push_back(energy_to_wire(result.member_energies[static_cast<Eigen::Index>(k)]));
    }

    if (mode == ExtrasMode::full) {
        auto& forces = extras["committee_force"] = nlohmann::json::array();
        std::vector<double> wire_forces;
        for (const auto& member : result.member_forces) {
            forces_to_wire(member, wire_forces);
            forces.push_back(wire_forces);
        }
        auto& virials = extras["committee_virial"] = nlohmann::json::array();
        for (const auto& member : result.member_virials) {
            virials.push_back(virial_to_wire(member));
        }
    }

    extras["committee_uncertainty"] = energy_to_wire(result.energy_spread());
    extras["chorus_alpha"] = context.alpha;
    extras["chorus_bead"] = context.replica_id;
    // nlohmann::json writes the shortest text that reads back to the same double.
    return extras.dump();
}

}  // namespace chorus::server
