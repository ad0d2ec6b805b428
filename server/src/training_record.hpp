#pragma once
// What `chorus train` reports, the same for every target: the `training` metadata the model file
// records (how to reproduce it, what was chosen and why), its progress lines and the summary line
// of its choices.
#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "chorus/engine/calibration.hpp"
#include "chorus/models/training/ridge.hpp"
#include "chorus/models/training/train_committee.hpp"
#include "chorus/models/training/train_settings.hpp"
#include "train_command.hpp"

namespace chorus::server {

// "<program> <version>: settings (from <config> | defaults; <note>):" and the settings as JSON.
void print_training_settings(std::ostream& out, std::string_view program, std::string_view note,
                             const TrainCommandSettings& command,
                             const models::training::TrainSettings& settings);

// UTC, ISO 8601; SOURCE_DATE_EPOCH wins so that a rerun can reproduce the file byte for byte.
std::string training_date();

// chorus_version, date, command_line, seed, threads, settings, data (the file records), the
// regulariser chosen and the calibration on `calibration_target`; the caller adds "errors" and
// whatever is particular to its target.
nlohmann::json training_record(const TrainCommandSettings& command,
                               const models::training::TrainSettings& settings, int threads,
                               const nlohmann::json& data,
                               const models::training::RegulariserSelection& selection,
                               std::string_view calibration_target,
                               const engine::CalibrationReport& calibration);

// Prints each progress line of a training indented under the settings, flushed at once (a
// training takes minutes; its progress must not wait in a buffer).
models::training::ProgressCallback progress_printer(std::ostream& out);

// "alpha … (alpha^2 …, from N validation <samples>); lambda …", with the warnings for a clamped α
// and a λ at the edge of its grid.
void print_alpha_and_lambda(std::ostream& out, const engine::CalibrationReport& calibration,
                            const models::training::RegulariserSelection& selection,
                            std::string_view samples);

}  // namespace chorus::server
