#include "training_record.hpp"

#include <cstdlib>
#include <ctime>
#include <ostream>

#include <fmt/format.h>
#include <fmt/ostream.h>

#ifndef CHORUS_VERSION
#define CHORUS_VERSION "unknown"
#endif

namespace chorus::server {

void print_training_settings(std::ostream& out, std::string_view program, std::string_view note,
                             const TrainCommandSettings& command,
                             const models::training::TrainSettings& settings) {
    fmt::print(out, "{} {}: settings ({}; {}):\n{}\n", program, CHORUS_VERSION,
               command.config_path ? "from " + *command.config_path : "defaults", note,
               to_json(settings).dump(2));
}

std::string training_date() {
    std::time_t now = std::time(nullptr);
    if (const char* fixed = std::getenv("SOURCE_DATE_EPOCH")) {
        now = static_cast<std::time_t>(std::strtoll(fixed, nullptr, 10));
    }
    std::tm utc{};
    gmtime_r(&now, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

nlohmann::json training_record(const TrainCommandSettings& command,
                               const models::training::TrainSettings& settings, int threads,
                               const nlohmann::json& data,
                               const models::training::RegulariserSelection& selection,
                               std::string_view calibration_target,
                               const engine::CalibrationReport& calibration) {
    return {
        {"chorus_version", CHORUS_VERSION},
        {"date", training_date()},
        {"command_line", command.command_line},
        {"seed", settings.seed},
        {"threads", threads},
        {"settings", to_json(settings)},
        {"data", data},
        {"regulariser", {{"lambda", selection.lambda}, {"validation_loss", selection.validation_loss}}},
        {"calibration",
         {{"target", calibration_target},
          {"alpha", calibration.alpha},
          {"alpha_squared", calibration.alpha_squared},
          {"clamped", calibration.clamped}}},
    };
}

models::training::ProgressCallback progress_printer(std::ostream& out) {
    return [&out](std::string_view line) {
        fmt::print(out, "  {}\n", line);
        out.flush();
    };
}

void print_alpha_and_lambda(std::ostream& out, const engine::CalibrationReport& calibration,
                            const models::training::RegulariserSelection& selection,
                            std::string_view samples) {
    fmt::print(out, "alpha {:.4g}{} (alpha^2 {:.4g}, from {} validation {}); lambda {:.3g}{}\n",
               calibration.alpha, calibration.clamped ? " CLAMPED" : "", calibration.alpha_squared,
               calibration.before.count, samples, selection.lambda,
               selection.at_grid_edge ? " (at the edge of the grid: widen it)" : "");
}

}  // namespace chorus::server
