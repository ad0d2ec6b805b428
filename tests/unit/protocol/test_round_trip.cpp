// Property tests: random messages, encoded and decoded in random chunks, come back bit for bit;
// the h⁻¹ written by the encoder is the inverse of h.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "protocol_test_support.hpp"

namespace {

using namespace chorus::protocol;
using chorus::protocol::test::same_bits;

class RandomMessages {
public:
    explicit RandomMessages(std::uint32_t seed) : rng_(seed) {}

    int integer(int low, int high) { return std::uniform_int_distribution<int>(low, high)(rng_); }

    // Finite doubles across many magnitudes and both signs, including ±0 and subnormals.
    double value() {
        switch (integer(0, 5)) {
            case 0:
                return integer(0, 1) ? 0.0 : -0.0;
            case 1:
                return std::numeric_limits<double>::denorm_min() * integer(1, 1000);
            default:
                return std::ldexp(std::uniform_real_distribution<double>(-1, 1)(rng_), integer(-300, 300));
        }
    }
    std::vector<double> values(std::size_t count) {
        std::vector<double> v(count);
        for (double& x : v) {
            x = value();
        }
        return v;
    }
    std::string bytes(std::size_t count) {  // any bytes, NUL and non-UTF-8 included
        std::string s(count, '\0');
        for (char& c : s) {
            c = static_cast<char>(integer(0, 255));
        }
        return s;
    }

    PosDataMessage posdata(int structures) {
        PosDataMessage m;
        m.atoms = integer(1, 40);
        for (int k = 0; k < structures; ++k) {
            WireStructure s;
            const auto cell = values(9);
            std::copy(cell.begin(), cell.end(), s.cell.begin());
            s.positions = values(3 * static_cast<std::size_t>(m.atoms));
            m.structures.push_back(std::move(s));
        }
        return m;
    }

    ForceReadyMessage forceready(int structures) {
        ForceReadyMessage m;
        m.atoms = integer(1, 40);
        for (int k = 0; k < structures; ++k) {
            ForceResult r;
            r.energy = value();
            r.forces = values(3 * static_cast<std::size_t>(m.atoms));
            const auto virial = values(9);
            std::copy(virial.begin(), virial.end(), r.virial.begin());
            r.extras = bytes(static_cast<std::size_t>(integer(0, 3) == 0 ? 0 : integer(1, 300)));
            m.results.push_back(std::move(r));
        }
        return m;
    }

    // Feeds `bytes` in random chunk sizes; returns the messages decoded.
    template <class Decoder>
    auto decode(Decoder& decoder, const Bytes& bytes) {
        using Message = typename decltype(decoder.take())::value_type;
        std::vector<Message> messages;
        std::size_t at = 0;
        while (at < bytes.size()) {
            const auto size =
                std::min<std::size_t>(static_cast<std::size_t>(integer(1, 64)), bytes.size() - at);
            const std::size_t wanted = decoder.bytes_wanted();
            const std::size_t consumed = decoder.feed(std::span(bytes).subspan(at, size));
            // bytes_wanted() is a lower bound that never reaches into the next message: giving
            // fewer is all consumed, giving more consumes at least that many.
            if (size <= wanted) {
                REQUIRE(consumed == size);
            } else {
                REQUIRE(consumed >= wanted);
            }
            at += consumed;
            if (auto message = decoder.take()) {
                messages.push_back(std::move(*message));
            }
        }
        return messages;
    }

private:
    std::mt19937 rng_;
};

template <std::size_t N>
bool same_bits(const std::array<double, N>& a, const std::array<double, N>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), [](double x, double y) { return same_bits(x, y); });
}
bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](double x, double y) { return same_bits(x, y); });
}

}  // namespace

TEST_CASE("round trip: random INIT and POSDATA messages, single and batched", "[protocol][property]") {
    RandomMessages random(20261123);
    for (int trial = 0; trial < 200; ++trial) {
        const bool batched = random.integer(0, 1) == 1;
        const int batch = batched ? random.integer(2, 6) : 1;
        InitMessage init{random.integer(0, 1000),
                         random.bytes(static_cast<std::size_t>(random.integer(0, 20)))};
        // Random text cut at a NUL, then a batch_size when batching: parsing must find it either way.
        init.parameters = init.parameters.substr(0, init.parameters.find('\0'));
        std::replace(init.parameters.begin(), init.parameters.end(), ',', ';');
        std::replace(init.parameters.begin(), init.parameters.end(), ':', '=');
        if (batched) {
            init.parameters += ",batch_size:" + std::to_string(batch);
        }
        const PosDataMessage posdata = random.posdata(batch);

        Bytes stream;
        encode(init, stream);
        encode(posdata, batched, stream);
        encode(GetForceMessage{}, stream);

        ServerStreamDecoder decoder;
        const auto messages = random.decode(decoder, stream);
        REQUIRE(messages.size() == 3);
        const auto& init_back = std::get<InitMessage>(messages[0]);
        CHECK(init_back.replica_id == init.replica_id);
        CHECK(init_back.parameters == init.parameters);
        CHECK(decoder.batch_size() == (batched ? std::optional<std::int32_t>(batch) : std::nullopt));
        const auto& back = std::get<PosDataMessage>(messages[1]);
        REQUIRE(back.atoms == posdata.atoms);
        REQUIRE(back.structures.size() == posdata.structures.size());
        for (std::size_t k = 0; k < back.structures.size(); ++k) {
            CHECK(same_bits(back.structures[k].cell, posdata.structures[k].cell));
            CHECK(same_bits(back.structures[k].positions, posdata.structures[k].positions));
        }
        CHECK(std::holds_alternative<GetForceMessage>(messages[2]));
    }
}

TEST_CASE("round trip: random FORCEREADY messages, single and batched, with extras", "[protocol][property]") {
    RandomMessages random(7);
    for (int trial = 0; trial < 200; ++trial) {
        const bool batched = random.integer(0, 1) == 1;
        const int batch = batched ? random.integer(1, 6) : 1;
        const ForceReadyMessage message = random.forceready(batch);
        Bytes stream;
        encode(StatusReply{Header::have_data}, stream);
        encode(message, batched, stream);

        ClientStreamDecoder decoder;
        decoder.set_batch_size(batched ? std::optional<std::int32_t>(batch) : std::nullopt);
        const auto messages = random.decode(decoder, stream);
        REQUIRE(messages.size() == 2);
        CHECK(std::get<StatusReply>(messages[0]).state == Header::have_data);
        const auto& back = std::get<ForceReadyMessage>(messages[1]);
        REQUIRE(back.atoms == message.atoms);
        REQUIRE(back.results.size() == message.results.size());
        for (std::size_t k = 0; k < back.results.size(); ++k) {
            CHECK(same_bits(back.results[k].energy, message.results[k].energy));
            CHECK(same_bits(back.results[k].forces, message.results[k].forces));
            CHECK(same_bits(back.results[k].virial, message.results[k].virial));
            CHECK(back.results[k].extras == message.results[k].extras);
        }
    }
}

TEST_CASE("the h⁻¹ the encoder writes is the inverse of h; zeros for a singular h", "[protocol][property]") {
    std::mt19937 rng(42);
    std::uniform_real_distribution<double> entry(-20, 20);
    const auto written_inverse = [](const std::array<double, 9>& h) {
        PosDataMessage m;
        m.atoms = 1;
        m.structures.push_back({h, {0, 0, 0}});
        Bytes bytes;
        encode(m, false, bytes);
        std::array<double, 9> inverse{};
        std::memcpy(inverse.data(), bytes.data() + header_size + 72, 72);  // after the header and h
        return inverse;
    };
    for (int trial = 0; trial < 100; ++trial) {
        std::array<double, 9> h{};
        for (double& x : h) {
            x = entry(rng);
        }
        const auto inverse = written_inverse(h);
        for (int i = 0; i < 3; ++i) {
            for (int j = 0; j < 3; ++j) {
                double product = 0;  // (h · h⁻¹)[i][j], row-major
                for (int k = 0; k < 3; ++k) {
                    product +=
                        h[static_cast<std::size_t>(3 * i + k)] * inverse[static_cast<std::size_t>(3 * k + j)];
                }
                CHECK(product == Approx(i == j ? 1.0 : 0.0).margin(1e-9));
            }
        }
    }
    const std::array<double, 9> flat{1, 2, 3, 2, 4, 6, 0, 0, 1};  // rows 0 and 1 are parallel
    CHECK(written_inverse(flat) == std::array<double, 9>{});
    CHECK(written_inverse({}) == std::array<double, 9>{});
}

TEST_CASE("random and mutated byte streams either decode or throw ProtocolError, never worse",
          "[protocol][property]") {
    // A poor man's fuzzer (run it under -DCHORUS_SANITIZERS=address,undefined): valid streams with
    // random bytes overwritten, and pure noise, in random chunks. Small limits bound allocation.
    Limits limits;
    limits.max_atoms = 64;
    limits.max_init_bytes = 64;
    limits.max_batch_size = 4;
    limits.max_extras_bytes = 64;
    RandomMessages random(99);
    const auto run = [&](auto decoder, Bytes bytes) {
        try {
            random.decode(decoder, bytes);
        } catch (const chorus::ProtocolError&) {
        }
    };
    for (int trial = 0; trial < 2000; ++trial) {
        Bytes server, client;
        encode(InitMessage{1, trial % 2 ? "batch_size:2" : ""}, server);
        encode(random.posdata(trial % 2 ? 2 : 1), trial % 2 == 1, server);
        encode(StatusMessage{}, server);
        encode(random.forceready(1), false, client);
        for (Bytes* bytes : {&server, &client}) {
            const int flips = random.integer(1, 4);
            for (int f = 0; f < flips; ++f) {
                const auto at =
                    static_cast<std::size_t>(random.integer(0, static_cast<int>(bytes->size()) - 1));
                (*bytes)[at] = static_cast<std::byte>(random.integer(0, 255));
            }
        }
        run(ServerStreamDecoder(limits), server);
        ClientStreamDecoder client_decoder(limits);
        client_decoder.set_batch_size(trial % 3 == 0 ? std::optional<std::int32_t>(2) : std::nullopt);
        run(client_decoder, client);
        Bytes noise(static_cast<std::size_t>(random.integer(1, 200)));
        for (std::byte& b : noise) {
            b = static_cast<std::byte>(random.integer(0, 255));
        }
        run(ServerStreamDecoder(limits), noise);
        run(ClientStreamDecoder(limits), noise);
    }
    SUCCEED("no crash, no other exception type");
}
