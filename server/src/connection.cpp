#include "connection.hpp"

#include <string>
#include <system_error>

#include <asio/buffer.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

namespace chorus::server {

Connection::Connection(const asio::any_io_executor& executor) : socket_(executor) {}

asio::awaitable<void> Connection::connect(const Address& address) {
    close();
    if (address.transport == Transport::unix_socket) {
        const asio::local::stream_protocol::endpoint endpoint(address.path);
        co_await socket_.async_connect(endpoint, asio::use_awaitable);
        co_return;
    }

    asio::ip::tcp::resolver resolver(socket_.get_executor());
    const auto endpoints =
        co_await resolver.async_resolve(address.host, std::to_string(address.port), asio::use_awaitable);
    std::error_code last_error = asio::error::host_not_found;
    for (const auto& entry : endpoints) {
        close();
        try {
            co_await socket_.async_connect(asio::generic::stream_protocol::endpoint(entry.endpoint()),
                                           asio::use_awaitable);
        } catch (const std::system_error& error) {
            last_error = error.code();
            continue;
        }
        socket_.set_option(asio::ip::tcp::no_delay(true));
        co_return;
    }
    close();
    throw std::system_error(last_error);
}

asio::awaitable<std::size_t> Connection::read_some(std::span<std::byte> buffer) {
    co_return co_await socket_.async_read_some(asio::buffer(buffer.data(), buffer.size()),
                                               asio::use_awaitable);
}

std::size_t Connection::read_available(std::span<std::byte> buffer) {
    make_non_blocking();
    std::error_code error;
    const std::size_t bytes = socket_.read_some(asio::buffer(buffer.data(), buffer.size()), error);
    if (error == asio::error::would_block || error == asio::error::try_again) {
        return 0;
    }
    if (error) {
        throw std::system_error(error);
    }
    return bytes;
}

asio::awaitable<void> Connection::write(std::span<const std::byte> bytes) {
    // An answer nearly always fits the socket's buffer: written at once, it skips the trip through
    // the io_context (and its epoll_wait) that completing an asynchronous write costs per message.
    make_non_blocking();
    std::error_code error;
    const std::size_t written = socket_.write_some(asio::buffer(bytes.data(), bytes.size()), error);
    if (error && error != asio::error::would_block && error != asio::error::try_again) {
        throw std::system_error(error);
    }
    const auto rest = bytes.subspan(error ? 0 : written);
    if (!rest.empty()) {
        co_await asio::async_write(socket_, asio::buffer(rest.data(), rest.size()), asio::use_awaitable);
    }
}

void Connection::make_non_blocking() {
    // Asio keeps its own descriptors non-blocking for the asynchronous operations; this only makes
    // the synchronous calls return would_block instead of waiting. Once per socket: the setter
    // issues an ioctl on every call, the getter reads Asio's own flag (reset when a socket opens).
    if (!socket_.non_blocking()) {
        socket_.non_blocking(true);
    }
}

void Connection::close() {
    std::error_code ignored;
    socket_.close(ignored);
}

}  // namespace chorus::server
