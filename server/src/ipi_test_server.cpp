#include "ipi_test_server.hpp"

#include <filesystem>
#include <system_error>

#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include "chorus/error.hpp"

namespace chorus::server {

IpiTestServer::IpiTestServer(std::unique_ptr<asio::io_context> io_context, GenericAcceptor acceptor,
                             Address address)
    : io_context_(std::move(io_context)), acceptor_(std::move(acceptor)), address_(std::move(address)) {}

std::unique_ptr<IpiTestServer> IpiTestServer::listen_unix(const std::string& path) {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
    auto io_context = std::make_unique<asio::io_context>(1);
    asio::local::stream_protocol::acceptor acceptor(*io_context,
                                                    asio::local::stream_protocol::endpoint(path));
    Address address;
    address.transport = Transport::unix_socket;
    address.path = path;
    address.text = "unix:" + path;
    GenericAcceptor generic(std::move(acceptor));
    return std::unique_ptr<IpiTestServer>(
        new IpiTestServer(std::move(io_context), std::move(generic), address));
}

std::unique_ptr<IpiTestServer> IpiTestServer::listen_tcp_loopback() {
    auto io_context = std::make_unique<asio::io_context>(1);
    asio::ip::tcp::acceptor acceptor(*io_context,
                                     asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    Address address;
    address.transport = Transport::tcp;
    address.host = "127.0.0.1";
    address.port = acceptor.local_endpoint().port();
    address.text = "tcp:127.0.0.1:" + std::to_string(address.port);
    GenericAcceptor generic(std::move(acceptor));
    return std::unique_ptr<IpiTestServer>(
        new IpiTestServer(std::move(io_context), std::move(generic), address));
}

IpiTestServer::~IpiTestServer() {
    close_client();
    std::error_code ignored;
    acceptor_.close(ignored);
    if (address_.transport == Transport::unix_socket) {
        std::filesystem::remove(address_.path, ignored);
    }
}

void IpiTestServer::accept() {
    close_client();
    client_.emplace(*io_context_);
    acceptor_.accept(*client_);
    if (address_.transport == Transport::tcp) {
        client_->set_option(asio::ip::tcp::no_delay(true));
    }
    decoder_ = protocol::ClientStreamDecoder();
    batch_size_.reset();
}

void IpiTestServer::close_client() {
    if (client_) {
        std::error_code ignored;
        client_->close(ignored);
        client_.reset();
    }
}

void IpiTestServer::flush() {
    asio::write(*client_, asio::buffer(outgoing_.data(), outgoing_.size()));
    outgoing_.clear();
}

void IpiTestServer::send_bytes(std::span<const std::byte> bytes) {
    asio::write(*client_, asio::buffer(bytes.data(), bytes.size()));
}

void IpiTestServer::send_status() {
    protocol::encode(protocol::StatusMessage{}, outgoing_);
    flush();
}

void IpiTestServer::send_init(std::int32_t replica_id, const std::string& parameters) {
    protocol::encode(protocol::InitMessage{replica_id, parameters}, outgoing_);
    flush();
    batch_size_ = protocol::parse_init_parameters(parameters).batch_size;
    decoder_.set_batch_size(batch_size_);
}

void IpiTestServer::send_posdata(const protocol::PosDataMessage& message, bool batched) {
    protocol::encode(message, batched, outgoing_);
    flush();
}

void IpiTestServer::send_getforce() {
    protocol::encode(protocol::GetForceMessage{}, outgoing_);
    flush();
}

void IpiTestServer::send_exit() {
    protocol::encode(protocol::ExitMessage{}, outgoing_);
    flush();
}

protocol::ClientMessage IpiTestServer::receive() {
    std::vector<std::byte> chunk;
    for (;;) {
        if (auto message = decoder_.take()) {
            return std::move(*message);
        }
        // Reading exactly what the decoder wants never swallows the start of the next message.
        chunk.resize(decoder_.bytes_wanted());
        asio::read(*client_, asio::buffer(chunk.data(), chunk.size()));
        if (decoder_.feed(chunk) != chunk.size()) {
            throw ProtocolError("test server: the client decoder did not take the bytes it asked for");
        }
    }
}

protocol::Header IpiTestServer::status() {
    send_status();
    const auto reply = receive();
    if (const auto* status_reply = std::get_if<protocol::StatusReply>(&reply)) {
        return status_reply->state;
    }
    return protocol::Header::force_ready;
}

protocol::ForceReadyMessage IpiTestServer::compute(const protocol::PosDataMessage& message, bool batched) {
    send_request(message, batched);
    return receive_forces();
}

void IpiTestServer::send_request(const protocol::PosDataMessage& message, bool batched) {
    protocol::encode(message, batched, outgoing_);
    protocol::encode(protocol::GetForceMessage{}, outgoing_);
    flush();
}

protocol::ForceReadyMessage IpiTestServer::receive_forces() {
    auto reply = receive();
    if (auto* answer = std::get_if<protocol::ForceReadyMessage>(&reply)) {
        return std::move(*answer);
    }
    throw ProtocolError("the client answered GETFORCE with a status reply instead of FORCEREADY");
}

bool IpiTestServer::client_closed() {
    std::byte probe{};
    std::error_code error;
    client_->read_some(asio::buffer(&probe, 1), error);
    return error == asio::error::eof || error == asio::error::connection_reset;
}

}  // namespace chorus::server
