#include "query_command.hpp"

#include <sys/socket.h>
#include <sys/time.h>

#include <cmath>
#include <ostream>
#include <system_error>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <asio/buffer.hpp>
#include <asio/connect.hpp>
#include <asio/generic/stream_protocol.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/read_until.hpp>
#include <asio/write.hpp>
#include <nlohmann/json.hpp>

#include "chorus/error.hpp"
#include "control_address.hpp"

namespace chorus::server {
namespace {

using Json = nlohmann::json;

constexpr std::size_t max_response_bytes = 64 * 1024 * 1024;

std::string number(const Json& value, const char* format = "{:.6g}") {
    if (value.is_number()) {
        return fmt::format(fmt::runtime(format), value.get<double>());
    }
    return value.is_null() ? "-" : value.dump();
}

void print_status(const Json& json, std::ostream& out) {
    fmt::print(out, "model: {}\n", json.value("model", ""));
    fmt::print(out, "members: {}   uptime: {:.1f} s   structures: {}   answers: {}\n",
               number(json["members"]), json.value("uptime_seconds", 0.0), number(json["structures"]),
               number(json["answers"]));
    for (const char* kind : {"evaluation", "round_trip"}) {
        const Json& latency = json["latency_ms"][kind];
        fmt::print(out, "{:<11} latency (ms): p50 {}  p90 {}  p99 {}  ({} samples)\n", kind,
                   number(latency["p50"], "{:.4g}"), number(latency["p90"], "{:.4g}"),
                   number(latency["p99"], "{:.4g}"), number(latency["samples"]));
    }
    fmt::print(out, "{:<40} {:>9} {:>11} {:>9}  {}\n", "connection", "connected", "structures", "last bead",
               "beads");
    for (const Json& connection : json["connections"]) {
        std::string beads;
        for (const Json& bead : connection["beads"]) {
            beads += (beads.empty() ? "" : ",") + bead.dump();
        }
        fmt::print(out, "{:<40} {:>9} {:>11} {:>9}  {}\n", connection.value("connection", ""),
                   connection.value("connected", false) ? "yes" : "no", number(connection["structures"]),
                   number(connection["last_bead"]), beads);
    }
    if (json.contains("capture") && json["capture"].is_object()) {
        const Json& capture = json["capture"];
        fmt::print(out, "capture: {} (threshold {} on {}, {} per minute; {} written)\n",
                   capture.value("enabled", false) ? "on" : "off", number(capture["threshold"]),
                   capture.value("quantity", ""), number(capture["per_minute"]), number(capture["written"]));
    }
}

void print_uncertainty(const Json& json, std::ostream& out) {
    fmt::print(out, "{:<24} {:<28} {:>5} {:>6} {:>15} {:>11} {:>11} {:>11} {:>11}\n", "time", "connection",
               "bead", "atoms", "energy/eV", "sigma_E/eV", "sE/atom", "max atomic", "max force");
    for (const Json& entry : json["entries"]) {
        fmt::print(out, "{:<24} {:<28} {:>5} {:>6} {:>15} {:>11} {:>11} {:>11} {:>11}\n",
                   entry.value("time", ""), entry.value("connection", ""), number(entry["bead"]),
                   number(entry["atoms"]), number(entry["energy"], "{:.8g}"),
                   number(entry["sigma_energy"], "{:.4g}"), number(entry["sigma_energy_per_atom"], "{:.4g}"),
                   number(entry["max_atomic_sigma"], "{:.4g}"), number(entry["max_force_sigma"], "{:.4g}"));
    }
}

void print_reweight(const Json& json, std::ostream& out) {
    fmt::print(out, "cumulant expansion at {} K (kT = {} eV), {} members{}\n", number(json["temperature_K"]),
               number(json["kt_ev"]), number(json["members"]),
               json.value("truncated", false) ? " (store full: later records not included)" : "");
    for (const Json& group : json["groups"]) {
        fmt::print(out, "group {}: {} records, {} steps of {} bead(s)\n", group.value("group", ""),
                   number(group["records"]), number(group["steps"]), number(group["beads"]));
        if (group.contains("error")) {
            fmt::print(out, "  no estimate yet: {}\n", group["error"].get<std::string>());
            continue;
        }
        fmt::print(out, "  {:<18} {:>16} {:>11} {:>7} {:>16} {:>11}\n", "observable", "sampled <a>",
                   "stat. err", "blocks", "member mean", "spread");
        for (const Json& observable : group["observables"]) {
            fmt::print(out, "  {:<18} {:>16} {:>11} {:>7} {:>16} {:>11}\n", observable.value("name", ""),
                       number(observable["sampled_average"], "{:.8e}"),
                       number(observable["statistical_error"], "{:.3e}"), number(observable["blocks"]),
                       number(observable["member_mean"], "{:.8e}"),
                       number(observable["committee_spread"], "{:.3e}"));
        }
        std::string ess;
        for (const Json& value : group["effective_sample_size"]) {
            ess += " " + number(value, "{:.1f}");
        }
        fmt::print(out, "  effective sample size per member:{}\n", ess);
    }
}

void print_response(const std::string& request, const Json& json, std::ostream& out) {
    if (request == "status") {
        print_status(json, out);
    } else if (request == "uncertainty") {
        print_uncertainty(json, out);
    } else if (request == "reweight") {
        print_reweight(json, out);
    } else if (request == "metrics") {
        out << json.value("text", "");
    } else if (request == "reload") {
        fmt::print(out, "model reloaded: {} ({} reload{} since start)\n", json.value("model", ""),
                   number(json["reloads"]), json.value("reloads", 0) == 1 ? "" : "s");
    } else if (json.contains("capture")) {
        const Json& capture = json["capture"];
        fmt::print(out, "capture {}: threshold {} on {}, at most {} per minute, into {}\n",
                   capture.value("enabled", false) ? "on" : "off", number(capture["threshold"]),
                   capture.value("quantity", ""), number(capture["per_minute"]),
                   capture.value("directory", ""));
    } else {
        out << json.dump(2) << '\n';
    }
}

void set_timeouts(asio::generic::stream_protocol::socket& socket, double seconds) {
    timeval timeout{};
    timeout.tv_sec = static_cast<time_t>(seconds);
    timeout.tv_usec = static_cast<suseconds_t>((seconds - std::floor(seconds)) * 1e6);
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
}

std::string exchange(const ControlAddress& address, const std::string& line, double timeout_seconds) {
    asio::io_context io_context;
    asio::generic::stream_protocol::socket socket(io_context);
    if (address.tcp) {
        asio::ip::tcp::resolver resolver(io_context);
        const auto endpoints = resolver.resolve(address.host, std::to_string(address.port));
        std::error_code error = asio::error::host_not_found;
        for (const auto& entry : endpoints) {
            socket.close();
            socket.connect(asio::generic::stream_protocol::endpoint(entry.endpoint()), error);
            if (!error) {
                break;
            }
        }
        if (error) {
            throw std::system_error(error);
        }
    } else {
        socket.connect(
            asio::generic::stream_protocol::endpoint(asio::local::stream_protocol::endpoint(address.path)));
    }
    set_timeouts(socket, timeout_seconds);
    const std::string request = line + "\n";
    asio::write(socket, asio::buffer(request));
    std::string response;
    const std::size_t length =
        asio::read_until(socket, asio::dynamic_buffer(response, max_response_bytes), '\n');
    response.resize(length - 1);
    return response;
}

}  // namespace

std::string build_query_line(const QuerySettings& settings) {
    Json request{{"request", settings.request}};
    for (const auto& argument : settings.arguments) {
        const auto equals = argument.find('=');
        if (equals == std::string::npos || equals == 0) {
            throw ConfigError(fmt::format(
                "query argument '{}' is not KEY=VALUE (e.g. last=20, temperature=300)", argument));
        }
        const std::string key = argument.substr(0, equals);
        const std::string value = argument.substr(equals + 1);
        const Json parsed = Json::parse(value, nullptr, false);
        request[key] = parsed.is_discarded() ? Json(value) : parsed;
    }
    if (settings.token) {
        request["token"] = *settings.token;
    }
    return request.dump();
}

int run_query(const QuerySettings& settings, std::ostream& out, std::ostream& err) {
    const ControlAddress address = parse_control_address(settings.address);
    const std::string line = build_query_line(settings);
    std::string response;
    try {
        response = exchange(address, line, settings.timeout_seconds);
    } catch (const std::system_error& error) {
        throw IoError(
            fmt::format("no answer from the control address '{}': {}; is `chorus serve --control {}` "
                        "running?",
                        settings.address, error.code().message(), settings.address));
    }
    const Json json = Json::parse(response, nullptr, false);
    if (json.is_discarded() || !json.is_object()) {
        throw IoError(fmt::format("the control server at '{}' sent something that is not a JSON object",
                                  settings.address));
    }
    const bool ok = json.value("ok", false);
    if (settings.json) {
        out << response << '\n';
    } else if (ok) {
        print_response(settings.request, json, out);
    }
    if (!ok) {
        err << "chorus query: error: " << json.value("error", std::string("(no message)")) << '\n';
        return 1;
    }
    return 0;
}

}  // namespace chorus::server
