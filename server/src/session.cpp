#include "session.hpp"

#include <chrono>
#include <system_error>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <asio/error.hpp>
#include <asio/use_awaitable.hpp>

#include "chorus/error.hpp"
#include "run_in_arena.hpp"

namespace chorus::server {
namespace {

// Large enough for many small messages per read; the driver buffers partial messages itself.
constexpr std::size_t read_chunk = 256 * 1024;

// How long a single-connection session polls its socket before it blocks (Session::converse).
constexpr std::chrono::microseconds inline_poll{50};

bool is_peer_gone(const std::error_code& error) {
    return error == asio::error::eof || error == asio::error::connection_reset ||
           error == asio::error::broken_pipe || error == asio::error::connection_aborted;
}

}  // namespace

Session::Session(asio::any_io_executor executor, SessionSettings settings, const engine::Model& model,
                 tbb::task_arena& arena)
    : executor_(std::move(executor)),
      settings_(std::move(settings)),
      model_(model),
      arena_(arena),
      connection_(executor_),
      timer_(executor_),
      retry_budget_(settings_.retry_for),
      buffer_(read_chunk) {}

std::string Session::label() const {
    return fmt::format("{} #{}", describe(settings_.address), settings_.index);
}

void Session::stop() {
    stopping_ = true;
    timer_.cancel();
    if (!evaluating_) {
        connection_.close();
    }
}

asio::awaitable<void> Session::pause(Backoff::Duration delay) {
    timer_.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(delay));
    try {
        co_await timer_.async_wait(asio::use_awaitable);
    } catch (const std::system_error&) {
        // cancelled by stop(): the caller checks stopping_
    }
}

asio::awaitable<SessionOutcome> Session::run() {
    while (!stopping_) {
        if (!co_await connect_with_retry()) {
            co_return stopping_ ? SessionOutcome::stopped : SessionOutcome::gave_up;
        }
        const auto answered_before = answered_;
        const ConversationEnd end = co_await converse();
        set_connected(false);
        if (answered_ > answered_before) {
            backoff_.reset();  // that server worked: a new failure starts from the short delay
        }
        if (end == ConversationEnd::stopped) {
            break;
        }
        if (end == ConversationEnd::exit) {
            if (!settings_.persist) {
                co_return SessionOutcome::exited;
            }
            spdlog::info("{}: --persist: reconnecting", label());
            backoff_.reset();
        }
        // Also after EXIT: a restarting server needs a moment, and a failing one must not be hammered.
        co_await pause(backoff_.next());
    }
    co_return SessionOutcome::stopped;
}

asio::awaitable<bool> Session::connect_with_retry() {
    for (int attempt = 1; !stopping_; ++attempt) {
        std::string reason;
        try {
            spdlog::debug("{}: connecting (attempt {})", label(), attempt);
            co_await connection_.connect(settings_.address);
            spdlog::info("{}: connected", label());
            set_connected(true);
            retry_budget_.reset();
            co_return true;
        } catch (const std::system_error& error) {
            reason = error.code().message();
        }
        if (stopping_) {
            break;
        }
        const auto now = std::chrono::steady_clock::now();
        retry_budget_.start(now);
        if (retry_budget_.exhausted(now)) {
            spdlog::error("{}: giving up after {} s of failed connection attempts (--retry-for): {}", label(),
                          settings_.retry_for->count(), reason);
            co_return false;
        }
        const auto delay = retry_budget_.clamp(backoff_.next(), now);
        spdlog::debug("{}: cannot connect ({}); retrying in {:.1f} s", label(), reason, delay.count());
        co_await pause(delay);
    }
    co_return false;
}

asio::awaitable<void> Session::flush(protocol::Driver& driver) {
    auto& outgoing = driver.outgoing();
    if (!outgoing.empty()) {
        co_await connection_.write(outgoing);
        outgoing.clear();
    }
    if (request_received_ && answered_ > answered_at_request_ && settings_.evaluation.live != nullptr) {
        // Round trip as the peer sees it, minus the network: request complete → answer written.
        const std::chrono::duration<double> round_trip =
            std::chrono::steady_clock::now() - *request_received_;
        settings_.evaluation.live->add_round_trip(settings_.evaluation.live_connection, round_trip.count());
        request_received_.reset();
    }
}

void Session::set_connected(bool connected) {
    if (settings_.evaluation.live != nullptr) {
        settings_.evaluation.live->set_connected(settings_.evaluation.live_connection, connected);
    }
}

asio::awaitable<Session::ConversationEnd> Session::converse() {
    protocol::DriverOptions options;
    options.track_beads = settings_.track_beads;
    options.limits.max_atoms = settings_.max_atoms;
    protocol::Driver driver(options);
    Evaluator evaluator(model_, settings_.evaluation);
    std::size_t begin = 0;  // unconsumed bytes are buffer_[begin, end)
    std::size_t end = 0;
    std::uint64_t inits = 0;
    std::string failure;
    auto failure_level = spdlog::level::err;

    try {
        for (;;) {
            while (begin < end && driver.bytes_wanted() > 0) {
                const bool was_waiting_for_init = driver.state() == protocol::DriverState::need_init;
                begin += driver.feed(std::span(buffer_).subspan(begin, end - begin));
                if (was_waiting_for_init && driver.state() != protocol::DriverState::need_init) {
                    // With --track-beads an INIT precedes every request: only the first is news.
                    spdlog::log(inits++ == 0 ? spdlog::level::info : spdlog::level::debug,
                                "{}: INIT for bead {}", label(), driver.replica_id());
                }
                if (auto request = driver.take_request()) {
                    co_await flush(driver);
                    request_received_ = std::chrono::steady_clock::now();
                    answered_at_request_ = answered_;
                    spdlog::debug("{}: evaluating {} structure(s) of {} atoms for bead {}", label(),
                                  request->structures.size(), request->atoms, request->replica_id);
                    evaluating_ = true;
                    const auto evaluate = [&evaluator, &request] { return evaluator.evaluate(*request); };
                    std::vector<protocol::ForceResult> results;
                    if (settings_.evaluate_inline) {
                        results = arena_.execute(evaluate);
                    } else {
                        results =
                            co_await async_run_in_arena(arena_, executor_, evaluate, asio::use_awaitable);
                    }
                    evaluating_ = false;
                    driver.deliver(std::move(results));
                    ++answered_;
                }
            }
            // i-PI sends GETFORCE right behind POSDATA, so the answer usually goes out here.
            co_await flush(driver);
            if (driver.state() == protocol::DriverState::exited) {
                spdlog::info("{}: EXIT received", label());
                connection_.close();
                co_return ConversationEnd::exit;
            }
            if (stopping_) {
                connection_.close();
                co_return ConversationEnd::stopped;
            }
            if (begin == end) {
                begin = end = 0;
            } else if (end == buffer_.size()) {
                std::copy(buffer_.begin() + static_cast<std::ptrdiff_t>(begin),
                          buffer_.begin() + static_cast<std::ptrdiff_t>(end), buffer_.begin());
                end -= begin;
                begin = 0;
            }
            const std::span<std::byte> free_space = std::span(buffer_).subspan(end);
            std::size_t received = 0;
            if (settings_.evaluate_inline) {
                // One connection: wait for the next message by polling for a moment before blocking.
                // i-PI's STATUS follows every answer at once, and a thread that sleeps in epoll on an
                // idle machine pays the core's wake-up on every message (tens of µs on this VM).
                const auto until = std::chrono::steady_clock::now() + inline_poll;
                do {
                    received = connection_.read_available(free_space);
                } while (received == 0 && std::chrono::steady_clock::now() < until);
            }
            if (received == 0) {
                received = co_await connection_.read_some(free_space);
            }
            end += received;
        }
    } catch (const ProtocolError& error) {
        failure = fmt::format("protocol error: {}", error.what());
    } catch (const InputError& error) {
        failure = fmt::format("bad input: {}", error.what());
    } catch (const Error& error) {
        failure = fmt::format("error: {}", error.what());
    } catch (const std::system_error& error) {
        if (stopping_ && error.code() == asio::error::operation_aborted) {
            evaluating_ = false;
            connection_.close();
            co_return ConversationEnd::stopped;
        }
        failure =
            fmt::format("{}: {}", is_peer_gone(error.code()) ? "disconnected by the server" : "socket error",
                        error.code().message());
        failure_level = spdlog::level::warn;
    } catch (const std::exception& error) {
        failure = fmt::format("internal error: {}", error.what());
    }
    evaluating_ = false;
    connection_.close();
    spdlog::log(failure_level, "{} (bead {}): {}; closing this connection{}", label(), driver.replica_id(),
                failure, stopping_ ? "" : " and reconnecting");
    co_return stopping_ ? ConversationEnd::stopped : ConversationEnd::dropped;
}

}  // namespace chorus::server
