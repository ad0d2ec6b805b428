#pragma once
// `--baseline MODEL [--baseline-uncertainty S]` of serve and eval: the committee in --model is a
// correction trained with `chorus train --baseline MODEL`; the served model is the baseline plus
// the correction, weighted by the committee's uncertainty when S (eV) is given (science.md §5).
#include <memory>
#include <optional>
#include <string>

#include "chorus/engine/model.hpp"

namespace chorus::server {

struct BaselineOption {
    std::optional<std::string> path;    // --baseline
    std::optional<double> uncertainty;  // --baseline-uncertainty, eV per structure
};

// `model` alone without --baseline; otherwise a WeightedBaselineModel around it. Throws ConfigError
// for --baseline-uncertainty without --baseline, and the model loader's errors for the baseline file.
std::shared_ptr<const engine::Model> with_baseline(std::shared_ptr<const engine::Model> model,
                                                   const BaselineOption& option);

}  // namespace chorus::server
