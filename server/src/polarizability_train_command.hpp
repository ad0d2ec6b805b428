#pragma once
// `chorus train --target polarizability`: a calibrated λ = 0 + λ = 2 polarizability committee
// (models/polarizability/polarizability_training.hpp) from the `polarizability` key of labelled
// extxyz files, written as a "linear-polarizability-committee" model file whose metadata record
// the data hashes, the split and the settings.
#include <iosfwd>

#include "train_command.hpp"

namespace chorus::server {

// Progress and the summary table go to `out`. --baseline is refused.
int run_polarizability_train(const TrainCommandSettings& settings, std::ostream& out);

}  // namespace chorus::server
