#include "control_connection.hpp"

#include <system_error>
#include <variant>

#include <asio/buffer.hpp>
#include <asio/error.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/read_until.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

namespace chorus::server {

ControlConnection::ControlConnection(asio::generic::stream_protocol::socket socket)
    : socket_(std::move(socket)), timer_(socket_.get_executor()) {}

asio::awaitable<ControlConnection::ReadResult> ControlConnection::read_line(
    std::string& line, std::size_t limit, std::chrono::steady_clock::duration timeout) {
    using namespace asio::experimental::awaitable_operators;
    timer_.expires_after(timeout);
    std::error_code error;
    // The dynamic buffer's maximum makes async_read_until stop with not_found at `limit` bytes
    // without a newline, so a client cannot make the server buffer without bound.
    auto read = asio::async_read_until(socket_, asio::dynamic_buffer(buffer_, limit + 1), '\n',
                                       asio::redirect_error(asio::use_awaitable, error));
    std::error_code timer_error;
    auto result = co_await (std::move(read) ||
                            timer_.async_wait(asio::redirect_error(asio::use_awaitable, timer_error)));
    if (result.index() == 1) {
        co_return ReadResult::timed_out;
    }
    if (error == asio::error::not_found) {
        co_return ReadResult::too_long;
    }
    if (error) {
        co_return ReadResult::closed;
    }
    const std::size_t length = std::get<0>(result);
    line.assign(buffer_, 0, length - 1);
    buffer_.erase(0, length);
    co_return ReadResult::line;
}

asio::awaitable<bool> ControlConnection::write(const std::string& text,
                                               std::chrono::steady_clock::duration timeout) {
    using namespace asio::experimental::awaitable_operators;
    timer_.expires_after(timeout);
    std::error_code error;
    std::error_code timer_error;
    auto result = co_await (
        asio::async_write(socket_, asio::buffer(text), asio::redirect_error(asio::use_awaitable, error)) ||
        timer_.async_wait(asio::redirect_error(asio::use_awaitable, timer_error)));
    if (result.index() == 1 || error) {
        close();
        co_return false;
    }
    co_return true;
}

void ControlConnection::close() {
    std::error_code ignored;
    socket_.shutdown(asio::socket_base::shutdown_both, ignored);
    socket_.close(ignored);
}

}  // namespace chorus::server
