#include "backoff.hpp"

#include <algorithm>

namespace chorus::server {

Backoff::Backoff(Duration first, Duration cap) : first_(first), cap_(cap), current_(first) {}

Backoff::Duration Backoff::next() {
    const Duration delay = std::min(current_, cap_);
    current_ = std::min(current_ * 2.0, cap_);
    return delay;
}

void Backoff::reset() { current_ = first_; }

RetryBudget::RetryBudget(std::optional<Backoff::Duration> limit) : limit_(limit) {}

void RetryBudget::start(Clock::time_point now) {
    if (!started_) {
        started_ = now;
    }
}

void RetryBudget::reset() { started_.reset(); }

bool RetryBudget::exhausted(Clock::time_point now) const {
    return limit_ && started_ && Backoff::Duration(now - *started_) >= *limit_;
}

Backoff::Duration RetryBudget::clamp(Backoff::Duration delay, Clock::time_point now) const {
    if (!limit_ || !started_) {
        return delay;
    }
    const Backoff::Duration left = *limit_ - Backoff::Duration(now - *started_);
    return std::max(Backoff::Duration(0.0), std::min(delay, left));
}

}  // namespace chorus::server
