#include "error_statistics_json.hpp"

namespace chorus::server {

nlohmann::json statistics_json(const engine::UncertaintyStatistics& s) {
    return {{"count", s.count},
            {"rmse", s.rmse},
            {"rms_sigma", s.rms_sigma},
            {"mean_negative_log_likelihood", s.mean_negative_log_likelihood},
            {"within_one_sigma", s.within_one_sigma},
            {"within_two_sigma", s.within_two_sigma}};
}

nlohmann::json statistics_with_curve_json(const engine::UncertaintyStatistics& s) {
    nlohmann::json curve = nlohmann::json::array();
    for (const auto& bin : s.curve) {
        curve.push_back({{"count", bin.count}, {"rms_sigma", bin.rms_sigma}, {"rms_error", bin.rms_error}});
    }
    nlohmann::json json = statistics_json(s);
    json["curve"] = std::move(curve);
    return json;
}

}  // namespace chorus::server
