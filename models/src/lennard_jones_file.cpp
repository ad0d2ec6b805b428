// Model-file readers for the Lennard-Jones kinds. Values are validated here, key by key, so the
// message names the file and the key; the constructors' own checks are a second line.
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "chorus/models/lennard_jones.hpp"
#include "chorus/models/model_file_object.hpp"

namespace chorus::models {

std::unique_ptr<engine::Model> lennard_jones_from_json(const nlohmann::json& document,
                                                       std::string_view origin) {
    const ModelFileObject object(document, origin, "", {"kind", "epsilon", "sigma", "cutoff"});
    const double epsilon = object.positive_number("epsilon", "eV");
    const double sigma = object.positive_number("sigma", "Å");
    const std::optional<double> cutoff = object.optional_positive_number("cutoff", "Å; default 3 sigma");
    return std::make_unique<LennardJones>(epsilon, sigma, cutoff);
}

std::unique_ptr<engine::Model> lennard_jones_committee_from_json(const nlohmann::json& document,
                                                                 std::string_view origin) {
    const ModelFileObject object(document, origin, "", {"kind", "members", "cutoff", "alpha"});
    const nlohmann::json& member_list = object.array("members", 1);
    std::vector<LennardJonesParameters> members;
    members.reserve(member_list.size());
    for (std::size_t k = 0; k < member_list.size(); ++k) {
        const ModelFileObject member(member_list[k], origin, "members[" + std::to_string(k) + "]",
                                     {"epsilon", "sigma"});
        members.push_back({member.positive_number("epsilon", "eV"), member.positive_number("sigma", "Å")});
    }
    const double cutoff = object.positive_number("cutoff", "Å");
    const double alpha =
        object.optional_positive_number("alpha", "calibration factor; default 1").value_or(1.0);
    return std::make_unique<LennardJonesCommittee>(std::move(members), cutoff, alpha);
}

}  // namespace chorus::models
