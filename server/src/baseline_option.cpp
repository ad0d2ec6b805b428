#include "baseline_option.hpp"

#include <limits>

#include "chorus/error.hpp"
#include "chorus/models/model_file.hpp"
#include "chorus/models/weighted_baseline.hpp"

namespace chorus::server {

std::shared_ptr<const engine::Model> with_baseline(std::shared_ptr<const engine::Model> model,
                                                   const BaselineOption& option) {
    if (!option.path) {
        if (option.uncertainty) {
            throw ConfigError(
                "--baseline-uncertainty needs --baseline MODEL: the uncertainty belongs to a baseline model");
        }
        return model;
    }
    std::shared_ptr<const engine::Model> baseline = models::load_model(*option.path);
    // Without an uncertainty the correction is added in full: the plain sum it was trained as.
    const double uncertainty = option.uncertainty.value_or(std::numeric_limits<double>::infinity());
    return std::make_shared<models::WeightedBaselineModel>(std::move(baseline), std::move(model),
                                                           uncertainty);
}

}  // namespace chorus::server
