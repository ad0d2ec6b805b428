#pragma once
// The contract every chorus fuzzer checks: any input either succeeds or throws the chorus::Error
// subclass its API documents. Anything else is a finding. Other exceptions and broken invariants
// are reported here and abort, so that libFuzzer saves the input; crashes, sanitizer reports,
// leaks, hangs (-timeout) and oversized allocations (-malloc_limit_mb) are libFuzzer's to report.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <typeinfo>

#include "chorus/error.hpp"

namespace chorus::fuzz {

[[noreturn]] inline void finding(std::string_view what) {
    std::fprintf(stderr, "\n==chorus fuzz== FINDING: %.*s\n", static_cast<int>(what.size()), what.data());
    std::abort();
}

inline void check(bool condition, std::string_view invariant) {
    if (!condition) {
        finding(std::string("invariant broken: ").append(invariant));
    }
}

// Runs `body`. True when it returned, false when it threw `Expected` (a chorus::Error subclass);
// every other exception is a finding, named with its dynamic type and message.
template <class Expected, class Body>
bool succeeds_or_throws(Body&& body) {
    try {
        body();
        return true;
    } catch (const Expected&) {
        return false;
    } catch (const std::exception& error) {
        finding(std::string("unexpected exception (expected ") + typeid(Expected).name() +
                "), dynamic type " + typeid(error).name() + ": " + error.what());
    } catch (...) {
        finding(std::string("unexpected non-std exception (expected ") + typeid(Expected).name() + ")");
    }
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

// A small deterministic generator for chunk sizes: the same input always splits the same way,
// so every finding reproduces from its saved input alone.
class SplitSequence {
public:
    SplitSequence(const std::uint8_t* data, std::size_t size) {
        for (std::size_t i = 0; i < size; ++i) {  // FNV-1a of the input
            state_ = (state_ ^ data[i]) * 0x100000001b3ULL;
        }
        state_ |= 1;
    }
    // 1 … limit, skewed towards short chunks so that splits inside headers and numbers are common.
    std::size_t next(std::size_t limit) {
        state_ ^= state_ << 13;  // xorshift64
        state_ ^= state_ >> 7;
        state_ ^= state_ << 17;
        const std::size_t cap = (state_ & 3) == 0 ? limit : std::min<std::size_t>(limit, 16);
        return 1 + static_cast<std::size_t>((state_ >> 8) % cap);
    }

private:
    std::uint64_t state_ = 0xcbf29ce484222325ULL;
};

}  // namespace chorus::fuzz
