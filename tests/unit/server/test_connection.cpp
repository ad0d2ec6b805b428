// Connection::read_available against a real UNIX socket: nothing yet is 0 without waiting, what has
// arrived is returned, and an orderly close by the peer throws eof as read_some does.
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

#include "connection.hpp"
#include "ipi_test_server.hpp"

using chorus::server::Connection;
using chorus::server::IpiTestServer;

TEST_CASE("read_available returns what has arrived without waiting, and eof after a close",
          "[server][connection]") {
    static std::atomic<int> counter = 0;
    auto server = IpiTestServer::listen_unix("/tmp/chorus-connection-test-" + std::to_string(::getpid()) +
                                             "-" + std::to_string(counter++) + ".sock");
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
