#pragma once
// The dipole and polarizability trainers refuse "contraction": "pca" (only the energy trainer fits
// it); both tests check that the refusal is a ConfigError that says what to do instead.
#include <string>

#include <catch2/catch.hpp>

#include "chorus/error.hpp"
#include "chorus/models/training/train_settings.hpp"

namespace chorus::test {

// `train(settings)` runs one trainer; `trainer` is how its messages begin ("dipole training").
template <class Train>
void check_contraction_fit_refused(models::training::TrainSettings settings, const std::string& trainer,
                                   const Train& train) {
    using Catch::Matchers::Contains;
    settings.features.primitive_n_max = 8;
    settings.features.contraction_fit = true;
    CHECK_THROWS_AS(train(settings), chorus::ConfigError);
    CHECK_THROWS_WITH(train(settings), Contains(trainer) && Contains("\"pca\"") &&
                                           Contains("only for energy committees") &&
                                           Contains("contraction matrices explicitly") &&
                                           Contains("primitive_n_max (8)") && Contains("drop `contraction`"));
}

}  // namespace chorus::test
