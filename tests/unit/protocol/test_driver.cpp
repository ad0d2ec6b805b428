// Whole conversations with the driver, in the orders real servers use, decoded back with the
// client-side decoder so that every reply is checked as a peer would read it.
#include <catch2/catch.hpp>

#include <numeric>

#include "chorus/protocol/driver.hpp"
#include "protocol_test_support.hpp"

namespace {

using namespace chorus::protocol;
using Catch::Matchers::Contains;
using chorus::protocol::test::decode_all;
using chorus::protocol::test::protocol_error_of;

class ServerScript {
public:
    template <class Message>
    ServerScript& send(const Message& message) {
        encode(message, bytes_);
        return *this;
    }
    ServerScript& send(const PosDataMessage& message, bool batched) {
        encode(message, batched, bytes_);
        return *this;
    }
    const Bytes& bytes() const { return bytes_; }

private:
    Bytes bytes_;
};

PosDataMessage structures(std::int32_t atoms, int count, double shift = 0.0) {
    PosDataMessage m;
    m.atoms = atoms;
    for (int k = 0; k < count; ++k) {
        WireStructure s;
        s.cell = {10, 0, 0, 0, 11, 0, 0, 0, 12};
        s.positions.resize(3 * static_cast<std::size_t>(atoms));
        std::iota(s.positions.begin(), s.positions.end(), shift + 100.0 * k);
        m.structures.push_back(std::move(s));
    }
    return m;
}

// A deterministic "model": E = Σx, F = −x, W = diag(structure index), extras name the replica.
std::vector<ForceResult> evaluate(const EvaluationRequest& request) {
    std::vector<ForceResult> results;
    for (std::size_t k = 0; k < request.structures.size(); ++k) {
        const std::vector<double>& x = request.structures[k].positions;
        ForceResult r;
        r.energy = std::accumulate(x.begin(), x.end(), 0.0);
        for (const double xi : x) {
            r.forces.push_back(-xi);
        }
        r.virial = {double(k), 0, 0, 0, double(k), 0, 0, 0, double(k)};
        r.extras = "{\"replica\":" + std::to_string(request.replica_id) + "}";
        results.push_back(std::move(r));
    }
    return results;
}

struct Transcript {
    Bytes replies;
    std::vector<EvaluationRequest> requests;
    DriverState final_state = DriverState::need_init;
    std::size_t consumed = 0;
};

// Feeds `input` in chunks of `chunk` bytes (0: all at once), evaluating every request as soon as it
// is handed out, the way the server loop will.
Transcript converse(const Bytes& input, std::size_t chunk, DriverOptions options = {}) {
    Driver driver(options);
    Transcript t;
    std::size_t at = 0;
    while (at < input.size() && driver.state() != DriverState::exited) {
        const std::size_t size = chunk == 0 ? input.size() - at : std::min(chunk, input.size() - at);
        const std::size_t consumed = driver.feed(std::span(input).subspan(at, size));
        at += consumed;
        if (auto request = driver.take_request()) {
            REQUIRE(driver.state() == DriverState::computing);
            REQUIRE(driver.bytes_wanted() == 0);
            REQUIRE(driver.feed(std::span(input).subspan(at)) == 0);  // no reading while computing
            driver.deliver(evaluate(*request));
            t.requests.push_back(std::move(*request));
        } else if (driver.state() != DriverState::exited) {
            REQUIRE(consumed == size);
        }
        Bytes& out = driver.outgoing();
        t.replies.insert(t.replies.end(), out.begin(), out.end());
        out.clear();
    }
    t.final_state = driver.state();
    t.consumed = at;
    return t;
}

std::vector<ClientMessage> replies_of(const Transcript& t, std::optional<std::int32_t> batch = std::nullopt) {
    ClientStreamDecoder decoder;
    decoder.set_batch_size(batch);
    return decode_all(decoder, t.replies);
}

Header status_of(const ClientMessage& m) {
    REQUIRE(std::holds_alternative<StatusReply>(m));
    return std::get<StatusReply>(m).state;
}

void check_answer(const ClientMessage& m, const EvaluationRequest& request) {
    REQUIRE(std::holds_alternative<ForceReadyMessage>(m));
    const auto& answer = std::get<ForceReadyMessage>(m);
    const auto expected = evaluate(request);
    CHECK(answer.atoms == request.atoms);
    REQUIRE(answer.results.size() == expected.size());
    for (std::size_t k = 0; k < expected.size(); ++k) {
        CHECK(answer.results[k].energy == expected[k].energy);
        CHECK(answer.results[k].forces == expected[k].forces);
        CHECK(answer.results[k].virial == expected[k].virial);
        CHECK(answer.results[k].extras == expected[k].extras);
    }
}

// i-PI 3: STATUS, INIT, STATUS, then POSDATA+GETFORCE in one write, STATUS after every answer.
Bytes ipi_conversation() {
    ServerScript s;
    s.send(StatusMessage{}).send(InitMessage{5, ""}).send(StatusMessage{});
    s.send(structures(4, 1), false).send(GetForceMessage{}).send(StatusMessage{});
    s.send(structures(4, 1, 0.5), false).send(GetForceMessage{}).send(StatusMessage{});
    s.send(ExitMessage{});
    return s.bytes();
}

}  // namespace

TEST_CASE("driver: i-PI order, POSDATA and GETFORCE back to back", "[protocol][driver]") {
    const Transcript t = converse(ipi_conversation(), 0);
    CHECK(t.final_state == DriverState::exited);
    REQUIRE(t.requests.size() == 2);
    CHECK(t.requests[0].replica_id == 5);
    CHECK(t.requests[0].atoms == 4);
    CHECK_FALSE(t.requests[0].batched);
    CHECK(t.requests[0].structures[0].positions == structures(4, 1).structures[0].positions);
    CHECK(t.requests[0].structures[0].cell == structures(4, 1).structures[0].cell);

    const auto replies = replies_of(t);
    REQUIRE(replies.size() == 6);
    CHECK(status_of(replies[0]) == Header::need_init);
    CHECK(status_of(replies[1]) == Header::ready);
    check_answer(replies[2], t.requests[0]);
    CHECK(status_of(replies[3]) == Header::ready);
    check_answer(replies[4], t.requests[1]);
    CHECK(status_of(replies[5]) == Header::ready);
}

TEST_CASE("driver: ASE order, STATUS between POSDATA and GETFORCE, INIT with one zero byte",
          "[protocol][driver]") {
    ServerScript s;
    s.send(StatusMessage{}).send(InitMessage{0, std::string(1, '\0')}).send(StatusMessage{});
    s.send(structures(3, 1), false).send(StatusMessage{}).send(GetForceMessage{});
    s.send(StatusMessage{}).send(structures(3, 1, 1.0), false).send(StatusMessage{}).send(GetForceMessage{});
    s.send(ExitMessage{});
    const Transcript t = converse(s.bytes(), 0);
    REQUIRE(t.requests.size() == 2);
    CHECK(t.requests[0].replica_id == 0);
    const auto replies = replies_of(t);
    REQUIRE(replies.size() == 7);
    CHECK(status_of(replies[0]) == Header::need_init);
    CHECK(status_of(replies[1]) == Header::ready);
    CHECK(status_of(replies[2]) == Header::have_data);
    check_answer(replies[3], t.requests[0]);
    CHECK(status_of(replies[4]) == Header::ready);
    CHECK(status_of(replies[5]) == Header::have_data);
    check_answer(replies[6], t.requests[1]);
}

TEST_CASE("driver: batched conversation after INIT with batch_size", "[protocol][driver]") {
    ServerScript s;
    s.send(StatusMessage{}).send(InitMessage{2, " batch_size:3"}).send(StatusMessage{});
    s.send(structures(2, 3), true).send(GetForceMessage{}).send(StatusMessage{}).send(ExitMessage{});
    const Transcript t = converse(s.bytes(), 0);
    REQUIRE(t.requests.size() == 1);
    CHECK(t.requests[0].batched);
    CHECK(t.requests[0].replica_id == 2);
    REQUIRE(t.requests[0].structures.size() == 3);
    CHECK(t.requests[0].structures[2].positions == structures(2, 3).structures[2].positions);

    const auto replies = replies_of(t, 3);
    REQUIRE(replies.size() == 4);
    check_answer(replies[2], t.requests[0]);
    CHECK(status_of(replies[3]) == Header::ready);
}

TEST_CASE("driver: track_beads asks for INIT after every answer and reports each bead",
          "[protocol][driver]") {
    ServerScript s;
    s.send(StatusMessage{}).send(InitMessage{4, ""}).send(structures(1, 1), false).send(GetForceMessage{});
    s.send(StatusMessage{}).send(InitMessage{9, ""}).send(structures(1, 1), false).send(GetForceMessage{});
    // a server that ignores NEEDINIT: the bead of this request is unknown
    s.send(StatusMessage{}).send(structures(1, 1), false).send(GetForceMessage{}).send(ExitMessage{});
    DriverOptions options;
    options.track_beads = true;
    const Transcript t = converse(s.bytes(), 0, options);
    REQUIRE(t.requests.size() == 3);
    CHECK(t.requests[0].replica_id == 4);
    CHECK(t.requests[1].replica_id == 9);
    CHECK(t.requests[2].replica_id == -1);
    const auto replies = replies_of(t);
    REQUIRE(replies.size() == 6);
    CHECK(status_of(replies[0]) == Header::need_init);
    CHECK(status_of(replies[2]) == Header::need_init);
    CHECK(status_of(replies[4]) == Header::need_init);

    // without track_beads the same stream keeps the first id and answers READY
    const Transcript plain = converse(s.bytes(), 0);
    CHECK(plain.requests[2].replica_id == 9);
    CHECK(status_of(replies_of(plain)[2]) == Header::ready);
}

TEST_CASE("driver: a server that never sends INIT still gets answers (replica id -1)", "[protocol][driver]") {
    ServerScript s;
    s.send(structures(2, 1), false).send(GetForceMessage{}).send(StatusMessage{});
    const Transcript t = converse(s.bytes(), 0);
    REQUIRE(t.requests.size() == 1);
    CHECK(t.requests[0].replica_id == -1);
    const auto replies = replies_of(t);
    REQUIRE(replies.size() == 2);
    CHECK(status_of(replies[1]) == Header::ready);
}

TEST_CASE("driver: feeding one byte at a time, or in odd chunks, gives the same conversation",
          "[protocol][driver]") {
    const Bytes input = ipi_conversation();
    const Transcript whole = converse(input, 0);
    for (const std::size_t chunk : {1, 2, 7, 12, 100}) {
        const Transcript pieces = converse(input, chunk);
        CHECK(pieces.replies == whole.replies);
        CHECK(pieces.requests.size() == whole.requests.size());
        CHECK(pieces.final_state == DriverState::exited);
    }
}

TEST_CASE("driver: feed stops at a handed-out request and at EXIT", "[protocol][driver]") {
    Bytes posdata, getforce;
    encode(structures(2, 1), false, posdata);
    encode(GetForceMessage{}, getforce);
    Bytes input = posdata;
    input.insert(input.end(), getforce.begin(), getforce.end());

    Driver driver;
    CHECK(driver.bytes_wanted() == header_size);
    CHECK(driver.feed(input) == posdata.size());
    CHECK(driver.state() == DriverState::computing);
    auto request = driver.take_request();
    REQUIRE(request);
    CHECK_FALSE(driver.take_request());  // handed out once
    driver.deliver(evaluate(*request));
    CHECK(driver.state() == DriverState::have_data);
    CHECK(driver.outgoing().empty());  // nothing is sent before GETFORCE
    CHECK(driver.feed(std::span(input).subspan(posdata.size())) == getforce.size());
    CHECK(driver.state() == DriverState::ready);
    CHECK_FALSE(driver.outgoing().empty());

    Bytes tail;
    encode(ExitMessage{}, tail);
    encode(StatusMessage{}, tail);
    CHECK(driver.feed(tail) == header_size);  // the STATUS after EXIT is not consumed
    CHECK(driver.state() == DriverState::exited);
    CHECK(driver.bytes_wanted() == 0);
    CHECK(driver.feed(tail) == 0);
}

TEST_CASE("driver: INIT parameters and batch size are exposed", "[protocol][driver]") {
    Driver driver;
    Bytes init;
    encode(InitMessage{1, "mode:x, batch_size:2"}, init);
    CHECK(driver.feed(init) == init.size());
    CHECK(driver.replica_id() == 1);
    CHECK(driver.init_parameters().batch_size == 2);
    REQUIRE(driver.init_parameters().items.size() == 2);
    CHECK(driver.init_parameters().items[0].first == "mode");
}

TEST_CASE("driver: out-of-order messages and wrong deliveries are protocol errors", "[protocol][driver]") {
    Bytes getforce, posdata, init;
    encode(GetForceMessage{}, getforce);
    encode(structures(2, 1), false, posdata);
    encode(InitMessage{0, ""}, init);

    SECTION("GETFORCE before any POSDATA") {
        Driver driver;
        CHECK_THAT(protocol_error_of([&] { driver.feed(getforce); }),
                   Contains("GETFORCE") && Contains("need_init"));
    }
    SECTION("POSDATA or INIT while results wait for GETFORCE") {
        for (const Bytes* second : {&posdata, &init}) {
            Driver driver;
            driver.feed(posdata);
            driver.deliver(evaluate(*driver.take_request()));
            CHECK_THAT(protocol_error_of([&] { driver.feed(*second); }), Contains("wait for GETFORCE"));
        }
    }
    SECTION("deliver with the wrong number of results or atoms, or when nothing was asked") {
        Driver driver;
        CHECK_THAT(protocol_error_of([&] { driver.deliver({}); }), Contains("need_init"));
        driver.feed(posdata);
        auto results = evaluate(*driver.take_request());
        auto two = results;
        two.push_back(results.front());
        CHECK_THAT(protocol_error_of([&] { driver.deliver(two); }),
                   Contains("got 2 results") && Contains("1 structures"));
        auto short_forces = results;
        short_forces.front().forces.pop_back();
        CHECK_THAT(protocol_error_of([&] { driver.deliver(short_forces); }),
                   Contains("got 5 force components") && Contains("2 atoms"));
        driver.deliver(results);  // the right answer is still accepted
        CHECK(driver.state() == DriverState::have_data);
    }
    SECTION("a batched request needs B results") {
        Driver driver;
        Bytes batched;
        encode(InitMessage{0, "batch_size:2"}, batched);
        encode(structures(2, 2), true, batched);
        CHECK(driver.feed(batched) == batched.size());
        const auto request = driver.take_request();
        REQUIRE(request);
        CHECK_THAT(protocol_error_of([&] { driver.deliver({evaluate(*request).front()}); }),
                   Contains("got 1 results") && Contains("2 structures"));
    }
}
