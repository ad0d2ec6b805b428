#pragma once
// The requests of the control API of `chorus serve --control` (README "Control API"): one JSON
// object per line, {"request": NAME, ...}. Parsing is a pure function of the line, so that the
// control server, the tests and a fuzzer all go through the same code.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace chorus::server {

// Longest request line the server reads; a longer one gets an error and the connection is closed.
inline constexpr std::size_t max_control_request_bytes = 64 * 1024;
// Most evaluations an `uncertainty` request can ask for (the store keeps this many).
inline constexpr std::size_t max_uncertainty_entries = 1024;

struct StatusRequest {};

struct UncertaintyRequest {
    std::size_t last = 10;  // the last N evaluations, 1 … max_uncertainty_entries
};

struct ReweightRequest {
    std::optional<double> temperature_kelvin;  // default: `serve --temperature`
    std::optional<int> beads;                  // steps of P records, as `chorus reweight --beads`
};

// Which per-structure uncertainty a capture threshold applies to (all in eV or eV/Å).
enum class CaptureQuantity { sigma_energy, sigma_energy_per_atom, max_atomic_sigma, max_force_sigma };

struct CaptureRequest {
    bool enable = true;  // false: stop capturing (threshold and rate ignored)
    double threshold = 0.0;
    CaptureQuantity quantity = CaptureQuantity::sigma_energy_per_atom;
    int per_minute = 10;  // at most this many structures written in any 60 s
};

struct MetricsRequest {};

// Re-reads the --model file given at start (no path in the request), validates it and swaps it in.
struct ReloadRequest {};

using ControlRequestBody = std::variant<StatusRequest, UncertaintyRequest, ReweightRequest, CaptureRequest,
                                        MetricsRequest, ReloadRequest>;

struct ControlRequest {
    ControlRequestBody body;
    std::optional<std::string> token;  // "token": required when the server has --control-token
    std::optional<std::string> id;     // "id": echoed in the response (its JSON text), for pipelining clients
};

// Parses one request line (without its '\n'; a trailing '\r' is ignored). Throws InputError
// naming the problem: not JSON, not an object, unknown request, unknown or mistyped field, value
// out of range, line longer than max_control_request_bytes. Never throws anything else.
ControlRequest parse_control_request(std::string_view line);

// "status", "uncertainty", …
std::string_view request_name(const ControlRequestBody& body);
std::string_view quantity_name(CaptureQuantity quantity);

}  // namespace chorus::server
