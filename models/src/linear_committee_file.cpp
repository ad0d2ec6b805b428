// Model files of kind "linear-committee" (format in linear_committee.hpp): writing, and reading
// with every check a hand-edited, truncated or foreign file could fail.
#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "chorus/error.hpp"
#include "chorus/models/linear_committee.hpp"
#include "chorus/models/model_file_object.hpp"
#include "chorus/models/sha256.hpp"

namespace chorus::models {
namespace {

constexpr std::string_view energy_unit = "eV";
constexpr std::string_view length_unit = "angstrom";

nlohmann::json row_to_json(const Eigen::MatrixXd& matrix, Eigen::Index row) {
    nlohmann::json values = nlohmann::json::array();
    for (Eigen::Index j = 0; j < matrix.cols(); ++j) {
        values.push_back(matrix(row, j));
    }
    return values;
}

// A JSON array of exactly `size` finite numbers.
Eigen::VectorXd numbers(const ModelFileObject& object, const nlohmann::json& value, const std::string& key,
                        Eigen::Index size) {
    if (!value.is_array() || static_cast<Eigen::Index>(value.size()) != size) {
        object.fail(key, "must be an array of " + std::to_string(size) + " numbers, got " +
                             describe_json_value(value) +
                             "; the file is truncated or edited — use the file `chorus train` wrote");
    }
    Eigen::VectorXd result(size);
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

// The value of a required key (ModelFileObject has accepted the key names; this checks presence).
const nlohmann::json& required(const ModelFileObject& object, const nlohmann::json& document,
                               const char* key) {
    const auto found = document.find(key);
    if (found == document.end()) {
        object.fail(key, "is missing; the file is truncated or was not written by `chorus train`");
    }
    return *found;
}

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
    nlohmann::json document;
    document["kind"] = "linear-committee";
    document["format_version"] = linear_committee_format_version;
    document["units"] = {{"energy", energy_unit}, {"length", length_unit}};
    document["species"] = parameters.features.species;
    document["features"] = features::to_json(parameters.features);
    document["feature_count"] = check.calculator().size();
    document["alpha"] = parameters.alpha;
    nlohmann::json members = nlohmann::json::array();
    for (std::size_t k = 0; k < parameters.weights.size(); ++k) {
        nlohmann::json weights = nlohmann::json::array();
        for (Eigen::Index s = 0; s < parameters.weights[k].rows(); ++s) {
            weights.push_back(row_to_json(parameters.weights[k], s));
        }
        nlohmann::json baselines = nlohmann::json::array();
        for (Eigen::Index s = 0; s < parameters.baselines.rows(); ++s) {
            baselines.push_back(parameters.baselines(s, static_cast<Eigen::Index>(k)));
        }
        members.push_back({{"baselines", baselines}, {"weights", weights}});
    }
    document["members"] = members;
    document["training"] = parameters.training;
    document["checksum"] = {{"algorithm", "sha256"}, {"value", linear_committee_checksum(document)}};
    return document;
}

void save_linear_committee(const LinearCommitteeParameters& parameters, const std::filesystem::path& path) {
    const std::string text = linear_committee_to_json(parameters).dump(1) + "\n";
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    if (!file || !(file << text) || !file.flush()) {
        throw IoError("cannot write model file '" + path.string() +
                      "'; check that its directory exists and is writable");
    }
}

LinearCommitteeParameters linear_committee_parameters_from_json(const nlohmann::json& document,
                                                                std::string_view origin) {
    const ModelFileObject object(document, origin, "",
                                 {"kind", "format_version", "units", "species", "features", "feature_count",
                                  "alpha", "members", "training", "checksum"});
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

    const auto checksum = document.find("checksum");
    if (checksum == document.end()) {
        object.fail("checksum", "is missing; the file is truncated or was not written by `chorus train`");
    }
    const ModelFileObject checksum_object(*checksum, origin, "checksum", {"algorithm", "value"});
    const auto algorithm = checksum->find("algorithm");
    const auto value = checksum->find("value");
    if (algorithm == checksum->end() || *algorithm != "sha256") {
        checksum_object.fail("algorithm", "must be \"sha256\"");
    }
    if (value == checksum->end() || !value->is_string()) {
        checksum_object.fail("value", "must be the hexadecimal SHA-256 of the file's content");
    }
    const std::string computed = linear_committee_checksum(document);
    if (value->get_ref<const std::string&>() != computed) {
        throw ConfigError(
            "model file '" + std::string(origin) + "': checksum mismatch (stored " +
            value->get_ref<const std::string&>() + ", content hashes to " + computed +
            "): the file was corrupted or edited after `chorus train` wrote it; restore or retrain it");
    }

    const nlohmann::json& units = required(object, document, "units");
    const auto unit_is = [&units](const char* key, std::string_view expected) {
        const auto found = units.find(key);
        return found != units.end() && found->is_string() && found->get_ref<const std::string&>() == expected;
    };
    if (!units.is_object() || !unit_is("energy", energy_unit) || !unit_is("length", length_unit)) {
        object.fail("units", "must be {\"energy\": \"" + std::string(energy_unit) + "\", \"length\": \"" +
                                 std::string(length_unit) + "\"}, got " + describe_json_value(units));
    }

    LinearCommitteeParameters parameters;
    try {
        parameters.features = features::feature_settings_from_json(required(object, document, "features"));
    } catch (const ConfigError& error) {
        object.fail("features", error.what());
    }
    if (required(object, document, "species") != nlohmann::json(parameters.features.species)) {
        object.fail("species", "differs from features.species; the file is inconsistent");
    }
    const auto features = static_cast<Eigen::Index>(features::feature_names(parameters.features).size());
    const nlohmann::json& feature_count = required(object, document, "feature_count");
    if (feature_count != nlohmann::json(features)) {
        object.fail("feature_count", "says " + describe_json_value(feature_count) +
                                         " but the feature settings define " + std::to_string(features) +
                                         " features");
    }
    parameters.alpha = object.positive_number("alpha", "calibration factor");
    const auto species = static_cast<Eigen::Index>(parameters.features.species.size());
    const nlohmann::json& members = object.array("members", 1);
    parameters.baselines.resize(species, static_cast<Eigen::Index>(members.size()));
    for (std::size_t k = 0; k < members.size(); ++k) {
        const ModelFileObject member(members[k], origin, "members[" + std::to_string(k) + "]",
                                     {"baselines", "weights"});
        parameters.baselines.col(static_cast<Eigen::Index>(k)) =
            numbers(member, members[k].contains("baselines") ? members[k]["baselines"] : nlohmann::json(),
                    "baselines", species);
        const nlohmann::json& rows = member.array("weights", 0);
        if (static_cast<Eigen::Index>(rows.size()) != species) {
            member.fail("weights", "must hold one row per species (" + std::to_string(species) + "), got " +
                                       std::to_string(rows.size()));
        }
        Eigen::MatrixXd weights(species, features);
        for (Eigen::Index s = 0; s < species; ++s) {
            weights.row(s) = numbers(member, rows[static_cast<std::size_t>(s)],
                                     "weights[" + std::to_string(s) + "]", features)
                                 .transpose();
        }
        parameters.weights.push_back(std::move(weights));
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
