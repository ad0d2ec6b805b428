// Model files of kind "linear-polarizability-committee" (format in polarizability_committee.hpp):
// the keys, checks and checksum of the other committee files, with one species row of
// [b, λ = 0 weights, λ = 2 weights] per member.
#include <nlohmann/json.hpp>

#include "../committee_file_keys.hpp"
#include "../model_document.hpp"
#include "chorus/error.hpp"
#include "chorus/models/model_file_object.hpp"
#include "chorus/models/polarizability/polarizability_committee.hpp"

namespace chorus::models::polarizability {
namespace {

constexpr std::string_view writer = "chorus train --target polarizability";

std::vector<std::string_view> polarizability_file_keys() {
    std::vector<std::string_view> keys = committee_file_keys();
    keys.push_back("alpha_isotropic");
    return keys;
}

}  // namespace

nlohmann::json polarizability_committee_to_json(const PolarizabilityCommitteeParameters& parameters) {
    const PolarizabilityCommittee check(parameters);  // a model that cannot be built must not be written
    nlohmann::json document = committee_document(
        polarizability_committee_kind, polarizability_committee_format_version, "polarizability",
        polarizability_unit, parameters.features, static_cast<std::size_t>(check.feature_counts().row()),
        parameters.alpha, parameters.training);
    nlohmann::json members = nlohmann::json::array();
    for (const Eigen::MatrixXd& weights : parameters.weights) {
        members.push_back({{"weights", weight_rows_to_json(weights)}});
    }
    document["alpha_isotropic"] = parameters.alpha_isotropic;
    document["members"] = members;
    add_committee_checksum(document);
    return document;
}

void save_polarizability_committee(const PolarizabilityCommitteeParameters& parameters,
                                   const std::filesystem::path& path) {
    write_model_document(polarizability_committee_to_json(parameters), path);
}

PolarizabilityCommitteeParameters polarizability_committee_parameters_from_json(
    const nlohmann::json& document, std::string_view origin) {
    const ModelFileObject object(document, origin, "", polarizability_file_keys());
    const auto kind = document.find("kind");
    if (kind == document.end() || *kind != polarizability_committee_kind) {
        object.fail("kind",
                    "must be \"" + std::string(polarizability_committee_kind) + "\", got " +
                        (kind == document.end() ? std::string("nothing") : describe_json_value(*kind)) +
                        "; pass a polarizability model written by `" + std::string(writer) + "`");
    }
    const auto version = document.find("format_version");
    if (version == document.end() || !version->is_number_integer() ||
        version->get<long long>() != polarizability_committee_format_version) {
        object.fail(
            "format_version",
            "is " + (version == document.end() ? std::string("missing") : describe_json_value(*version)) +
                ", but this chorus reads version " + std::to_string(polarizability_committee_format_version) +
                " only; use the chorus release that wrote the file, or retrain the model");
    }
    check_committee_checksum(object, document, writer);
    check_committee_units(object, document, "polarizability", polarizability_unit, writer);

    PolarizabilityCommitteeParameters parameters;
    parameters.features = committee_feature_settings(object, document, writer);
    if (!parameters.features.lambda_soap) {
        object.fail("features",
                    "has no lambda_soap block; a polarizability model needs λ = 0 and λ = 2 features");
    }
    const Eigen::Index row = polarizability_feature_counts(parameters.features).row();
    check_feature_count(object, document, row, "weights per species (1 + λ = 0 + λ = 2 features)", writer);
    parameters.alpha = object.positive_number("alpha", "calibration factor of the λ = 2 part");
    parameters.alpha_isotropic =
        object.positive_number("alpha_isotropic", "calibration factor of the isotropic part");
    const auto species = static_cast<Eigen::Index>(parameters.features.species.size());
    const nlohmann::json& members = object.array("members", 2);
    for (std::size_t k = 0; k < members.size(); ++k) {
        const ModelFileObject member(members[k], origin, "members[" + std::to_string(k) + "]", {"weights"});
        parameters.weights.push_back(committee_weight_rows(member, species, row));
    }
    const auto training = document.find("training");
    parameters.training = training != document.end() ? *training : nlohmann::json::object();
    return parameters;
}

std::unique_ptr<PolarizabilityCommittee> load_polarizability_committee(const std::filesystem::path& path) {
    const std::string name = path.string();
    PolarizabilityCommitteeParameters parameters = polarizability_committee_parameters_from_json(
        read_model_document(path, "polarizability model file"), name);
    try {
        return std::make_unique<PolarizabilityCommittee>(std::move(parameters));
    } catch (const ConfigError& config_error) {
        throw ConfigError("model file '" + name + "': " + config_error.what());
    }
}

}  // namespace chorus::models::polarizability
