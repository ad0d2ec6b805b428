// Every way a peer can break the wire contract is a chorus::ProtocolError whose message names the
// offending value. Malformed streams are written by hand with RawBytes (no encoder writes them).
#include <catch2/catch.hpp>

#include <limits>

#include "protocol_test_support.hpp"

namespace {

using namespace chorus::protocol;
using Catch::Matchers::Contains;
using chorus::protocol::test::protocol_error_of;
using chorus::protocol::test::RawBytes;

constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();
constexpr double infinity = std::numeric_limits<double>::infinity();

const std::array<double, 9> cubic{10, 0, 0, 0, 10, 0, 0, 0, 10};

// A single POSDATA with `atoms` declared and `values` positions (need not agree: the decoder
// must fail on the count before it waits for positions).
RawBytes posdata(std::int32_t atoms, const std::array<double, 9>& cell = cubic, std::size_t values = 0) {
    RawBytes raw;
    raw.header("POSDATA");
    for (const double h : cell) {
        raw.f64(h);
    }
    raw.repeat_f64(0.0, 9).i32(atoms).repeat_f64(0.5, values);
    return raw;
}

std::string server_error(const Bytes& bytes, Limits limits = {}) {
    ServerStreamDecoder decoder(limits);
    return protocol_error_of([&] { chorus::protocol::test::decode_all(decoder, bytes); });
}

std::string client_error(const Bytes& bytes, std::optional<std::int32_t> batch = std::nullopt) {
    ClientStreamDecoder decoder;
    decoder.set_batch_size(batch);
    return protocol_error_of([&] { chorus::protocol::test::decode_all(decoder, bytes); });
}

Bytes joined(std::initializer_list<Bytes> parts) {
    Bytes all;
    for (const Bytes& part : parts) {
        all.insert(all.end(), part.begin(), part.end());
    }
    return all;
}

}  // namespace

TEST_CASE("server headers: unknown, not printable, or sent by the wrong party", "[protocol][errors]") {
    CHECK_THAT(
        server_error(RawBytes().header("FOO").bytes()),
        Contains("unknown i-PI header 'FOO         ' (expected STATUS, INIT, POSDATA, GETFORCE or EXIT)"));
    CHECK_THAT(server_error(RawBytes().header("status").bytes()), Contains("'status      '"));
    CHECK_THAT(server_error(RawBytes().text("POS").i32(0).text("DATA ").bytes()),
               Contains("'POS\\x00\\x00\\x00\\x00DATA '") && Contains("not printable"));
    CHECK_THAT(server_error(RawBytes().header("READY").bytes()),
               Contains("'READY'") && Contains("only be sent by the client"));
    CHECK_THAT(server_error(RawBytes().header("FORCEREADY").bytes()), Contains("'FORCEREADY'"));
}

TEST_CASE("client headers: a server header from the client is an error naming it", "[protocol][errors]") {
    CHECK_THAT(client_error(RawBytes().header("STATUS").bytes()),
               Contains("'STATUS'") && Contains("only be sent by the server"));
    CHECK_THAT(client_error(RawBytes().header("DONE").bytes()),
               Contains("'DONE        '") && Contains("expected READY, NEEDINIT, HAVEDATA or FORCEREADY"));
}

TEST_CASE("POSDATA atom counts: negative, zero, over the limit, changed", "[protocol][errors]") {
    CHECK_THAT(server_error(posdata(-5).bytes()), Contains("POSDATA atom count -5 is negative"));
    CHECK_THAT(server_error(posdata(0).bytes()),
               Contains("POSDATA atom count 0") && Contains("at least one atom"));
    CHECK_THAT(server_error(posdata(20'000'000).bytes()),
               Contains("POSDATA atom count 20000000 exceeds the limit of 10000000 (--max-atoms)"));
    CHECK_THAT(server_error(posdata(std::numeric_limits<std::int32_t>::min()).bytes()),
               Contains("-2147483648"));

    const Bytes first = posdata(192, cubic, 3 * 192).bytes();
    const Bytes second = posdata(191, cubic, 3 * 191).bytes();
    CHECK_THAT(server_error(joined({first, second})),
               Contains("POSDATA atom count changed from 192 to 191 on this connection"));
}

TEST_CASE("POSDATA non-finite values in the cell and the positions", "[protocol][errors]") {
    std::array<double, 9> bad_cell = cubic;
    bad_cell[5] = infinity;  // h[1][2]
    CHECK_THAT(server_error(posdata(1, bad_cell, 3).bytes()),
               Contains("non-finite value inf in POSDATA cell h[1][2]"));
    bad_cell[5] = -infinity;
    CHECK_THAT(server_error(posdata(1, bad_cell, 3).bytes()), Contains("-inf") && Contains("h[1][2]"));

    RawBytes raw = posdata(5, cubic, 3 * 3);                     // atoms 0..2 fine
    raw.f64(1.0).f64(not_a_number).f64(1.0).repeat_f64(0.0, 3);  // atom 3, y
    CHECK_THAT(server_error(raw.bytes()),
               Contains("non-finite value nan in POSDATA positions of atom 3 (component y)"));

    // h⁻¹ is not validated: ASE's pinv and other peers' leftovers are ignored.
    RawBytes ignored;
    ignored.header("POSDATA")
        .f64s({1, 0, 0, 0, 1, 0, 0, 0, 1})
        .repeat_f64(not_a_number, 9)
        .i32(1)
        .f64s({0, 0, 0});
    ServerStreamDecoder decoder;
    CHECK(chorus::protocol::test::decode_all(decoder, ignored.bytes()).size() == 1);
}

TEST_CASE("INIT: negative or oversized string length, negative replica id", "[protocol][errors]") {
    CHECK_THAT(server_error(RawBytes().header("INIT").i32(0).i32(-1).bytes()),
               Contains("INIT string length -1 is negative"));
    Limits limits;
    limits.max_init_bytes = 64;
    CHECK_THAT(server_error(RawBytes().header("INIT").i32(0).i32(65).bytes(), limits),
               Contains("INIT string length 65 exceeds the limit of 64 bytes"));
    CHECK_THAT(server_error(RawBytes().header("INIT").i32(-2).i32(0).bytes()),
               Contains("INIT replica id -2"));
    CHECK_THAT(server_error(RawBytes().header("INIT").i32(0).i32(12).text("batch_size:x").bytes()),
               Contains("batch_size:'x'"));
}

TEST_CASE("batched POSDATA: atom count checked with the batch, non-finite values name the structure",
          "[protocol][errors]") {
    const Bytes init = RawBytes().header("INIT").i32(0).i32(12).text("batch_size:4").bytes();
    Limits limits;
    limits.max_atoms = 1000;
    // 300 atoms are fine alone, but 4 × 300 = 1200 exceed what one message may carry.
    CHECK_THAT(server_error(joined({init, RawBytes().header("POSDATA").i32(300).bytes()}), limits),
               Contains("4 structures × 300 atoms = 1200 atoms exceeds the limit of 1000"));
    CHECK_THAT(server_error(joined({init, RawBytes().header("POSDATA").i32(-7).bytes()})),
               Contains("POSDATA atom count -7 is negative"));

    RawBytes cells;
    cells.header("POSDATA").i32(1);
    for (int k = 0; k < 4; ++k) {
        cells.f64s({1, 0, 0, 0, 1, 0, 0, 0, k == 2 ? not_a_number : 1.0}).repeat_f64(0.0, 9);
    }
    CHECK_THAT(server_error(joined({init, cells.bytes()})),
               Contains("non-finite value nan in POSDATA cell h[2][2] of structure 2"));

    RawBytes positions;
    positions.header("POSDATA").i32(2);
    for (int k = 0; k < 4; ++k) {
        positions.f64s({1, 0, 0, 0, 1, 0, 0, 0, 1}).repeat_f64(0.0, 9);
    }
    positions.repeat_f64(0.0, 3 * 2 * 1).repeat_f64(0.0, 5).f64(-infinity);  // structure 1, atom 1, z
    CHECK_THAT(server_error(joined({init, positions.bytes()})),
               Contains("non-finite value -inf in POSDATA positions of atom 1 (component z) of structure 1"));
}

TEST_CASE("FORCEREADY from a client: bad atom counts and extras lengths", "[protocol][errors]") {
    CHECK_THAT(client_error(RawBytes().header("FORCEREADY").f64(0).i32(-3).bytes()),
               Contains("FORCEREADY atom count -3 is negative"));
    CHECK_THAT(client_error(RawBytes().header("FORCEREADY").f64s({0, 0}).i32(0).bytes(), 2),
               Contains("FORCEREADY atom count 0"));
    RawBytes negative_extras;
    negative_extras.header("FORCEREADY").f64(0).i32(1).repeat_f64(0, 3).repeat_f64(0, 9).i32(-4);
    CHECK_THAT(client_error(negative_extras.bytes()),
               Contains("extras length -4 of structure 0 is negative"));
    ClientStreamDecoder decoder;
    CHECK_THAT(protocol_error_of([&] { decoder.set_batch_size(0); }), Contains("batch size 0"));
}

TEST_CASE("after a protocol error the decoder stays failed instead of resynchronising on garbage",
          "[protocol][errors]") {
    ServerStreamDecoder decoder;
    const Bytes bad = RawBytes().header("BAD").bytes();
    CHECK_THAT(protocol_error_of([&] { decoder.feed(bad); }), Contains("'BAD         '"));
    const Bytes status = RawBytes().header("STATUS").bytes();
    CHECK_THAT(protocol_error_of([&] { decoder.feed(status); }), Contains("out of step"));
    CHECK(decoder.bytes_wanted() == 0);
}

TEST_CASE("decoders never allocate from a size before validating it", "[protocol][errors]") {
    // With tiny limits, every count just above them is refused at the count, before any payload.
    Limits limits;
    limits.max_atoms = 4;
    limits.max_init_bytes = 8;
    CHECK_THAT(server_error(posdata(5).bytes(), limits), Contains("5 exceeds the limit of 4"));
    CHECK_THAT(server_error(RawBytes().header("INIT").i32(0).i32(9).bytes(), limits), Contains("9 exceeds"));
    ServerStreamDecoder decoder(limits);
    const Bytes ok = posdata(4).bytes();
    CHECK(decoder.feed(ok) == ok.size());
    CHECK(decoder.bytes_wanted() == 4 * 3 * sizeof(double));  // exactly the positions, nothing more
}
