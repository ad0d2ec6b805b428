// Model files of kind "linear-dipole-committee" (format in dipole_committee.hpp): writing, and
// reading with every check a hand-edited, truncated or foreign file could fail. The checksum is
// the one of "linear-committee" files (same canonical serialisation), so one tool verifies both.
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "chorus/error.hpp"
#include "chorus/models/dipole/dipole_committee.hpp"
#include "chorus/models/linear_committee.hpp"
#include "chorus/models/model_file_object.hpp"

namespace chorus::models::dipole {
namespace {

constexpr std::string_view dipole_unit = "e*angstrom";
constexpr std::string_view length_unit = "angstrom";

const nlohmann::json& required(const ModelFileObject& object, const nlohmann::json& document,
                               const char* key) {
    const auto found = document.find(key);
    if (found == document.end()) {
        object.fail(key,
                    "is missing; the file is truncated or was not written by `chorus train --target dipole`");
    }
    return *found;
}

Eigen::RowVectorXd numbers(const ModelFileObject& object, const nlohmann::json& value, const std::string& key,
                           Eigen::Index size) {
    if (!value.is_array() || static_cast<Eigen::Index>(value.size()) != size) {
        object.fail(key, "must be an array of " + std::to_string(size) + " numbers, got " +
                             describe_json_value(value) +
                             "; the file is truncated or edited — use the file `chorus train` wrote");
    }
    Eigen::RowVectorXd result(size);
    for (Eigen::Index j = 0; j < size; ++j) {
        const nlohmann::json& entry = value[static_cast<std::size_t>(j)];
        if (!entry.is_number() || !std::isfinite(entry.get<double>())) {
            object.fail(key, "entry " + std::to_string(j) + " must be a finite number, got " +
                                 describe_json_value(entry));
        }
        result[j] = entry.get<double>();
    }
    return result;
}

void check_checksum(const ModelFileObject& object, const nlohmann::json& document, std::string_view origin) {
    const nlohmann::json& checksum = required(object, document, "checksum");
    const ModelFileObject checksum_object(checksum, origin, "checksum", {"algorithm", "value"});
    const auto algorithm = checksum.find("algorithm");
    const auto value = checksum.find("value");
    if (algorithm == checksum.end() || *algorithm != "sha256") {
        checksum_object.fail("algorithm", "must be \"sha256\"");
    }
    if (value == checksum.end() || !value->is_string()) {
        checksum_object.fail("value", "must be the hexadecimal SHA-256 of the file's content");
    }
    const std::string computed = linear_committee_checksum(document);
    if (value->get_ref<const std::string&>() != computed) {
        throw ConfigError(
            "model file '" + std::string(origin) + "': checksum mismatch (stored " +
            value->get_ref<const std::string&>() + ", content hashes to " + computed +
            "): the file was corrupted or edited after `chorus train` wrote it; restore or retrain it");
    }
}

}  // namespace

nlohmann::json dipole_committee_to_json(const DipoleCommitteeParameters& parameters) {
    const DipoleCommittee check(parameters);  // a model that cannot be built must not be written
    nlohmann::json document;
    document["kind"] = dipole_committee_kind;
    document["format_version"] = dipole_committee_format_version;
    document["units"] = {{"dipole", dipole_unit}, {"length", length_unit}};
    document["species"] = parameters.features.species;
    document["features"] = features::to_json(parameters.features);
    document["feature_count"] = check.feature_count();
    document["alpha"] = parameters.alpha;
    nlohmann::json members = nlohmann::json::array();
    for (const Eigen::MatrixXd& weights : parameters.weights) {
        nlohmann::json rows = nlohmann::json::array();
        for (Eigen::Index s = 0; s < weights.rows(); ++s) {
            rows.push_back(std::vector<double>(weights.row(s).begin(), weights.row(s).end()));
        }
        members.push_back({{"weights", rows}});
    }
    document["members"] = members;
    document["training"] = parameters.training;
    document["checksum"] = {{"algorithm", "sha256"}, {"value", linear_committee_checksum(document)}};
    return document;
}

void save_dipole_committee(const DipoleCommitteeParameters& parameters, const std::filesystem::path& path) {
    const std::string text = dipole_committee_to_json(parameters).dump(1) + "\n";
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    if (!file || !(file << text) || !file.flush()) {
        throw IoError("cannot write model file '" + path.string() +
                      "'; check that its directory exists and is writable");
    }
}

DipoleCommitteeParameters dipole_committee_parameters_from_json(const nlohmann::json& document,
                                                                std::string_view origin) {
    const ModelFileObject object(document, origin, "",
                                 {"kind", "format_version", "units", "species", "features", "feature_count",
                                  "alpha", "members", "training", "checksum"});
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
    check_checksum(object, document, origin);

    const nlohmann::json& units = required(object, document, "units");
    const auto unit_is = [&units](const char* key, std::string_view expected) {
        const auto found = units.find(key);
        return found != units.end() && found->is_string() && found->get_ref<const std::string&>() == expected;
    };
    if (!units.is_object() || !unit_is("dipole", dipole_unit) || !unit_is("length", length_unit)) {
        object.fail("units", "must be {\"dipole\": \"" + std::string(dipole_unit) + "\", \"length\": \"" +
                                 std::string(length_unit) + "\"}, got " + describe_json_value(units));
    }

    DipoleCommitteeParameters parameters;
    try {
        parameters.features = features::feature_settings_from_json(required(object, document, "features"));
    } catch (const ConfigError& error) {
        object.fail("features", error.what());
    }
    if (required(object, document, "species") != nlohmann::json(parameters.features.species)) {
        object.fail("species", "differs from features.species; the file is inconsistent");
    }
    if (!parameters.features.lambda_soap) {
        object.fail("features", "has no lambda_soap block; a dipole model needs λ = 1 features");
    }
    const auto features =
        static_cast<Eigen::Index>(features::equivariant_feature_names(parameters.features, 1).size());
    const nlohmann::json& feature_count = required(object, document, "feature_count");
    if (feature_count != nlohmann::json(features)) {
        object.fail("feature_count", "says " + describe_json_value(feature_count) +
                                         " but the feature settings define " + std::to_string(features) +
                                         " λ = 1 features");
    }
    parameters.alpha = object.positive_number("alpha", "calibration factor");
    const auto species = static_cast<Eigen::Index>(parameters.features.species.size());
    const nlohmann::json& members = object.array("members", 2);
    for (std::size_t k = 0; k < members.size(); ++k) {
        const ModelFileObject member(members[k], origin, "members[" + std::to_string(k) + "]", {"weights"});
        const nlohmann::json& rows = member.array("weights", 0);
        if (static_cast<Eigen::Index>(rows.size()) != species) {
            member.fail("weights", "must hold one row per species (" + std::to_string(species) + "), got " +
                                       std::to_string(rows.size()));
        }
        Eigen::MatrixXd weights(species, features);
        for (Eigen::Index s = 0; s < species; ++s) {
            weights.row(s) = numbers(member, rows[static_cast<std::size_t>(s)],
                                     "weights[" + std::to_string(s) + "]", features);
        }
        parameters.weights.push_back(std::move(weights));
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
    std::ifstream file(path, std::ios::binary);
    std::error_code error;
    if (std::filesystem::is_directory(path, error) || !file) {
        throw IoError("cannot read dipole model file '" + name +
                      "': " + (file ? std::string("it is a directory") : std::string(std::strerror(errno))) +
                      "; check the path and its permissions");
    }
    std::ostringstream text;
    text << file.rdbuf();
    nlohmann::json document;
    try {
        document = nlohmann::json::parse(text.str());
    } catch (const nlohmann::json::parse_error& parse_error) {
        throw ConfigError("dipole model file '" + name + "' is not valid JSON (at byte " +
                          std::to_string(parse_error.byte) + "): " + parse_error.what());
    } catch (const nlohmann::json::exception& json_error) {
        // Not a parse_error: e.g. out_of_range for a number beyond a double ("1e400").
        throw ConfigError("dipole model file '" + name + "' is not valid JSON: " + json_error.what() +
                          "; write every number within ±1.8e308");
    }
    DipoleCommitteeParameters parameters = dipole_committee_parameters_from_json(document, name);
    try {
        return std::make_unique<DipoleCommittee>(std::move(parameters));
    } catch (const ConfigError& config_error) {
        throw ConfigError("model file '" + name + "': " + config_error.what());
    }
}

}  // namespace chorus::models::dipole
