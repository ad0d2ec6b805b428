#pragma once
// Turns one control request line into one response line (README "Control API"): the part of the
// control server that knows what the requests mean, free of sockets so that it can be tested alone.
// Runs on the control server's thread; reads the live store through its snapshots only.
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "capture.hpp"
#include "live_store.hpp"
#include "metrics.hpp"
#include "model_slot.hpp"

namespace chorus::server {

struct ControlContext {
    std::string model_description;
    std::optional<double> temperature_kelvin;  // serve --temperature
    std::optional<std::string> token;          // --control-token: then required on every request
    ModelSlot* model_slot = nullptr;           // for `reload`; nullptr: reload refused
    // After a successful `reload`, with the new model's description (serve: marks the committee log).
    std::function<void(const std::string&)> on_reload = nullptr;
};

class ControlHandler {
public:
    // `store` and `capture` (nullptr without --capture-dir) must outlive the handler.
    ControlHandler(ControlContext context, const LiveStore& store, Capture* capture);

    // The JSON response for one request line, without the trailing newline: {"ok": true, ...} or
    // {"ok": false, "error": "..."}. Never throws.
    std::string handle(std::string_view line);
    // For a line over the size limit (the connection is closed after it).
    std::string too_long_response();

    ControlCounters counters() const;
    // The control server tells how many clients it has (for metrics); same thread as handle().
    void set_clients(std::uint64_t clients) { clients_ = clients; }

private:
    std::string error_response(const std::string& message, const std::optional<std::string>& id);

    ControlContext context_;
    const LiveStore& store_;
    Capture* capture_;
    std::uint64_t requests_ = 0;
    std::uint64_t errors_ = 0;
    std::uint64_t clients_ = 0;
};

// Compares without an early exit, so the time taken does not reveal how much of a guess was right.
bool tokens_equal(std::string_view given, std::string_view expected);

}  // namespace chorus::server
