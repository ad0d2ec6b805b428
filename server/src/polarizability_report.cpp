#include "polarizability_report.hpp"

#include <ostream>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "error_statistics_json.hpp"

namespace chorus::server {

nlohmann::json polarizability_summary_json(const models::polarizability::PolarizabilityErrorSummary& s) {
    return {{"frames", s.frames},
            {"element_rmse", s.element_rmse},
            {"element_reference_std", s.element_reference_std},
            {"isotropic_rmse", s.isotropic_rmse},
            {"isotropic_reference_std", s.isotropic_reference_std},
            {"anisotropic_rmse", s.anisotropic_rmse},
            {"anisotropic_reference_std", s.anisotropic_reference_std},
            {"element_calibration", statistics_with_curve_json(s.element_calibration)},
            {"isotropic_calibration", statistics_with_curve_json(s.isotropic_calibration)},
            {"anisotropic_calibration", statistics_with_curve_json(s.anisotropic_calibration)}};
}

void print_polarizability_table(
    std::ostream& out,
    const std::vector<std::pair<std::string, const models::polarizability::PolarizabilityErrorSummary*>>&
        sets) {
    std::string header = fmt::format("\n{:<34}", "polarizability (e·Å²/V)");
    for (const auto& [name, unused] : sets) {
        header += fmt::format("{:>16}", name);
    }
    fmt::print(out, "{}\n", header);
    const auto row = [&](const std::string& name, auto value_of) {
        std::string line = fmt::format("{:<34}", name);
        for (const auto& [unused, set] : sets) {
            line += value_of(*set);
        }
        fmt::print(out, "{}\n", line);
    };
    const auto number = [](double value) { return fmt::format("{:>16.5g}", value); };
    const auto percent = [](double value) { return fmt::format("{:>16.1f}", 100.0 * value); };
    const auto coverage = [](const engine::UncertaintyStatistics& c) {
        return fmt::format(
            "{:>16}", fmt::format("{:.1f}/{:.1f}", 100.0 * c.within_one_sigma, 100.0 * c.within_two_sigma));
    };
    row("frames", [](const auto& s) { return fmt::format("{:>16}", s.frames); });
    row("element RMSE", [&](const auto& s) { return number(s.element_rmse); });
    row("element reference std", [&](const auto& s) { return number(s.element_reference_std); });
    row("isotropic (tr/3) RMSE", [&](const auto& s) { return number(s.isotropic_rmse); });
    row("isotropic reference std", [&](const auto& s) { return number(s.isotropic_reference_std); });
    row("λ=2 component RMSE", [&](const auto& s) { return number(s.anisotropic_rmse); });
    row("λ=2 component reference std", [&](const auto& s) { return number(s.anisotropic_reference_std); });
    row("elements within ±σ (%)",
        [&](const auto& s) { return percent(s.element_calibration.within_one_sigma); });
    row("elements within ±2σ (%)",
        [&](const auto& s) { return percent(s.element_calibration.within_two_sigma); });
    row("elements NLL (nats)", [](const auto& s) {
        return fmt::format("{:>16.3f}", s.element_calibration.mean_negative_log_likelihood);
    });
    row("isotropic within ±σ / ±2σ (%)", [&](const auto& s) { return coverage(s.isotropic_calibration); });
    row("λ=2 within ±σ / ±2σ (%)", [&](const auto& s) { return coverage(s.anisotropic_calibration); });
}

}  // namespace chorus::server
