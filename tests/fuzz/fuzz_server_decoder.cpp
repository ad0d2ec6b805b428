// libFuzzer target: ServerStreamDecoder (what i-PI sends: STATUS, INIT, single and batched
// POSDATA, GETFORCE, EXIT) over an arbitrary byte stream, fed whole, by bytes_wanted() and in
// random chunks. Seeds: corpus/server_decoder (golden messages of tests/data/protocol, chained).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <variant>

#include "chorus/protocol/codec.hpp"
#include "decoder_harness.hpp"

namespace {

using chorus::fuzz::check;
using namespace chorus::protocol;

// Small enough that the largest message the limits admit allocates about 100 kB, so that libFuzzer's
// -malloc_limit_mb catches any allocation the limits should have prevented.
constexpr Limits fuzz_limits{.max_atoms = 4096, .max_init_bytes = 4096, .max_batch_size = 64};

std::string digest(const ServerStreamDecoder& decoder, const ServerMessage& message) {
    std::string out(1, static_cast<char>('0' + message.index()));
    if (const auto* init = std::get_if<InitMessage>(&message)) {
        check(init->replica_id >= 0, "INIT replica id is not negative");
        check(init->parameters.size() <= static_cast<std::size_t>(fuzz_limits.max_init_bytes),
              "INIT text within the limit");
        chorus::fuzz::append_bytes(out, init->replica_id);
        out += init->parameters;
        chorus::fuzz::append_bytes(out, decoder.batch_size().value_or(0));
    } else if (const auto* posdata = std::get_if<PosDataMessage>(&message)) {
        const std::size_t expected = static_cast<std::size_t>(decoder.batch_size().value_or(1));
        check(posdata->structures.size() == expected, "POSDATA carries batch_size structures");
        check(posdata->atoms >= 1 && posdata->atoms <= fuzz_limits.max_atoms, "POSDATA atoms within limits");
        check(decoder.atoms() == posdata->atoms, "atoms() is the POSDATA atom count");
        chorus::fuzz::append_bytes(out, posdata->atoms);
        for (const WireStructure& structure : posdata->structures) {
            check(structure.positions.size() == 3 * static_cast<std::size_t>(posdata->atoms),
                  "3·atoms positions per structure");
            for (const double value : structure.cell) {
                check(std::isfinite(value), "decoded cells are finite");
            }
            for (const double value : structure.positions) {
                check(std::isfinite(value), "decoded positions are finite");
            }
            chorus::fuzz::append_doubles(out, structure.cell);
            chorus::fuzz::append_doubles(out, structure.positions);
        }
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    chorus::fuzz::check_decoder<ServerStreamDecoder>(
        std::as_bytes(std::span(data, size)), [] { return ServerStreamDecoder(fuzz_limits); }, digest);
    return 0;
}
