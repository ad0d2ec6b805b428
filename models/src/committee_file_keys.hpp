#pragma once
// The keys that "linear-committee" and "linear-dipole-committee" files share (same layout, same
// checksum), read with the same checks and messages. `writer` is the command that writes the kind
// ("chorus train"), named in messages about truncated or foreign files.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include "chorus/models/features/feature_settings.hpp"
#include "chorus/models/model_file_object.hpp"

namespace chorus::models {

// The top-level keys a committee file may hold (ModelFileObject refuses any other).
std::vector<std::string_view> committee_file_keys();

// The keys every committee file has besides "members" and "checksum": kind, format_version, units
// ({quantity: unit, "length": "angstrom"}), species, features, feature_count, alpha and training.
nlohmann::json committee_document(std::string_view kind, int format_version, std::string_view quantity,
                                  std::string_view unit, const features::FeatureSettings& features,
                                  std::size_t feature_count, double alpha, const nlohmann::json& training);

// Adds "checksum": the SHA-256 of the rest (linear_committee_checksum). Last, after every other key.
void add_committee_checksum(nlohmann::json& document);

// The value of a required key (ModelFileObject has accepted the key names; this checks presence).
const nlohmann::json& required_key(const ModelFileObject& object, const nlohmann::json& document,
                                   const char* key, std::string_view writer);

// A JSON array of exactly `size` finite numbers.
Eigen::VectorXd finite_numbers(const ModelFileObject& object, const nlohmann::json& value,
                               const std::string& key, Eigen::Index size);

// The "checksum" block: present, sha256, and equal to linear_committee_checksum(document).
void check_committee_checksum(const ModelFileObject& object, const nlohmann::json& document,
                              std::string_view writer);

// "units" must be exactly {quantity: unit, "length": "angstrom"}.
void check_committee_units(const ModelFileObject& object, const nlohmann::json& document,
                           std::string_view quantity, std::string_view unit, std::string_view writer);

// "features" as feature settings, and "species" equal to their species.
features::FeatureSettings committee_feature_settings(const ModelFileObject& object,
                                                     const nlohmann::json& document, std::string_view writer);

// "feature_count" equal to `count`, the size the settings define (`kind` says which features,
// e.g. "λ = 1 features").
void check_feature_count(const ModelFileObject& object, const nlohmann::json& document, Eigen::Index count,
                         std::string_view kind, std::string_view writer);

// A member's "weights": one row of `features` numbers per species.
Eigen::MatrixXd committee_weight_rows(const ModelFileObject& member, Eigen::Index species,
                                      Eigen::Index features);

// The rows of `weights` as JSON arrays, one per species (the "weights" of a member).
nlohmann::json weight_rows_to_json(const Eigen::MatrixXd& weights);

}  // namespace chorus::models
