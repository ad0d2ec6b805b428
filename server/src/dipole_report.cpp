#include "dipole_report.hpp"

#include <ostream>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "error_statistics_json.hpp"

namespace chorus::server {

nlohmann::json dipole_summary_json(const models::dipole::DipoleErrorSummary& s) {
    return {{"frames", s.frames},
            {"component_rmse_e_angstrom", s.component_rmse},
            {"rmse_xyz_e_angstrom", s.rmse_xyz},
            {"component_reference_std_e_angstrom", s.component_reference_std},
            {"norm_rmse_e_angstrom", s.norm_rmse},
            {"norm_reference_std_e_angstrom", s.norm_reference_std},
            {"component_calibration", statistics_with_curve_json(s.component_calibration)},
            {"calibration_x", statistics_with_curve_json(s.calibration_xyz[0])},
            {"calibration_y", statistics_with_curve_json(s.calibration_xyz[1])},
            {"calibration_z", statistics_with_curve_json(s.calibration_xyz[2])},
            {"norm_calibration", statistics_with_curve_json(s.norm_calibration)}};
}

void print_dipole_table(
    std::ostream& out,
    const std::vector<std::pair<std::string, const models::dipole::DipoleErrorSummary*>>& sets) {
    std::string header = fmt::format("\n{:<30}", "dipole (e·Å)");
    for (const auto& [name, unused] : sets) {
        header += fmt::format("{:>20}", name);
    }
    fmt::print(out, "{}\n", header);
    const auto row = [&](const std::string& name, auto value_of) {
        std::string line = fmt::format("{:<30}", name);
        for (const auto& [unused, set] : sets) {
            line += value_of(*set);
        }
        fmt::print(out, "{}\n", line);
    };
    const auto number = [](double value) { return fmt::format("{:>20.4f}", value); };
    const auto percent = [](double value) { return fmt::format("{:>20.1f}", 100.0 * value); };
    row("frames", [](const auto& s) { return fmt::format("{:>20}", s.frames); });
    row("component RMSE", [&](const auto& s) { return number(s.component_rmse); });
    row("component RMSE x / y / z", [](const auto& s) {
        return fmt::format("{:>20}",
                           fmt::format("{:.3f}/{:.3f}/{:.3f}", s.rmse_xyz[0], s.rmse_xyz[1], s.rmse_xyz[2]));
    });
    row("component reference std", [&](const auto& s) { return number(s.component_reference_std); });
    row("RMSE (% of component std)", [](const auto& s) {
        return s.component_reference_std > 0
                   ? fmt::format("{:>20.2f}", 100.0 * s.component_rmse / s.component_reference_std)
                   : fmt::format("{:>20}", "-");
    });
    row("|μ| RMSE", [&](const auto& s) { return number(s.norm_rmse); });
    row("|μ| reference std", [&](const auto& s) { return number(s.norm_reference_std); });
    row("components within ±σ (%)",
        [&](const auto& s) { return percent(s.component_calibration.within_one_sigma); });
    row("components within ±2σ (%)",
        [&](const auto& s) { return percent(s.component_calibration.within_two_sigma); });
    row("components NLL (nats)", [](const auto& s) {
        return fmt::format("{:>20.3f}", s.component_calibration.mean_negative_log_likelihood);
    });
    for (int d = 0; d < 3; ++d) {
        const char axis = "xyz"[d];
        row(fmt::format("{} within ±σ / ±2σ (%)", axis), [d](const auto& s) {
            const auto& c = s.calibration_xyz[static_cast<std::size_t>(d)];
            return fmt::format("{:>20}", fmt::format("{:.1f}/{:.1f}", 100.0 * c.within_one_sigma,
                                                     100.0 * c.within_two_sigma));
        });
    }
    row("|μ| within ±σ (%)", [&](const auto& s) { return percent(s.norm_calibration.within_one_sigma); });
    row("|μ| within ±2σ (%)", [&](const auto& s) { return percent(s.norm_calibration.within_two_sigma); });
    row("|μ| NLL (nats)", [](const auto& s) {
        return fmt::format("{:>20.3f}", s.norm_calibration.mean_negative_log_likelihood);
    });
}

}  // namespace chorus::server
