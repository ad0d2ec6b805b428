#include "metrics.hpp"

#include <chrono>
#include <iterator>

#include <fmt/format.h>

namespace chorus::server {
namespace {

// Label values escape backslash, double quote and newline (the exposition format's rule).
std::string escape_label(const std::string& value) {
    std::string escaped;
    for (const char c : value) {
        if (c == '\\' || c == '"') {
            escaped += '\\';
            escaped += c;
        } else if (c == '\n') {
            escaped += "\\n";
        } else {
            escaped += c;
        }
    }
    return escaped;
}

void add_metric(std::string& text, std::string_view name, std::string_view type, std::string_view help) {
    fmt::format_to(std::back_inserter(text), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void add_histogram(std::string& text, std::string_view name, std::string_view help,
                   const LatencyHistogram& histogram) {
    add_metric(text, name, "histogram", help);
    auto out = std::back_inserter(text);
    std::uint64_t cumulative = 0;
    for (std::size_t k = 0; k < latency_bucket_bounds.size(); ++k) {
        cumulative += histogram.counts[k];
        fmt::format_to(out, "{}_bucket{{le=\"{}\"}} {}\n", name, latency_bucket_bounds[k], cumulative);
    }
    fmt::format_to(out, "{}_bucket{{le=\"+Inf\"}} {}\n", name, histogram.count);
    fmt::format_to(out, "{}_sum {}\n{}_count {}\n", name, histogram.sum_seconds, name, histogram.count);
}

}  // namespace

std::string format_metrics(const LiveSnapshot& snapshot, const std::optional<CaptureStatus>& capture,
                           const ControlCounters& control) {
    std::string text;
    auto out = std::back_inserter(text);
    add_metric(text, "chorus_uptime_seconds", "gauge", "Seconds since chorus serve started.");
    fmt::format_to(out, "chorus_uptime_seconds {}\n", std::chrono::duration<double>(snapshot.uptime).count());
    add_metric(text, "chorus_structures_evaluated_total", "counter", "Structures evaluated.");
    fmt::format_to(out, "chorus_structures_evaluated_total {}\n", snapshot.structures);
    add_metric(text, "chorus_answers_total", "counter", "Force answers sent to i-PI.");
    fmt::format_to(out, "chorus_answers_total {}\n", snapshot.round_trips);

    std::size_t connected = 0;
    for (const auto& connection : snapshot.connections) {
        connected += connection.connected ? 1 : 0;
    }
    add_metric(text, "chorus_connections", "gauge", "Connections to i-PI servers that are up.");
    fmt::format_to(out, "chorus_connections {}\n", connected);
    add_metric(text, "chorus_connection_structures_total", "counter", "Structures evaluated per connection.");
    for (const auto& connection : snapshot.connections) {
        fmt::format_to(out, "chorus_connection_structures_total{{connection=\"{}\"}} {}\n",
                       escape_label(connection.label), connection.structures);
    }
    add_metric(text, "chorus_connection_up", "gauge", "1 when the connection is up.");
    for (const auto& connection : snapshot.connections) {
        fmt::format_to(out, "chorus_connection_up{{connection=\"{}\"}} {}\n", escape_label(connection.label),
                       connection.connected ? 1 : 0);
    }
    add_histogram(text, "chorus_evaluation_seconds", "Model evaluation time per structure.",
                  snapshot.evaluation_histogram);
    add_histogram(text, "chorus_round_trip_seconds", "From a complete request to its answer written.",
                  snapshot.round_trip_histogram);

    add_metric(text, "chorus_control_requests_total", "counter", "Control API requests answered.");
    fmt::format_to(out, "chorus_control_requests_total {}\n", control.requests);
    add_metric(text, "chorus_control_errors_total", "counter", "Control API error responses.");
    fmt::format_to(out, "chorus_control_errors_total {}\n", control.errors);
    add_metric(text, "chorus_control_clients", "gauge", "Control API clients connected.");
    fmt::format_to(out, "chorus_control_clients {}\n", control.clients);
    if (capture) {
        add_metric(text, "chorus_capture_enabled", "gauge", "1 while capturing uncertain structures.");
        fmt::format_to(out, "chorus_capture_enabled {}\n", capture->enabled ? 1 : 0);
        add_metric(text, "chorus_capture_written_total", "counter", "Structures written by capture.");
        fmt::format_to(out, "chorus_capture_written_total {}\n", capture->written);
        add_metric(text, "chorus_capture_rate_limited_total", "counter",
                   "Structures over the threshold not written because of the per-minute limit.");
        fmt::format_to(out, "chorus_capture_rate_limited_total {}\n", capture->rate_limited);
        add_metric(text, "chorus_capture_dropped_total", "counter",
                   "Structures not written: queue full or write failed.");
        fmt::format_to(out, "chorus_capture_dropped_total {}\n", capture->dropped);
    }
    return text;
}

}  // namespace chorus::server
