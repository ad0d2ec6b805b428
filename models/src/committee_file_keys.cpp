#include "committee_file_keys.hpp"

#include <cmath>

#include "chorus/error.hpp"
#include "chorus/models/linear_committee.hpp"

namespace chorus::models {
namespace {

constexpr std::string_view length_unit = "angstrom";

}  // namespace

std::vector<std::string_view> committee_file_keys() {
    return {"kind",          "format_version", "units",   "species",  "features",
            "feature_count", "alpha",          "members", "training", "checksum"};
}

nlohmann::json committee_document(std::string_view kind, int format_version, std::string_view quantity,
                                  std::string_view unit, const features::FeatureSettings& features,
                                  std::size_t feature_count, double alpha, const nlohmann::json& training) {
    nlohmann::json document;
    document["kind"] = kind;
    document["format_version"] = format_version;
    document["units"] = {{quantity, unit}, {"length", length_unit}};
    document["species"] = features.species;
    document["features"] = features::to_json(features);
    document["feature_count"] = feature_count;
    document["alpha"] = alpha;
    document["training"] = training;
    return document;
}

void add_committee_checksum(nlohmann::json& document) {
    document["checksum"] = {{"algorithm", "sha256"}, {"value", linear_committee_checksum(document)}};
}

const nlohmann::json& required_key(const ModelFileObject& object, const nlohmann::json& document,
                                   const char* key, std::string_view writer) {
    const auto found = document.find(key);
    if (found == document.end()) {
        object.fail(key,
                    "is missing; the file is truncated or was not written by `" + std::string(writer) + "`");
    }
    return *found;
}

Eigen::VectorXd finite_numbers(const ModelFileObject& object, const nlohmann::json& value,
                               const std::string& key, Eigen::Index size) {
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

void check_committee_checksum(const ModelFileObject& object, const nlohmann::json& document,
                              std::string_view writer) {
    const nlohmann::json& checksum = required_key(object, document, "checksum", writer);
    const ModelFileObject checksum_object(checksum, object.origin(), "checksum", {"algorithm", "value"});
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
        throw ConfigError("model file '" + object.origin() + "': checksum mismatch (stored " +
                          value->get_ref<const std::string&>() + ", content hashes to " + computed +
                          "): the file was corrupted or edited after `" + std::string(writer) +
                          "` wrote it; restore or retrain it");
    }
}

void check_committee_units(const ModelFileObject& object, const nlohmann::json& document,
                           std::string_view quantity, std::string_view unit, std::string_view writer) {
    const nlohmann::json& units = required_key(object, document, "units", writer);
    const auto unit_is = [&units](std::string_view key, std::string_view expected) {
        const auto found = units.find(key);
        return found != units.end() && found->is_string() && found->get_ref<const std::string&>() == expected;
    };
    if (!units.is_object() || !unit_is(quantity, unit) || !unit_is("length", length_unit)) {
        object.fail("units", "must be {\"" + std::string(quantity) + "\": \"" + std::string(unit) +
                                 "\", \"length\": \"" + std::string(length_unit) + "\"}, got " +
                                 describe_json_value(units));
    }
}

features::FeatureSettings committee_feature_settings(const ModelFileObject& object,
                                                     const nlohmann::json& document,
                                                     std::string_view writer) {
    features::FeatureSettings settings;
    try {
        settings = features::feature_settings_from_json(required_key(object, document, "features", writer));
    } catch (const ConfigError& error) {
        object.fail("features", error.what());
    }
    if (required_key(object, document, "species", writer) != nlohmann::json(settings.species)) {
        object.fail("species", "differs from features.species; the file is inconsistent");
    }
    return settings;
}

void check_feature_count(const ModelFileObject& object, const nlohmann::json& document, Eigen::Index count,
                         std::string_view kind, std::string_view writer) {
    const nlohmann::json& feature_count = required_key(object, document, "feature_count", writer);
    if (feature_count != nlohmann::json(count)) {
        object.fail("feature_count", "says " + describe_json_value(feature_count) +
                                         " but the feature settings define " + std::to_string(count) + " " +
                                         std::string(kind));
    }
}

Eigen::MatrixXd committee_weight_rows(const ModelFileObject& member, Eigen::Index species,
                                      Eigen::Index features) {
    const nlohmann::json& rows = member.array("weights", 0);
    if (static_cast<Eigen::Index>(rows.size()) != species) {
        member.fail("weights", "must hold one row per species (" + std::to_string(species) + "), got " +
                                   std::to_string(rows.size()));
    }
    Eigen::MatrixXd weights(species, features);
    for (Eigen::Index s = 0; s < species; ++s) {
        weights.row(s) = finite_numbers(member, rows[static_cast<std::size_t>(s)],
                                        "weights[" + std::to_string(s) + "]", features)
                             .transpose();
    }
    return weights;
}

nlohmann::json weight_rows_to_json(const Eigen::MatrixXd& weights) {
    nlohmann::json rows = nlohmann::json::array();
    for (Eigen::Index s = 0; s < weights.rows(); ++s) {
        nlohmann::json values = nlohmann::json::array();
        for (Eigen::Index j = 0; j < weights.cols(); ++j) {
            values.push_back(weights(s, j));
        }
        rows.push_back(std::move(values));
    }
    return rows;
}

}  // namespace chorus::models
