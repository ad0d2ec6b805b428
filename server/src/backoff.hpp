#pragma once
// Capped exponential backoff between connection attempts: i-PI creates its socket a second or two
// after it starts and may restart, so a client must keep trying without hammering it.
#include <chrono>
#include <optional>

namespace chorus::server {

class Backoff {
public:
    using Duration = std::chrono::duration<double>;

    explicit Backoff(Duration first = Duration(0.1), Duration cap = Duration(5.0));

    // The delay before the next attempt: first, 2·first, 4·first, …, then cap forever.
    Duration next();
    // After a success: the next failure starts again from `first`.
    void reset();

private:
    Duration first_;
    Duration cap_;
    Duration current_;
};

// How long to keep retrying (--retry-for); nullopt means forever.
class RetryBudget {
public:
    using Clock = std::chrono::steady_clock;

    explicit RetryBudget(std::optional<Backoff::Duration> limit);

    // Called at the first failed attempt of a series (starts the clock if not running).
    void start(Clock::time_point now);
    // Called after a success: the next failure starts a new series with the full budget.
    void reset();
    bool exhausted(Clock::time_point now) const;
    // `delay`, shortened so that the wait ends no later than the budget does.
    Backoff::Duration clamp(Backoff::Duration delay, Clock::time_point now) const;

private:
    std::optional<Backoff::Duration> limit_;
    std::optional<Clock::time_point> started_;
};

}  // namespace chorus::server
