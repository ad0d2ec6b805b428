#include "control_server.hpp"

#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

#include "chorus/error.hpp"
#include "control_connection.hpp"
#include "control_request.hpp"

namespace chorus::server {
namespace {

void log_unexpected(std::exception_ptr error) {
    if (!error) {
        return;
    }
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& exception) {
        spdlog::error("control: a client handler failed: {}", exception.what());
    } catch (...) {
        spdlog::error("control: a client handler failed");
    }
}

}  // namespace

ControlServer::ControlServer(const ControlAddress& address, ControlHandler handler,
                             ControlServerOptions options)
    : io_context_(1), acceptor_(io_context_), handler_(std::move(handler)), options_(options) {
    try {
        if (address.tcp) {
            asio::ip::address ip;
            try {
                ip = address.host == "localhost" ? asio::ip::make_address("127.0.0.1")
                                                 : asio::ip::make_address(address.host);
            } catch (const std::system_error&) {
                throw ConfigError(
                    fmt::format("control address '{}': give an IP address (e.g. 127.0.0.1), not "
                                "a host name",
                                address.text));
            }
            const asio::ip::tcp::endpoint endpoint(ip, address.port);
            acceptor_.open(asio::generic::stream_protocol(endpoint.protocol()));
            acceptor_.set_option(asio::socket_base::reuse_address(true));
            acceptor_.bind(asio::generic::stream_protocol::endpoint(endpoint));
            acceptor_.listen();
            const auto local = acceptor_.local_endpoint();
            const auto* bound = reinterpret_cast<const sockaddr_in*>(local.data());
            const std::uint16_t port = ntohs(bound->sin_port);  // sin6_port is at the same offset
            endpoint_ = ip.is_v6() ? fmt::format("tcp:[{}]:{}", ip.to_string(), port)
                                   : fmt::format("tcp:{}:{}", ip.to_string(), port);
        } else {
            claim_control_socket_path(address.path);
            const asio::local::stream_protocol::endpoint endpoint(address.path);
            acceptor_.open(asio::generic::stream_protocol(AF_UNIX, SOCK_STREAM));
            acceptor_.bind(asio::generic::stream_protocol::endpoint(endpoint));
            unix_path_ = address.path;
            // Before listen(), connections are refused: no client can slip in while the mode is
            // still the umask's.
            if (::chmod(address.path.c_str(), 0600) != 0) {
                throw ConfigError(fmt::format("cannot set mode 0600 on the control socket '{}': {}",
                                              address.path, std::strerror(errno)));
            }
            acceptor_.listen();
            endpoint_ = "unix:" + address.path;
        }
    } catch (const std::system_error& error) {
        if (!unix_path_.empty()) {
            ::unlink(unix_path_.c_str());
        }
        throw ConfigError(fmt::format("cannot listen on the control address '{}': {}", address.text,
                                      error.code().message()));
    }
    asio::co_spawn(io_context_, accept_loop(), log_unexpected);
    thread_ = std::thread([this] { io_context_.run(); });
}

ControlServer::~ControlServer() { stop(); }

void ControlServer::stop() {
    if (stopped_) {
        return;
    }
    stopped_ = true;
    io_context_.stop();
    if (thread_.joinable()) {
        thread_.join();
    }
    std::error_code ignored;
    acceptor_.close(ignored);
    if (!unix_path_.empty()) {
        ::unlink(unix_path_.c_str());
    }
}

asio::awaitable<void> ControlServer::accept_loop() {
    for (;;) {
        asio::generic::stream_protocol::socket socket(io_context_);
        try {
            co_await acceptor_.async_accept(socket, asio::use_awaitable);
        } catch (const std::system_error& error) {
            if (error.code() == asio::error::operation_aborted) {
                co_return;
            }
            // EMFILE and friends: keep accepting later rather than end the control API.
            spdlog::warn("control: accept failed: {}", error.code().message());
            continue;
        }
        auto connection = std::make_shared<ControlConnection>(std::move(socket));
        if (clients_ >= options_.max_clients) {
            asio::co_spawn(io_context_, refuse_client(std::move(connection)), log_unexpected);
        } else {
            asio::co_spawn(io_context_, serve_client(std::move(connection)), log_unexpected);
        }
    }
}

asio::awaitable<void> ControlServer::refuse_client(std::shared_ptr<ControlConnection> connection) {
    spdlog::warn("control: refusing a client: already {} clients (the limit)", options_.max_clients);
    const std::string text = fmt::format(
        "{{\"ok\": false, \"error\": \"too many control clients (limit {}); try again later\"}}\n",
        options_.max_clients);
    co_await connection->write(text, std::chrono::seconds(1));
    connection->close();
}

asio::awaitable<void> ControlServer::serve_client(std::shared_ptr<ControlConnection> connection) {
    handler_.set_clients(++clients_);
    spdlog::debug("control: client connected ({} now)", clients_);
    std::string line;
    for (;;) {
        const auto result =
            co_await connection->read_line(line, max_control_request_bytes, options_.idle_timeout);
        if (result == ControlConnection::ReadResult::line) {
            // The request itself is never logged: it may carry the token.
            if (!co_await connection->write(handler_.handle(line) + "\n", options_.write_timeout)) {
                spdlog::debug("control: a client did not read its response within the timeout; closed it");
                break;
            }
            continue;
        }
        if (result == ControlConnection::ReadResult::too_long) {
            co_await connection->write(handler_.too_long_response() + "\n", options_.write_timeout);
        }
        break;
    }
    connection->close();
    handler_.set_clients(--clients_);
    spdlog::debug("control: client left ({} now)", clients_);
}

}  // namespace chorus::server
