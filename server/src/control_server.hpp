#pragma once
// `chorus serve --control ADDR`: the control API's listener (README "Control API"). It runs on
// its own thread and io_context, so nothing a control client does — connecting, sending garbage,
// never reading — can delay a force answer: the evaluation path only writes into the LiveStore.
// Bounds: at most `max_clients` clients (more get one error line and are closed), request lines of
// max_control_request_bytes, `write_timeout` per response, `idle_timeout` between requests.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <asio/awaitable.hpp>
#include <asio/basic_socket_acceptor.hpp>
#include <asio/generic/stream_protocol.hpp>
#include <asio/io_context.hpp>

#include "control_address.hpp"
#include "control_handler.hpp"

namespace chorus::server {

class ControlConnection;

struct ControlServerOptions {
    std::size_t max_clients = 16;
    std::chrono::steady_clock::duration write_timeout = std::chrono::seconds(5);
    std::chrono::steady_clock::duration idle_timeout = std::chrono::minutes(10);
};

class ControlServer {
public:
    // Binds and listens (so a client may connect as soon as this returns) and starts the thread.
    // Throws ConfigError: a refused UNIX path (control_address.hpp), a TCP address that is not
    // loopback without a token, an address that cannot be bound.
    ControlServer(const ControlAddress& address, ControlHandler handler, ControlServerOptions options);
    ControlServer(const ControlAddress& address, ControlHandler handler)
        : ControlServer(address, std::move(handler), ControlServerOptions{}) {}
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    // "unix:/path" or "tcp:127.0.0.1:PORT" with the port actually bound.
    const std::string& endpoint() const { return endpoint_; }

    // Closes the listener and every client, joins the thread, removes the UNIX socket file.
    void stop();

private:
    asio::awaitable<void> accept_loop();
    asio::awaitable<void> serve_client(std::shared_ptr<ControlConnection> connection);
    asio::awaitable<void> refuse_client(std::shared_ptr<ControlConnection> connection);

    asio::io_context io_context_;
    asio::basic_socket_acceptor<asio::generic::stream_protocol> acceptor_;
    ControlHandler handler_;
    ControlServerOptions options_;
    std::string endpoint_;
    std::string unix_path_;  // to remove at stop()
    std::uint64_t clients_ = 0;
    bool stopped_ = false;
    std::thread thread_;
};

}  // namespace chorus::server
