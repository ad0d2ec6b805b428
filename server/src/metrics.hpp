#pragma once
// The control API's `metrics` request: the live store's counters, gauges and latency histograms in
// the Prometheus text exposition format (version 0.0.4), names prefixed `chorus_`.
#include <optional>
#include <string>

#include "capture.hpp"
#include "live_store.hpp"

namespace chorus::server {

struct ControlCounters {
    std::uint64_t requests = 0;  // control requests answered (errors included)
    std::uint64_t errors = 0;    // of which error responses
    std::uint64_t clients = 0;   // control clients connected now
};

std::string format_metrics(const LiveSnapshot& snapshot, const std::optional<CaptureStatus>& capture,
                           const ControlCounters& control);

}  // namespace chorus::server
