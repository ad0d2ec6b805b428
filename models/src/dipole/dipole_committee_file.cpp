// Model files of kind "linear-dipole-committee" (format in dipole_committee.hpp): writing, and
// reading with every check a hand-edited, truncated or foreign file could fail. The checksum is
// the one of "linear-committee" files (same canonical serialisation), so one tool verifies both.
#include <nlohmann/json.hpp>

#include "../committee_file_keys.hpp"
#include "../model_document.hpp"
#include "chorus/error.hpp"
#include "chorus/models/dipole/dipole_committee.hpp"
#include "chorus/models/linear_committee.hpp"
#include "chorus/models/model_file_object.hpp"

namespace chorus::models::dipole {
namespace {

constexpr std::string_view dipole_unit = "e*angstrom";
constexpr std::string_view writer = "chorus train --target dipole";

}  // namespace

nlohmann::json dipole_committee_to_json(const DipoleCommitteeParameters& parameters) {
    const DipoleCommittee check(parameters);  // a model that cannot be built must not be written
    nlohmann::json document =
        committee_document(dipole_committee_kind, dipole_committee_format_version, "dipole", dipole_unit,
                           parameters.features, check.feature_count(), parameters.alpha, parameters.training);
    nlohmann::json members = nlohmann::json::array();
    for (const Eigen::MatrixXd& weights : parameters.weights) {
        members.push_back({{"weights", weight_rows_to_json(weights)}});
    }
    document["members"] = members;
    add_committee_checksum(document);
    return document;
}

void save_dipole_committee(const DipoleCommitteeParameters& parameters, const std::filesystem::path& path) {
    write_model_document(dipole_committee_to_json(parameters), path);
}

DipoleCommitteeParameters dipole_committee_parameters_from_json(const nlohmann::json& document,
                                                                std::string_view origin) {
    const ModelFileObject object(document, origin, "", committee_file_keys());
    const auto kind = document.find("kind");
    if (kind == document.end() || *kind != dipole_committee_kind) {
        object.fail("kind",
                    "must be \"" + std::string(dipole_committee_kind) + "\", got " +
                        (kind == document.end() ? std::string("nothing") : describe_json_value(*kind)) +
                        "; pass a dipole model written by `chorus train --target dipole`");
    }
    const auto version = document.find("format_version");
    if (version == document.end() || !version->is_number_integer() ||
        version->get<long long>() != dipole_committee_format_version) {
        object.fail("format_version",
                    "is " +
                        (version == document.end() ? std::string("missing") : describe_json_value(*version)) +
                        ", but this chorus reads version " + std::to_string(dipole_committee_format_version) +
                        " only; use the chorus release that wrote the file, or retrain the model");
    }
    check_committee_checksum(object, document, writer);
    check_committee_units(object, document, "dipole", dipole_unit, writer);

    DipoleCommitteeParameters parameters;
    parameters.features = committee_feature_settings(object, document, writer);
    if (!parameters.features.lambda_soap) {
        object.fail("features", "has no lambda_soap block; a dipole model needs λ = 1 features");
    }
    const auto features =
        static_cast<Eigen::Index>(features::equivariant_feature_names(parameters.features, 1).size());
    check_feature_count(object, document, features, "λ = 1 features", writer);
    parameters.alpha = object.positive_number("alpha", "calibration factor");
    const auto species = static_cast<Eigen::Index>(parameters.features.species.size());
    const nlohmann::json& members = object.array("members", 2);
    for (std::size_t k = 0; k < members.size(); ++k) {
        const ModelFileObject member(members[k], origin, "members[" + std::to_string(k) + "]", {"weights"});
        parameters.weights.push_back(committee_weight_rows(member, species, features));
    }
    const auto training = document.find("training");
    parameters.training = training != document.end() ? *training : nlohmann::json::object();
    return parameters;
}

std::unique_ptr<engine::Model> dipole_committee_as_energy_model(const nlohmann::json&,
                                                                std::string_view origin) {
    throw ConfigError(
        "model file '" + std::string(origin) + "' is a dipole model (kind \"" +
        std::string(dipole_committee_kind) +
        "\"), not a potential: serve it beside an energy model with `chorus serve --model ENERGY.json "
        "--dipole-model " +
        std::string(origin) + "`, or evaluate it with `chorus eval --model`");
}

std::unique_ptr<DipoleCommittee> load_dipole_committee(const std::filesystem::path& path) {
    const std::string name = path.string();
    DipoleCommitteeParameters parameters =
        dipole_committee_parameters_from_json(read_model_document(path, "dipole model file"), name);
    try {
        return std::make_unique<DipoleCommittee>(std::move(parameters));
    } catch (const ConfigError& config_error) {
        throw ConfigError("model file '" + name + "': " + config_error.what());
    }
}

}  // namespace chorus::models::dipole
