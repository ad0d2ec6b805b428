#include "reweight_ipi_input.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <pugixml.hpp>

#include "chorus/engine/units.hpp"
#include "chorus/error.hpp"

namespace chorus::server {
namespace {

// i-PI's UnitPrefix table (ipi/utils/units.py).
constexpr std::array<std::pair<std::string_view, double>, 16> prefixes{{
    {"yotta", 1e24},
    {"zetta", 1e21},
    {"exa", 1e18},
    {"peta", 1e15},
    {"tera", 1e12},
    {"giga", 1e9},
    {"mega", 1e6},
    {"kilo", 1e3},
    {"milli", 1e-3},
    {"micro", 1e-6},
    {"nano", 1e-9},
    {"pico", 1e-12},
    {"femto", 1e-15},
    {"atto", 1e-18},
    {"zepto", 1e-21},
    {"yocto", 1e-24},
}};

std::string_view trimmed(std::string_view text) {
    const std::size_t first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) {
        return {};
    }
    return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

// eV per unit of temperature in `unit` (i-PI's "temperature" family: kelvin, atomic_unit).
double ev_per_temperature_unit(std::string_view unit, const std::string& path) {
    unit = trimmed(unit);
    double scale = 1.0;
    std::string base(unit);
    for (const auto& [prefix, factor] : prefixes) {
        if (unit.substr(0, prefix.size()) == prefix && unit.size() > prefix.size()) {
            scale = factor;
            base = std::string(unit.substr(prefix.size()));
            break;
        }
    }
    for (char& c : base) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (base == "kelvin") {
        return scale * units::kelvin_to_ev(1.0);
    }
    if (base.empty() || base == "automatic" || base == "atomic_unit") {
        return scale * units::hartree_in_ev;
    }
    throw InputError(
        fmt::format("{}: temperature units '{}' are not ones i-PI knows for a temperature; use "
                    "kelvin or atomic_unit (with an optional prefix such as milli)",
                    path, unit));
}

}  // namespace

double ipi_input_thermal_energy_ev(const std::string& path) {
    pugi::xml_document document;
    const pugi::xml_parse_result parsed = document.load_file(path.c_str());
    if (parsed.status == pugi::status_file_not_found || parsed.status == pugi::status_io_error) {
        throw IoError(
            fmt::format("cannot read the i-PI input '{}': {}; check the path", path, parsed.description()));
    }
    if (!parsed) {
        throw InputError(fmt::format("'{}' is not well-formed XML at byte {}: {}", path, parsed.offset,
                                     parsed.description()));
    }
    const pugi::xml_node temperature =
        document.child("simulation").child("system").child("ensemble").child("temperature");
    if (!temperature) {
        throw InputError(
            fmt::format("'{}' has no <simulation><system><ensemble><temperature>; give the "
                        "temperature with --temperature (K) or --kt (Hartree) instead",
                        path));
    }
    const std::string_view text = trimmed(temperature.child_value());
    double value = 0.0;
    const auto [stop, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || stop != text.data() + text.size() || !std::isfinite(value) ||
        !(value > 0.0)) {
        throw InputError(
            fmt::format("{}: the ensemble temperature '{}' is not a positive number", path, text));
    }
    return value * ev_per_temperature_unit(temperature.attribute("units").as_string(), path);
}

}  // namespace chorus::server
