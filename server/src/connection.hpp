#pragma once
// One client socket to an i-PI server, UNIX or TCP, behind one type. It owns the socket and
// nothing else: no protocol state, no retries (Session does those).
#include <cstddef>
#include <span>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/generic/stream_protocol.hpp>

#include "address.hpp"

namespace chorus::server {

class Connection {
public:
    explicit Connection(const asio::any_io_executor& executor);

    // Connects (TCP: tries every resolved endpoint, then sets TCP_NODELAY, since every message of
    // the protocol is a small request waiting for an answer). Throws std::system_error.
    asio::awaitable<void> connect(const Address& address);
    // Reads what is available (at least one byte); throws std::system_error (asio::error::eof at
    // an orderly close by the peer).
    asio::awaitable<std::size_t> read_some(std::span<std::byte> buffer);
    // What has already arrived, without waiting: 0 when nothing has. Throws as read_some does.
    std::size_t read_available(std::span<std::byte> buffer);
    asio::awaitable<void> write(std::span<const std::byte> bytes);

    // Closes the socket; pending operations complete with operation_aborted. Never throws.
    void close();
    bool is_open() const { return socket_.is_open(); }

private:
    void make_non_blocking();

    asio::generic::stream_protocol::socket socket_;
};

}  // namespace chorus::server
