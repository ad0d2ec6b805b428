// Connection against a real UNIX socket. read_available: nothing yet is 0 without waiting, what has
// arrived is returned, and an orderly close by the peer throws eof as read_some does. write: a
// message that fits the socket's buffer and one far larger (written partly at once, the rest
// asynchronously) both arrive whole and in order.
#include <catch2/catch.hpp>

#include <unistd.h>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <system_error>
#include <thread>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/error.hpp>
#include <asio/io_context.hpp>

#include "chorus/protocol/codec.hpp"
#include "connection.hpp"
#include "ipi_test_server.hpp"

using chorus::server::Connection;
using chorus::server::IpiTestServer;

namespace {

std::string socket_path() {
    static std::atomic<int> counter = 0;
    return "/tmp/chorus-connection-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) +
           ".sock";
}

}  // namespace

TEST_CASE("read_available returns what has arrived without waiting, and eof after a close",
          "[server][connection]") {
    auto server = IpiTestServer::listen_unix(socket_path());
    asio::io_context io_context(1);
    Connection connection(io_context.get_executor());
    bool connected = false;
    asio::co_spawn(
        io_context,
        [&]() -> asio::awaitable<void> {
            co_await connection.connect(server->address());
            connected = true;
        },
        asio::detached);
    std::thread client([&] { io_context.run(); });
    server->accept();
    client.join();
    REQUIRE(connected);

    std::array<std::byte, 64> buffer{};
    const auto started = std::chrono::steady_clock::now();
    CHECK(connection.read_available(buffer) == 0);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(1));  // it did not wait

    const std::array<std::byte, 5> message{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4},
                                           std::byte{5}};
    server->send_bytes(message);
    std::size_t received = 0;
    for (int attempt = 0; attempt < 1000 && received == 0; ++attempt) {
        received = connection.read_available(buffer);
        if (received == 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }
    REQUIRE(received == message.size());
    CHECK(buffer[0] == std::byte{1});
    CHECK(buffer[4] == std::byte{5});
    CHECK(connection.read_available(buffer) == 0);

    server->close_client();
    bool eof = false;
    for (int attempt = 0; attempt < 1000 && !eof; ++attempt) {
        try {
            const std::size_t bytes = connection.read_available(buffer);
            CHECK(bytes == 0);
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        } catch (const std::system_error& error) {
            CHECK(error.code() == asio::error::eof);
            eof = true;
        }
    }
    CHECK(eof);
}

TEST_CASE("write delivers small and large messages whole and in order", "[server][connection]") {
    auto server = IpiTestServer::listen_unix(socket_path());
    asio::io_context io_context(1);
    Connection connection(io_context.get_executor());

    // 200 000 atoms: 4.8 MB of forces, far beyond a UNIX socket's buffer; then a 12-byte READY.
    chorus::protocol::ForceReadyMessage large;
    large.atoms = 200'000;
    large.results.resize(1);
    large.results[0].energy = -1.5;
    large.results[0].forces.resize(3 * 200'000);
    for (std::size_t i = 0; i < large.results[0].forces.size(); ++i) {
        large.results[0].forces[i] = static_cast<double>(i) * 0.25;
    }
    large.results[0].extras = R"({"committee_pot":[1,2]})";
    chorus::protocol::Bytes first;
    chorus::protocol::encode(large, false, first);
    chorus::protocol::Bytes second;
    chorus::protocol::encode(chorus::protocol::StatusReply{}, second);

    bool written = false;
    asio::co_spawn(
        io_context,
        [&]() -> asio::awaitable<void> {
            co_await connection.connect(server->address());
            co_await connection.write(first);
            co_await connection.write(second);
            written = true;
        },
        asio::detached);
    std::thread client([&] { io_context.run(); });
    server->accept();
    const auto received = server->receive();
    const auto status = server->receive();
    client.join();
    REQUIRE(written);

    const auto* forces = std::get_if<chorus::protocol::ForceReadyMessage>(&received);
    REQUIRE(forces != nullptr);
    REQUIRE(forces->results.size() == 1);
    CHECK(forces->results[0].energy == -1.5);
    CHECK(forces->results[0].forces == large.results[0].forces);
    CHECK(forces->results[0].extras == large.results[0].extras);
    const auto* reply = std::get_if<chorus::protocol::StatusReply>(&status);
    REQUIRE(reply != nullptr);
    CHECK(reply->state == chorus::protocol::Header::ready);
}
