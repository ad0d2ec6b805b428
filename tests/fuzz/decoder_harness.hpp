#pragma once
// Drives one of the incremental i-PI decoders over a byte stream in three ways — all bytes at
// once, exactly bytes_wanted() at a time, and pseudo-random chunks — and checks that all three
// decode the same messages and fail at the same message, besides the fuzzers' general contract.
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "chorus/error.hpp"
#include "fuzz_support.hpp"

namespace chorus::fuzz {

enum class Feeding { whole, wanted, random_chunks };

// The messages decoded (as digests that compare exactly, NaN payloads included) and whether the
// stream ended in a ProtocolError.
struct DecodeOutcome {
    std::vector<std::string> messages;
    bool failed = false;
    bool operator==(const DecodeOutcome&) const = default;
};

template <class T>
void append_bytes(std::string& digest, const T& value) {
    digest.append(reinterpret_cast<const char*>(&value), sizeof value);
}

inline void append_doubles(std::string& digest, std::span<const double> values) {
    append_bytes(digest, values.size());
    digest.append(reinterpret_cast<const char*>(values.data()), values.size_bytes());
}

// `Digest(decoder, message)` → std::string; it also checks the message against the limits.
template <class Decoder, class Configure, class Digest>
DecodeOutcome decode(std::span<const std::byte> stream, Feeding feeding, const Configure& configure,
                     const Digest& digest, SplitSequence& splits) {
    Decoder decoder = configure();
    DecodeOutcome outcome;
    std::size_t offset = 0;
    const bool completed = succeeds_or_throws<ProtocolError>([&] {
        while (offset < stream.size()) {
            const std::size_t wanted = decoder.bytes_wanted();
            check(wanted >= 1, "bytes_wanted() >= 1 while no message waits to be taken");
            const std::size_t rest = stream.size() - offset;
            std::size_t chunk = rest;
            if (feeding == Feeding::wanted) {
                chunk = std::min(wanted, rest);
            } else if (feeding == Feeding::random_chunks) {
                chunk = splits.next(rest);
            }
            const std::size_t consumed = decoder.feed(stream.subspan(offset, chunk));
            check(consumed >= 1 && consumed <= chunk, "feed() consumes between 1 and all of its bytes");
            check(feeding != Feeding::wanted || consumed == chunk,
                  "feed() of at most bytes_wanted() bytes consumes them all");
            offset += consumed;
            if (auto message = decoder.take()) {
                outcome.messages.push_back(digest(decoder, *message));
                check(!decoder.take(), "take() returns each message once");
            } else {
                check(consumed == chunk, "feed() stops early only at the end of a message");
            }
        }
    });
    if (!completed) {
        outcome.failed = true;
        const std::byte more[1]{};
        check(!succeeds_or_throws<ProtocolError>([&] { decoder.feed(more); }),
              "feed() keeps throwing after a protocol error");
    }
    return outcome;
}

template <class Decoder, class Configure, class Digest>
void check_decoder(std::span<const std::byte> stream, const Configure& configure, const Digest& digest) {
    SplitSequence splits(reinterpret_cast<const std::uint8_t*>(stream.data()), stream.size());
    const DecodeOutcome whole = decode<Decoder>(stream, Feeding::whole, configure, digest, splits);
    const DecodeOutcome wanted = decode<Decoder>(stream, Feeding::wanted, configure, digest, splits);
    check(whole == wanted, "feeding bytes_wanted() at a time decodes as feeding everything at once");
    const DecodeOutcome chunks = decode<Decoder>(stream, Feeding::random_chunks, configure, digest, splits);
    check(whole == chunks, "feeding random chunks decodes as feeding everything at once");
}

}  // namespace chorus::fuzz
