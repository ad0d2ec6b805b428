#include "control_handler.hpp"

#include <chrono>
#include <cmath>
#include <exception>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "chorus/engine/units.hpp"
#include "chorus/error.hpp"
#include "control_request.hpp"
#include "live_reweight.hpp"

namespace chorus::server {
namespace {

using Json = nlohmann::json;

// Responses stay small: no list in them grows with the run.
constexpr std::size_t max_connections_listed = 256;

double milliseconds(double seconds) { return seconds * 1e3; }

Json latency_json(const LatencyPercentiles& percentiles) {
    return {{"samples", percentiles.samples},
            {"p50", milliseconds(percentiles.p50)},
            {"p90", milliseconds(percentiles.p90)},
            {"p99", milliseconds(percentiles.p99)}};
}

Json capture_json(const CaptureStatus& status) {
    return {{"enabled", status.enabled},
            {"threshold", status.threshold},
            {"quantity", quantity_name(status.quantity)},
            {"per_minute", status.per_minute},
            {"written", status.written},
            {"over_threshold", status.over_threshold},
            {"rate_limited", status.rate_limited},
            {"dropped", status.dropped},
            {"directory", status.directory}};
}

Json status_json(const ControlContext& context, const LiveStore& store, const Capture* capture) {
    const LiveSnapshot snapshot = store.snapshot(0);
    Json connections = Json::array();
    for (std::size_t k = 0; k < snapshot.connections.size() && k < max_connections_listed; ++k) {
        const auto& connection = snapshot.connections[k];
        connections.push_back({{"connection", connection.label},
                               {"address", connection.address},
                               {"connected", connection.connected},
                               {"last_bead", connection.last_bead},
                               {"beads", connection.beads},
                               {"structures", connection.structures},
                               {"answers", connection.round_trips}});
    }
    Json json{{"model", context.model_description},
              {"members", store.members()},
              {"model_reloads", context.model_slot != nullptr ? context.model_slot->reloads() : 0},
              {"uptime_seconds", std::chrono::duration<double>(snapshot.uptime).count()},
              {"structures", snapshot.structures},
              {"answers", snapshot.round_trips},
              {"connections", connections},
              {"connections_total", snapshot.connections.size()},
              {"latency_ms",
               {{"evaluation", latency_json(snapshot.evaluation)},
                {"round_trip", latency_json(snapshot.round_trip)}}}};
    json["temperature_K"] = context.temperature_kelvin ? Json(*context.temperature_kelvin) : Json(nullptr);
    json["capture"] = capture != nullptr ? capture_json(capture->status()) : Json(nullptr);
    return json;
}

Json uncertainty_json(const LiveStore& store, const UncertaintyRequest& request) {
    const LiveSnapshot snapshot = store.snapshot(request.last);
    Json entries = Json::array();
    for (const auto& entry : snapshot.recent) {
        const std::string connection = entry.connection < snapshot.connections.size()
                                           ? snapshot.connections[entry.connection].label
                                           : "";
        const double per_atom = entry.atoms > 0 ? entry.sigma_energy / static_cast<double>(entry.atoms) : 0.0;
        // nlohmann writes NaN (unknown) as null.
        entries.push_back({{"time", format_utc_time(entry.time)},
                           {"connection", connection},
                           {"bead", entry.bead},
                           {"atoms", entry.atoms},
                           {"energy", entry.energy},
                           {"sigma_energy", entry.sigma_energy},
                           {"sigma_energy_per_atom", per_atom},
                           {"max_atomic_sigma", entry.max_atomic_sigma},
                           {"max_force_sigma", entry.max_force_sigma},
                           {"volume", entry.volume}});
    }
    return {{"units", "eV, eV/Å (max_force_sigma), Å³ (volume); sigma: member spread, ddof 1"},
            {"entries", entries}};
}

Json reweight_json(const ControlContext& context, const LiveStore& store, const ReweightRequest& request) {
    const std::optional<double> kelvin =
        request.temperature_kelvin ? request.temperature_kelvin : context.temperature_kelvin;
    if (!kelvin) {
        throw InputError(
            "no temperature: give \"temperature\" (K) in the request or start chorus serve with "
            "--temperature");
    }
    const double kt_ev = units::kelvin_to_ev(*kelvin);
    const LiveReweight reweight = compute_live_reweight(store.reweight_input(), kt_ev, request.beads);
    Json groups = Json::array();
    for (const auto& group : reweight.groups) {
        Json observables = Json::array();
        for (const auto& observable : group.observables) {
            observables.push_back({{"name", observable.name},
                                   {"sampled_average", observable.sampled},
                                   {"statistical_error", observable.statistical_error},
                                   {"block_size", observable.block_size},
                                   {"blocks", observable.blocks},
                                   {"reliable", observable.reliable},
                                   {"member_mean", observable.member_mean},
                                   {"committee_spread", observable.committee_spread},
                                   {"member_averages", observable.member_averages}});
        }
        Json entry{{"group", group.group},
                   {"records", group.records},
                   {"steps", group.steps},
                   {"beads", group.beads},
                   {"incomplete_steps", group.incomplete_steps},
                   {"effective_sample_size", group.effective_sample_sizes},
                   {"observables", observables}};
        if (group.error) {
            entry["error"] = *group.error;
        }
        groups.push_back(std::move(entry));
    }
    return {{"method", "cea"},
            {"temperature_K", *kelvin},
            {"kt_ev", kt_ev},
            {"members", reweight.members},
            {"spread_ddof", 1},
            {"truncated", reweight.truncated},
            {"units", "potential_energy and sigma_energy eV, volume Å³"},
            {"groups", groups}};
}

}  // namespace

bool tokens_equal(std::string_view given, std::string_view expected) {
    // The length of the expected token is not secret worth hiding; its content is.
    unsigned char difference = given.size() == expected.size() ? 0 : 1;
    for (std::size_t k = 0; k < expected.size(); ++k) {
        const char g = k < given.size() ? given[k] : '\0';
        difference = static_cast<unsigned char>(
            difference | (static_cast<unsigned char>(g) ^ static_cast<unsigned char>(expected[k])));
    }
    // The compiler may not turn the loop into an early exit: `difference` is read only here.
    return *static_cast<volatile unsigned char*>(&difference) == 0;
}

ControlHandler::ControlHandler(ControlContext context, const LiveStore& store, Capture* capture)
    : context_(std::move(context)), store_(store), capture_(capture) {}

ControlCounters ControlHandler::counters() const { return {requests_, errors_, clients_}; }

std::string ControlHandler::error_response(const std::string& message, const std::optional<std::string>& id) {
    ++errors_;
    Json json{{"ok", false}, {"error", message}};
    if (id) {
        json["id"] = Json::parse(*id);
    }
    return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string ControlHandler::too_long_response() {
    ++requests_;
    return error_response(
        fmt::format("request line longer than {} bytes; the connection is closed", max_control_request_bytes),
        std::nullopt);
}

std::string ControlHandler::handle(std::string_view line) {
    ++requests_;
    ControlRequest request;
    try {
        request = parse_control_request(line);
    } catch (const Error& error) {
        return error_response(error.what(), std::nullopt);
    }
    if (context_.token && !(request.token && tokens_equal(*request.token, *context_.token))) {
        return error_response(request.token ? "unauthorized: wrong \"token\""
                                            : "unauthorized: this server requires \"token\" in every request",
                              request.id);
    }
    try {
        Json json;
        if (std::holds_alternative<StatusRequest>(request.body)) {
            json = status_json(context_, store_, capture_);
        } else if (const auto* uncertainty = std::get_if<UncertaintyRequest>(&request.body)) {
            json = uncertainty_json(store_, *uncertainty);
        } else if (const auto* reweight = std::get_if<ReweightRequest>(&request.body)) {
            json = reweight_json(context_, store_, *reweight);
        } else if (const auto* capture = std::get_if<CaptureRequest>(&request.body)) {
            if (capture_ == nullptr) {
                throw InputError("capture is off: start chorus serve with --capture-dir DIRECTORY");
            }
            capture_->configure(*capture);
            json["capture"] = capture_json(capture_->status());
        } else if (std::holds_alternative<ReloadRequest>(request.body)) {
            if (context_.model_slot == nullptr) {
                throw InputError("reload is not available in this server");
            }
            context_.model_description = context_.model_slot->reload();
            if (context_.on_reload) {
                context_.on_reload(context_.model_description);
            }
            json["model"] = context_.model_description;
            if (const auto dipole = context_.model_slot->dipole_description()) {
                json["dipole_model"] = *dipole;
            }
            json["reloads"] = context_.model_slot->reloads();
        } else {
            const std::optional<CaptureStatus> capture_status =
                capture_ != nullptr ? std::optional(capture_->status()) : std::nullopt;
            json["text"] = format_metrics(store_.snapshot(0), capture_status, counters());
        }
        json["ok"] = true;
        json["request"] = request_name(request.body);
        if (request.id) {
            json["id"] = Json::parse(*request.id);
        }
        return json.dump(-1, ' ', false, Json::error_handler_t::replace);
    } catch (const Error& error) {
        return error_response(error.what(), request.id);
    } catch (const std::exception& error) {
        return error_response(fmt::format("internal error: {}", error.what()), request.id);
    }
}

}  // namespace chorus::server
