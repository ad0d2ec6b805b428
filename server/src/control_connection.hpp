#pragma once
// One client of the control API, UNIX or TCP: it owns the socket and nothing else (the request
// meaning is ControlHandler's, the client cap and life ControlServer's). Every operation is bounded
// in time and size, so a client that never reads or never sends cannot hold the server.
#include <chrono>
#include <optional>
#include <string>

#include <asio/awaitable.hpp>
#include <asio/generic/stream_protocol.hpp>
#include <asio/steady_timer.hpp>

namespace chorus::server {

class ControlConnection {
public:
    enum class ReadResult { line, closed, too_long, timed_out };

    explicit ControlConnection(asio::generic::stream_protocol::socket socket);

    // Reads up to and including the next '\n' into `line` (without it). `too_long` when no newline
    // came within `limit` bytes; `closed` at EOF or a socket error; `timed_out` after `timeout`.
    asio::awaitable<ReadResult> read_line(std::string& line, std::size_t limit,
                                          std::chrono::steady_clock::duration timeout);
    // Writes all of `text`; false (and the socket closed) when it failed or took longer than
    // `timeout` (a client that does not read).
    asio::awaitable<bool> write(const std::string& text, std::chrono::steady_clock::duration timeout);

    void close();

private:
    asio::generic::stream_protocol::socket socket_;
    asio::steady_timer timer_;
    std::string buffer_;  // bytes read past the last line
};

}  // namespace chorus::server
