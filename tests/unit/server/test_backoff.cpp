#include <catch2/catch.hpp>

#include "backoff.hpp"

using chorus::server::Backoff;
using chorus::server::RetryBudget;

TEST_CASE("backoff doubles from 0.1 s and stays at 5 s", "[server][backoff]") {
    Backoff backoff;
    const double expected[] = {0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 5.0};
    for (const double seconds : expected) {
        CHECK(backoff.next().count() == Approx(seconds));
    }
    backoff.reset();
    CHECK(backoff.next().count() == Approx(0.1));
    CHECK(backoff.next().count() == Approx(0.2));
}

TEST_CASE("the retry budget counts from the first failure of a series", "[server][backoff]") {
    using Clock = RetryBudget::Clock;
    const Clock::time_point t0{};
    const auto at = [&](double seconds) {
        return t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    };

    SECTION("forever") {
        RetryBudget budget(std::nullopt);
        budget.start(at(0));
        CHECK_FALSE(budget.exhausted(at(1e6)));
        CHECK(budget.clamp(Backoff::Duration(5.0), at(1e6)).count() == Approx(5.0));
    }
    SECTION("limited") {
        RetryBudget budget(Backoff::Duration(2.0));
        CHECK_FALSE(budget.exhausted(at(100)));  // not started: no failure yet
        budget.start(at(10));
        budget.start(at(11));  // a later failure of the same series does not restart the clock
        CHECK_FALSE(budget.exhausted(at(11.9)));
        CHECK(budget.exhausted(at(12.0)));
        CHECK(budget.clamp(Backoff::Duration(1.6), at(11.0)).count() == Approx(1.0));
        CHECK(budget.clamp(Backoff::Duration(0.4), at(11.0)).count() == Approx(0.4));
        CHECK(budget.clamp(Backoff::Duration(0.4), at(13.0)).count() == 0.0);
        budget.reset();  // connected: the next failure gets the whole budget again
        budget.start(at(20));
        CHECK_FALSE(budget.exhausted(at(21)));
    }
}
