#pragma once
// One client connection slot to an i-PI server, kept up for the life of the process: connect with
// backoff, talk the protocol through protocol::Driver, evaluate off the I/O thread, reconnect after
// errors. Style of Asio's coroutine examples: the whole life is one coroutine, run().
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <oneapi/tbb/task_arena.h>
#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>

#include "address.hpp"
#include "backoff.hpp"
#include "chorus/engine/model.hpp"
#include "chorus/protocol/driver.hpp"
#include "connection.hpp"
#include "evaluator.hpp"

namespace chorus::server {

struct SessionSettings {
    Address address;
    int index = 0;  // connection index among the --clients of this address, for logs
    bool track_beads = false;
    bool persist = false;
    std::optional<Backoff::Duration> retry_for;  // nullopt: retry forever
    std::int32_t max_atoms = 10'000'000;
    // Evaluate on the I/O thread (arena.execute) instead of handing the request to an arena worker
    // and waiting for its completion: two thread wake-ups fewer per request, the larger part of the
    // protocol overhead on small systems. Only for a process with a single connection, where the
    // I/O thread has nothing else to do meanwhile (the control server has its own thread). The
    // arena must then keep a slot for it (EvaluationArena).
    bool evaluate_inline = false;
    EvaluationSettings evaluation;
};

enum class SessionOutcome {
    exited,   // the server sent EXIT (and --persist was not given)
    gave_up,  // could not connect within --retry-for
    stopped,  // stop() was called (SIGINT/SIGTERM)
};

class Session {
public:
    // `model` and `arena` are shared by all sessions and must outlive them.
    Session(asio::any_io_executor executor, SessionSettings settings, const engine::Model& model,
            tbb::task_arena& arena);

    asio::awaitable<SessionOutcome> run();

    // Graceful stop, to be called on the session's executor: an evaluation in flight finishes and
    // its answer is sent, then the connection closes and run() returns `stopped`.
    void stop();

    // Requests answered over the session's life (all connections).
    std::uint64_t answered() const { return answered_; }

private:
    enum class ConversationEnd { exit, dropped, stopped };

    // false when it gave up (--retry-for) or was stopped.
    asio::awaitable<bool> connect_with_retry();
    asio::awaitable<ConversationEnd> converse();
    asio::awaitable<void> flush(protocol::Driver& driver);
    asio::awaitable<void> pause(Backoff::Duration delay);
    void set_connected(bool connected);  // for the live store (--control)
    // Prefix of every log line: "unix:/tmp/ipi_x #0".
    std::string label() const;

    asio::any_io_executor executor_;
    SessionSettings settings_;
    const engine::Model& model_;
    tbb::task_arena& arena_;
    Connection connection_;
    asio::steady_timer timer_;
    Backoff backoff_;
    RetryBudget retry_budget_;
    std::vector<std::byte> buffer_;
    bool stopping_ = false;
    bool evaluating_ = false;
    std::uint64_t answered_ = 0;
    // The request being answered, for the round-trip latency of the live store.
    std::optional<std::chrono::steady_clock::time_point> request_received_;
    std::uint64_t answered_at_request_ = 0;
};

}  // namespace chorus::server
