#pragma once
// `chorus train --target dipole`: a calibrated dipole committee (models/dipole/dipole_training.hpp)
// from the `dipole` key (e·Å) of labelled extxyz files, written as a "linear-dipole-committee"
// model file whose metadata record the data hashes, the split and the settings.
#include <iosfwd>

#include "train_command.hpp"

namespace chorus::server {

// Progress and the summary table (per component and for |μ|) go to `out`. --baseline is refused.
int run_dipole_train(const TrainCommandSettings& settings, std::ostream& out);

}  // namespace chorus::server
