#include "control_request.hpp"

#include <array>
#include <cmath>
#include <exception>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "chorus/error.hpp"

namespace chorus::server {
namespace {

using Json = nlohmann::json;

constexpr std::array<std::pair<std::string_view, CaptureQuantity>, 4> quantity_names = {{
    {"sigma_energy", CaptureQuantity::sigma_energy},
    {"sigma_energy_per_atom", CaptureQuantity::sigma_energy_per_atom},
    {"max_atomic_sigma", CaptureQuantity::max_atomic_sigma},
    {"max_force_sigma", CaptureQuantity::max_force_sigma},
}};

constexpr std::string_view request_names = "status, uncertainty, reweight, capture, metrics, reload";

// Fields every request may carry besides its own.
const std::set<std::string> common_fields = {"request", "token", "id"};

void reject_unknown_fields(const Json& object, std::string_view request, const std::set<std::string>& own) {
    for (const auto& [key, value] : object.items()) {
        if (common_fields.count(key) == 0 && own.count(key) == 0) {
            std::string accepted = "request, token, id";
            for (const auto& name : own) {
                accepted += ", " + name;
            }
            throw InputError(
                fmt::format("unknown field '{}' in a '{}' request; accepted: {}", key, request, accepted));
        }
    }
}

double number_field(const Json& object, const char* key, std::string_view request) {
    const Json& value = object.at(key);
    if (!value.is_number()) {
        throw InputError(fmt::format("'{}' of a '{}' request must be a number, got {}", key, request,
                                     value.dump().substr(0, 80)));
    }
    const double number = value.get<double>();
    if (!std::isfinite(number)) {
        throw InputError(fmt::format("'{}' of a '{}' request must be finite", key, request));
    }
    return number;
}

// A whole number in [low, high].
long long integer_field(const Json& object, const char* key, std::string_view request, long long low,
                        long long high) {
    const double number = number_field(object, key, request);
    if (number != std::floor(number) || number < static_cast<double>(low) ||
        number > static_cast<double>(high)) {
        throw InputError(fmt::format("'{}' of a '{}' request must be a whole number from {} to {}, got {}",
                                     key, request, low, high, object.at(key).dump()));
    }
    return static_cast<long long>(number);
}

UncertaintyRequest parse_uncertainty(const Json& object) {
    reject_unknown_fields(object, "uncertainty", {"last"});
    UncertaintyRequest request;
    if (object.contains("last")) {
        request.last = static_cast<std::size_t>(
            integer_field(object, "last", "uncertainty", 1, static_cast<long long>(max_uncertainty_entries)));
    }
    return request;
}

ReweightRequest parse_reweight(const Json& object) {
    reject_unknown_fields(object, "reweight", {"temperature", "beads"});
    ReweightRequest request;
    if (object.contains("temperature")) {
        const double kelvin = number_field(object, "temperature", "reweight");
        if (!(kelvin > 0.0)) {
            throw InputError(
                fmt::format("'temperature' of a 'reweight' request must be positive (K), got {}", kelvin));
        }
        request.temperature_kelvin = kelvin;
    }
    if (object.contains("beads")) {
        request.beads = static_cast<int>(integer_field(object, "beads", "reweight", 1, 1'000'000));
    }
    return request;
}

CaptureRequest parse_capture(const Json& object) {
    reject_unknown_fields(object, "capture", {"threshold", "per_minute", "quantity", "enable"});
    CaptureRequest request;
    if (object.contains("enable")) {
        if (!object.at("enable").is_boolean()) {
            throw InputError("'enable' of a 'capture' request must be true or false");
        }
        request.enable = object.at("enable").get<bool>();
    }
    if (!request.enable) {
        return request;
    }
    if (!object.contains("threshold")) {
        throw InputError(
            "a 'capture' request needs 'threshold' (eV, or eV/Å for max_force_sigma), or \"enable\": false");
    }
    request.threshold = number_field(object, "threshold", "capture");
    if (request.threshold < 0.0) {
        throw InputError(
            fmt::format("'threshold' of a 'capture' request must be >= 0, got {}", request.threshold));
    }
    if (object.contains("per_minute")) {
        request.per_minute = static_cast<int>(integer_field(object, "per_minute", "capture", 1, 60'000));
    }
    if (object.contains("quantity")) {
        const Json& value = object.at("quantity");
        const std::string name = value.is_string() ? value.get<std::string>() : value.dump().substr(0, 80);
        bool found = false;
        for (const auto& [known, quantity] : quantity_names) {
            if (value.is_string() && name == known) {
                request.quantity = quantity;
                found = true;
            }
        }
        if (!found) {
            throw InputError(
                fmt::format("unknown capture quantity '{}'; accepted: sigma_energy, sigma_energy_per_atom, "
                            "max_atomic_sigma, max_force_sigma",
                            name));
        }
    }
    return request;
}

ControlRequest parse_object(const Json& object) {
    if (!object.is_object()) {
        throw InputError(
            fmt::format("a request must be a JSON object like {{\"request\": \"status\"}}, got a JSON {}",
                        object.type_name()));
    }
    if (!object.contains("request") || !object.at("request").is_string()) {
        throw InputError(
            fmt::format("a request needs \"request\": NAME (a string), one of {}", request_names));
    }
    ControlRequest request;
    if (object.contains("token")) {
        if (!object.at("token").is_string()) {
            throw InputError("'token' must be a string");
        }
        request.token = object.at("token").get<std::string>();
    }
    if (object.contains("id")) {
        const Json& id = object.at("id");
        if (!(id.is_string() || id.is_number_integer() || id.is_number_unsigned())) {
            throw InputError("'id' must be a string or an integer");
        }
        request.id = id.dump();
        if (request.id->size() > 256) {
            throw InputError("'id' is longer than 256 characters");
        }
    }
    const std::string name = object.at("request").get<std::string>();
    if (name == "status") {
        reject_unknown_fields(object, name, {});
        request.body = StatusRequest{};
    } else if (name == "uncertainty") {
        request.body = parse_uncertainty(object);
    } else if (name == "reweight") {
        request.body = parse_reweight(object);
    } else if (name == "capture") {
        request.body = parse_capture(object);
    } else if (name == "metrics") {
        reject_unknown_fields(object, name, {});
        request.body = MetricsRequest{};
    } else if (name == "reload") {
        reject_unknown_fields(object, name, {});
        request.body = ReloadRequest{};
    } else {
        throw InputError(
            fmt::format("unknown request '{}'; accepted: {}", name.substr(0, 80), request_names));
    }
    return request;
}

}  // namespace

ControlRequest parse_control_request(std::string_view line) {
    if (line.size() > max_control_request_bytes) {
        throw InputError(fmt::format("request line of {} bytes is longer than the limit of {} bytes",
                                     line.size(), max_control_request_bytes));
    }
    if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
    }
    // nlohmann's parser recurses once per nesting level: 32k '[' in a 64 KiB line would be a deep
    // stack for nothing. No request nests, so a shallow limit checked first costs no one anything.
    int depth = 0;
    bool in_string = false;
    bool escaped = false;
    for (const char c : line) {
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > 8) {
                throw InputError("request nested deeper than 8 levels; requests are flat JSON objects");
            }
        } else if (c == '}' || c == ']') {
            --depth;
        }
    }
    Json object;
    try {
        object = Json::parse(line.begin(), line.end());
    } catch (const Json::exception& error) {
        throw InputError(
            fmt::format("the request is not valid JSON ({}); send one JSON object per line, "
                        "e.g. {{\"request\": \"status\"}}",
                        error.what()));
    }
    try {
        return parse_object(object);
    } catch (const Json::exception& error) {
        throw InputError(fmt::format("malformed request: {}", error.what()));
    }
}

std::string_view request_name(const ControlRequestBody& body) {
    constexpr std::array<std::string_view, 6> names = {"status",  "uncertainty", "reweight",
                                                       "capture", "metrics",     "reload"};
    return names[body.index()];
}

std::string_view quantity_name(CaptureQuantity quantity) {
    for (const auto& [name, value] : quantity_names) {
        if (value == quantity) {
            return name;
        }
    }
    return "sigma_energy_per_atom";
}

}  // namespace chorus::server
