// libFuzzer target: ClientStreamDecoder (what a driver sends: READY, HAVEDATA, NEEDINIT and single
// or batched FORCEREADY with extras). The first byte chooses the batch size (0: none, i.e. the
// single layout; k: B = k); the rest is the stream, fed whole, by bytes_wanted() and in random
// chunks. Seeds: corpus/client_decoder (golden messages of tests/data/protocol behind that byte).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>

#include "chorus/protocol/codec.hpp"
#include "decoder_harness.hpp"

namespace {

using chorus::fuzz::check;
using namespace chorus::protocol;

// Small enough that libFuzzer's -malloc_limit_mb catches allocations the limits should prevent.
constexpr Limits fuzz_limits{
    .max_atoms = 4096, .max_init_bytes = 4096, .max_batch_size = 64, .max_extras_bytes = 1 << 16};

std::optional<std::int32_t> batch_size_of(std::uint8_t selector) {
    const int choice = selector % 9;  // B = 1 … 8, or none
    return choice == 0 ? std::nullopt : std::optional<std::int32_t>(choice);
}

std::string digest(const ClientStreamDecoder&, const ClientMessage& message, std::size_t structures) {
    std::string out(1, static_cast<char>('0' + message.index()));
    if (const auto* status = std::get_if<StatusReply>(&message)) {
        check(status->state == Header::ready || status->state == Header::have_data ||
                  status->state == Header::need_init,
              "a status reply is READY, HAVEDATA or NEEDINIT");
        chorus::fuzz::append_bytes(out, status->state);
    } else if (const auto* forces = std::get_if<ForceReadyMessage>(&message)) {
        check(forces->results.size() == structures, "FORCEREADY carries one result per structure");
        check(forces->atoms >= 1 && forces->atoms <= fuzz_limits.max_atoms, "FORCEREADY atoms within limits");
        chorus::fuzz::append_bytes(out, forces->atoms);
        for (const ForceResult& result : forces->results) {
            check(result.forces.size() == 3 * static_cast<std::size_t>(forces->atoms), "3·atoms forces");
            check(result.extras.size() <= static_cast<std::size_t>(fuzz_limits.max_extras_bytes),
                  "extras within the limit");
            chorus::fuzz::append_bytes(out, result.energy);
            chorus::fuzz::append_doubles(out, result.forces);
            chorus::fuzz::append_doubles(out, result.virial);
            out += result.extras;
        }
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::optional<std::int32_t> batch_size = batch_size_of(data[0]);
    const std::size_t structures = static_cast<std::size_t>(batch_size.value_or(1));
    chorus::fuzz::check_decoder<ClientStreamDecoder>(
        std::as_bytes(std::span(data + 1, size - 1)),
        [&] {
            ClientStreamDecoder decoder(fuzz_limits);
            decoder.set_batch_size(batch_size);
            return decoder;
        },
        [&](const ClientStreamDecoder& decoder, const ClientMessage& message) {
            return digest(decoder, message, structures);
        });
    return 0;
}
