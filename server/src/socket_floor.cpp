#include "socket_floor.hpp"

#include <chrono>
#include <thread>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/connect_pair.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

namespace chorus::server {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int warm_up_calls = 20;

// Reads exactly `bytes`, spinning on a non-blocking socket; false at end of stream.
template <typename Socket>
bool spin_read(Socket& socket, std::vector<char>& buffer) {
    std::size_t done = 0;
    while (done < buffer.size()) {
        std::error_code error;
        done += socket.read_some(asio::buffer(buffer.data() + done, buffer.size() - done), error);
        if (error == asio::error::eof) {
            return false;
        }
        if (error && error != asio::error::would_block && error != asio::error::try_again) {
            throw std::system_error(error);
        }
    }
    return true;
}

// Writes every byte on the non-blocking socket, spinning while the peer's buffer is full.
template <typename Socket>
void spin_write(Socket& socket, const std::vector<char>& buffer) {
    std::size_t done = 0;
    while (done < buffer.size()) {
        std::error_code error;
        done += socket.write_some(asio::buffer(buffer.data() + done, buffer.size() - done), error);
        if (error && error != asio::error::would_block && error != asio::error::try_again) {
            throw std::system_error(error);
        }
    }
}

template <typename Socket>
std::vector<double> exchange(Socket& asking, Socket& answering, const SocketFloorSettings& settings) {
    answering.non_blocking(true);
    const auto busy = std::chrono::duration<double, std::micro>(settings.busy_us);
    std::thread answerer([&] {
        std::vector<char> request(settings.request_bytes);
        const std::vector<char> answer(settings.answer_bytes, '\1');
        try {
            while (spin_read(answering, request)) {
                const auto start = Clock::now();
                while (Clock::now() - start < busy) {
                }
                spin_write(answering, answer);
            }
        } catch (const std::system_error&) {
            // The asking side closed mid-answer (the measurement is over), or this side failed:
            // closing ends the asking side's read with an error instead of leaving it waiting.
            std::error_code ignored;
            answering.close(ignored);
        }
    });
    const std::vector<char> request(settings.request_bytes, '\2');
    std::vector<char> answer(settings.answer_bytes);
    std::vector<double> microseconds;
    for (int call = -warm_up_calls; call < settings.calls; ++call) {
        const auto start = Clock::now();
        asio::write(asking, asio::buffer(request));
        asio::read(asking, asio::buffer(answer));
        const double wall = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
        if (call >= 0) {
            microseconds.push_back(wall - settings.busy_us);
        }
    }
    std::error_code ignored;
    asking.shutdown(Socket::shutdown_both, ignored);
    asking.close(ignored);
    answerer.join();
    return microseconds;
}

}  // namespace

std::vector<double> time_socket_floor(const SocketFloorSettings& settings) {
    asio::io_context io_context(1);
    if (settings.over_tcp) {
        asio::ip::tcp::acceptor acceptor(io_context,
                                         asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0));
        asio::ip::tcp::socket asking(io_context);
        asio::ip::tcp::socket answering(io_context);
        asking.connect(acceptor.local_endpoint());
        acceptor.accept(answering);
        // As serve's and the stand-in's TCP sockets: no Nagle delay on the small messages.
        asking.set_option(asio::ip::tcp::no_delay(true));
        answering.set_option(asio::ip::tcp::no_delay(true));
        return exchange(asking, answering, settings);
    }
    asio::local::stream_protocol::socket asking(io_context);
    asio::local::stream_protocol::socket answering(io_context);
    asio::local::connect_pair(asking, answering);
    return exchange(asking, answering, settings);
}

}  // namespace chorus::server
