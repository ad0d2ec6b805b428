// Every message, both directions, single and batched, against golden bytes in tests/data/protocol.
// The values are exactly representable (powers of two, small integers), so the hex files can be
// checked by hand and were cross-checked once with Python's struct.pack (crosscheck.py there).
#include <catch2/catch.hpp>

#include "protocol_test_support.hpp"

namespace {

using namespace chorus::protocol;
using chorus::protocol::test::check_golden;
using chorus::protocol::test::decode_all;
using chorus::protocol::test::golden_bytes;

template <class Message>
Bytes encoded(const Message& message) {
    Bytes out;
    encode(message, out);
    return out;
}
template <class Message>
Bytes encoded(const Message& message, bool batched) {
    Bytes out;
    encode(message, batched, out);
    return out;
}

// Two atoms in the cell diag(2, 4, 8) Bohr (inverse diag(0.5, 0.25, 0.125), exact).
PosDataMessage single_posdata() {
    PosDataMessage m;
    m.atoms = 2;
    m.structures.push_back({{2, 0, 0, 0, 4, 0, 0, 0, 8}, {0.5, -1.25, 3, 1, 2, -0.125}});
    return m;
}

// A batch of two: a cell that is not upper triangular, and ASE's all-zero "no cell".
PosDataMessage batched_posdata() {
    PosDataMessage m;
    m.atoms = 2;
    m.structures.push_back({{0, 2, 0, 4, 0, 0, 0, 0, 8}, {1, 2, 3, 4, 5, 6}});
    m.structures.push_back({{0, 0, 0, 0, 0, 0, 0, 0, 0}, {-1, -2, -3, -4, -5, -6}});
    return m;
}

ForceReadyMessage single_forceready(std::string extras) {
    ForceReadyMessage m;
    m.atoms = 2;
    m.results.push_back(
        {-1.5, {0.25, -0.5, 1, -1, 0.5, -0.25}, {1, 2, 3, 2, 4, 5, 3, 5, 6}, std::move(extras)});
    return m;
}

ForceReadyMessage batched_forceready() {
    ForceReadyMessage m;
    m.atoms = 1;
    m.results.push_back({-2, {1, 2, 3}, {1, 0, 0, 0, 1, 0, 0, 0, 1}, "{\"a\":1}"});
    m.results.push_back({-4, {-1, -2, -3}, {2, 0, 0, 0, 2, 0, 0, 0, 2}, ""});
    return m;
}

void check_same(const PosDataMessage& a, const PosDataMessage& b) {
    REQUIRE(a.atoms == b.atoms);
    REQUIRE(a.structures.size() == b.structures.size());
    for (std::size_t k = 0; k < a.structures.size(); ++k) {
        CHECK(a.structures[k].cell == b.structures[k].cell);
        CHECK(a.structures[k].positions == b.structures[k].positions);
    }
}

void check_same(const ForceReadyMessage& a, const ForceReadyMessage& b) {
    REQUIRE(a.atoms == b.atoms);
    REQUIRE(a.results.size() == b.results.size());
    for (std::size_t k = 0; k < a.results.size(); ++k) {
        CHECK(a.results[k].energy == b.results[k].energy);
        CHECK(a.results[k].forces == b.results[k].forces);
        CHECK(a.results[k].virial == b.results[k].virial);
        CHECK(a.results[k].extras == b.results[k].extras);
    }
}

template <class Decoder>
auto decode_one(Decoder& decoder, const Bytes& bytes, std::size_t chunk) {
    auto messages = decode_all(decoder, bytes, chunk);
    REQUIRE(messages.size() == 1);
    return std::move(messages.front());
}

}  // namespace

TEST_CASE("golden bytes: header-only messages, both directions", "[protocol][golden]") {
    check_golden("status", "server STATUS", encoded(StatusMessage{}));
    check_golden("getforce", "server GETFORCE", encoded(GetForceMessage{}));
    check_golden("exit", "server EXIT", encoded(ExitMessage{}));
    check_golden("ready", "client READY", encoded(StatusReply{Header::ready}));
    check_golden("needinit", "client NEEDINIT", encoded(StatusReply{Header::need_init}));
    check_golden("havedata", "client HAVEDATA", encoded(StatusReply{Header::have_data}));

    for (const auto& [name, expected] : {std::pair{"status", 0}, {"getforce", 3}, {"exit", 4}}) {
        ServerStreamDecoder decoder;
        const auto message = decode_one(decoder, golden_bytes(name), 0);
        CHECK(static_cast<int>(message.index()) == expected);
    }
    for (const auto& [name, expected] : {std::pair{"ready", Header::ready},
                                         {"needinit", Header::need_init},
                                         {"havedata", Header::have_data}}) {
        ClientStreamDecoder decoder;
        const auto message = decode_one(decoder, golden_bytes(name), 1);
        REQUIRE(std::holds_alternative<StatusReply>(message));
        CHECK(std::get<StatusReply>(message).state == expected);
    }
}

TEST_CASE("golden bytes: INIT", "[protocol][golden]") {
    const InitMessage plain{3, "mode:test"};
    const InitMessage batched{7, "mode:test, batch_size:2"};
    const InitMessage ase{0, std::string(1, '\0')};  // what ASE's sendinit writes
    check_golden("init", "INIT replica 3, 'mode:test'", encoded(plain));
    check_golden("init_batched", "INIT replica 7, 'mode:test, batch_size:2'", encoded(batched));
    check_golden("init_ase", "INIT as ASE sends it: replica 0, one zero byte", encoded(ase));

    for (const InitMessage& m : {plain, batched, ase}) {
        const std::string name = m.replica_id == 3 ? "init" : m.replica_id == 7 ? "init_batched" : "init_ase";
        for (const std::size_t chunk : {0, 1, 5}) {
            ServerStreamDecoder decoder;
            const auto message = decode_one(decoder, golden_bytes(name), chunk);
            REQUIRE(std::holds_alternative<InitMessage>(message));
            CHECK(std::get<InitMessage>(message).replica_id == m.replica_id);
            CHECK(std::get<InitMessage>(message).parameters == m.parameters);
            CHECK(decoder.batch_size() ==
                  (m.replica_id == 7 ? std::optional<std::int32_t>(2) : std::nullopt));
        }
    }
}

TEST_CASE("golden bytes: POSDATA single and batched", "[protocol][golden]") {
    check_golden("posdata_single", "POSDATA: 2 atoms, h = diag(2, 4, 8) Bohr, h^-1 = diag(0.5, 0.25, 0.125)",
                 encoded(single_posdata(), false));
    check_golden("posdata_batched",
                 "batched POSDATA (batch_size:2): 2 atoms; h = [[0,2,0],[4,0,0],[0,0,8]] (inverse "
                 "[[0,0.25,0],[0.5,0,0],[0,0,0.125]]) and the zero cell (inverse written as zeros)",
                 encoded(batched_posdata(), true));

    for (const std::size_t chunk : {0, 1, 13}) {
        ServerStreamDecoder decoder;
        const auto message = decode_one(decoder, golden_bytes("posdata_single"), chunk);
        REQUIRE(std::holds_alternative<PosDataMessage>(message));
        check_same(std::get<PosDataMessage>(message), single_posdata());
        CHECK(decoder.atoms() == 2);
    }
    for (const std::size_t chunk : {0, 1, 13}) {
        ServerStreamDecoder decoder;
        Bytes stream = golden_bytes("init_batched");  // the layout follows the INIT's batch_size
        const Bytes posdata = golden_bytes("posdata_batched");
        stream.insert(stream.end(), posdata.begin(), posdata.end());
        const auto messages = decode_all(decoder, stream, chunk);
        REQUIRE(messages.size() == 2);
        REQUIRE(std::holds_alternative<PosDataMessage>(messages[1]));
        check_same(std::get<PosDataMessage>(messages[1]), batched_posdata());
    }
}

TEST_CASE("golden bytes: FORCEREADY single, with and without extras, and batched", "[protocol][golden]") {
    check_golden("forceready_single", "FORCEREADY: E = -1.5 Ha, 2 atoms, symmetric virial, no extras",
                 encoded(single_forceready(""), false));
    check_golden("forceready_extras",
                 "FORCEREADY: as forceready_single, extras {\"committee_pot\":[1,2]} (22 bytes)",
                 encoded(single_forceready("{\"committee_pot\":[1,2]}"), false));
    check_golden("forceready_batched", "batched FORCEREADY (B = 2): 1 atom, extras {\"a\":1} and empty",
                 encoded(batched_forceready(), true));

    for (const std::size_t chunk : {0, 1, 9}) {
        ClientStreamDecoder decoder;
        auto message = decode_one(decoder, golden_bytes("forceready_single"), chunk);
        check_same(std::get<ForceReadyMessage>(message), single_forceready(""));
        message = decode_one(decoder, golden_bytes("forceready_extras"), chunk);
        check_same(std::get<ForceReadyMessage>(message), single_forceready("{\"committee_pot\":[1,2]}"));
        decoder.set_batch_size(2);
        message = decode_one(decoder, golden_bytes("forceready_batched"), chunk);
        check_same(std::get<ForceReadyMessage>(message), batched_forceready());
    }
}

TEST_CASE("encoders refuse inconsistent messages instead of writing a stream the peer cannot follow",
          "[protocol]") {
    using Catch::Matchers::Contains;
    using chorus::protocol::test::protocol_error_of;
    Bytes out;
    PosDataMessage two = batched_posdata();
    CHECK_THAT(protocol_error_of([&] { encode(two, false, out); }), Contains("2 structures"));
    PosDataMessage wrong = single_posdata();
    wrong.atoms = 3;
    CHECK_THAT(protocol_error_of([&] { encode(wrong, false, out); }),
               Contains("6 values") && Contains("3 atoms"));
    ForceReadyMessage none;
    CHECK_THAT(protocol_error_of([&] { encode(none, true, out); }), Contains("0 structures"));
    CHECK_THAT(protocol_error_of([&] { encode(StatusReply{Header::exit}, out); }), Contains("EXIT"));
    CHECK(out.empty());
}
