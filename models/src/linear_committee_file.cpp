// Model files of kind "linear-committee" (format in linear_committee.hpp): writing, and reading
// with every check a hand-edited, truncated or foreign file could fail.
#include <nlohmann/json.hpp>

#include "chorus/error.hpp"
#include "chorus/models/linear_committee.hpp"
#include "chorus/models/model_file_object.hpp"
#include "chorus/models/sha256.hpp"
#include "committee_file_keys.hpp"
#include "model_document.hpp"

namespace chorus::models {
namespace {

constexpr std::string_view energy_unit = "eV";
constexpr std::string_view writer = "chorus train";

}  // namespace

std::string linear_committee_checksum(const nlohmann::json& document) {
    nlohmann::json content = document;
    if (content.is_object()) {
        content.erase("checksum");
    }
    return sha256_hex(content.dump());
}

nlohmann::json linear_committee_to_json(const LinearCommitteeParameters& parameters) {
    // The constructor checks the sizes; a model that cannot be built must not be written.
    const LinearCommittee check(parameters);
    nlohmann::json document = committee_document(
        "linear-committee", linear_committee_format_version, "energy", energy_unit, parameters.features,
        check.calculator().size(), parameters.alpha, parameters.training);
    nlohmann::json members = nlohmann::json::array();
    for (std::size_t k = 0; k < parameters.weights.size(); ++k) {
        nlohmann::json baselines = nlohmann::json::array();
        for (Eigen::Index s = 0; s < parameters.baselines.rows(); ++s) {
            baselines.push_back(parameters.baselines(s, static_cast<Eigen::Index>(k)));
        }
        members.push_back(
            {{"baselines", baselines}, {"weights", weight_rows_to_json(parameters.weights[k])}});
    }
    document["members"] = members;
    add_committee_checksum(document);
    return document;
}

void save_linear_committee(const LinearCommitteeParameters& parameters, const std::filesystem::path& path) {
    write_model_document(linear_committee_to_json(parameters), path);
}

LinearCommitteeParameters linear_committee_parameters_from_json(const nlohmann::json& document,
                                                                std::string_view origin) {
    const ModelFileObject object(document, origin, "", committee_file_keys());
    // The version first: a file from another format must be refused for that reason, not for
    // whichever key happens to differ.
    const auto version = document.find("format_version");
    if (version == document.end() || !version->is_number_integer()) {
        object.fail("format_version", "must be an integer (this chorus reads version " +
                                          std::to_string(linear_committee_format_version) + ")");
    }
    if (version->get<long long>() != linear_committee_format_version) {
        object.fail("format_version", "is " + std::to_string(version->get<long long>()) +
                                          ", but this chorus reads version " +
                                          std::to_string(linear_committee_format_version) +
                                          " only; use the chorus release that wrote the file, or retrain the "
                                          "model with `chorus train`");
    }

    check_committee_checksum(object, document, writer);
    check_committee_units(object, document, "energy", energy_unit, writer);

    LinearCommitteeParameters parameters;
    parameters.features = committee_feature_settings(object, document, writer);
    const auto features = static_cast<Eigen::Index>(features::feature_names(parameters.features).size());
    check_feature_count(object, document, features, "features", writer);
    parameters.alpha = object.positive_number("alpha", "calibration factor");
    const auto species = static_cast<Eigen::Index>(parameters.features.species.size());
    const nlohmann::json& members = object.array("members", 1);
    parameters.baselines.resize(species, static_cast<Eigen::Index>(members.size()));
    for (std::size_t k = 0; k < members.size(); ++k) {
        const ModelFileObject member(members[k], origin, "members[" + std::to_string(k) + "]",
                                     {"baselines", "weights"});
        parameters.baselines.col(static_cast<Eigen::Index>(k)) = finite_numbers(
            member, members[k].contains("baselines") ? members[k]["baselines"] : nlohmann::json(),
            "baselines", species);
        parameters.weights.push_back(committee_weight_rows(member, species, features));
    }
    const auto training = document.find("training");
    parameters.training = training != document.end() ? *training : nlohmann::json::object();
    return parameters;
}

std::unique_ptr<engine::Model> linear_committee_from_json(const nlohmann::json& document,
                                                          std::string_view origin) {
    LinearCommitteeParameters parameters = linear_committee_parameters_from_json(document, origin);
    try {
        return std::make_unique<LinearCommittee>(std::move(parameters));
    } catch (const ConfigError& error) {
        throw ConfigError("model file '" + std::string(origin) + "': " + error.what());
    }
}

}  // namespace chorus::models
