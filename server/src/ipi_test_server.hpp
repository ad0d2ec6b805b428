#pragma once
// A minimal, blocking stand-in for the i-PI server side of the protocol: it listens, accepts one
// client at a time, and sends/receives messages with the protocol encoders and ClientStreamDecoder.
// For the round-trip benchmark and in-process tests; not a replacement for i-PI.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <asio/basic_socket_acceptor.hpp>
#include <asio/generic/stream_protocol.hpp>
#include <asio/io_context.hpp>

#include "address.hpp"
#include "chorus/protocol/codec.hpp"
#include "chorus/protocol/messages.hpp"

namespace chorus::server {

class IpiTestServer {
public:
    // One acceptor type for UNIX and TCP listeners (Asio's generic protocol has no alias for it).
    using GenericAcceptor = asio::basic_socket_acceptor<asio::generic::stream_protocol>;

    // Listens on a UNIX socket at `path` (a stale socket file there is removed first).
    static std::unique_ptr<IpiTestServer> listen_unix(const std::string& path);
    // Listens on 127.0.0.1 on a free port.
    static std::unique_ptr<IpiTestServer> listen_tcp_loopback();

    IpiTestServer(const IpiTestServer&) = delete;
    IpiTestServer& operator=(const IpiTestServer&) = delete;
    ~IpiTestServer();  // removes the UNIX socket file

    // The address a client gives to reach this server.
    const Address& address() const { return address_; }

    // Blocks until a client connects; drops the previous client, if any.
    void accept();
    void close_client();

    void send_status();
    void send_init(std::int32_t replica_id, const std::string& parameters);
    void send_posdata(const protocol::PosDataMessage& message, bool batched = false);
    void send_getforce();
    void send_exit();
    void send_bytes(std::span<const std::byte> bytes);

    // Blocks for one complete client message. Throws std::system_error (eof) if the client closed.
    protocol::ClientMessage receive();
    // STATUS, and the header of the reply (ready, need_init or have_data).
    protocol::Header status();
    // i-PI 3's order: POSDATA and GETFORCE in one write, then the FORCEREADY answer.
    protocol::ForceReadyMessage compute(const protocol::PosDataMessage& message, bool batched = false);
    // compute() in two halves, so that one thread can keep many clients busy at once (as i-PI does
    // with many beads): send the request to every client, then collect every answer.
    void send_request(const protocol::PosDataMessage& message, bool batched = false);
    protocol::ForceReadyMessage receive_forces();
    // True when the client closed its end (waits for it).
    bool client_closed();

private:
    IpiTestServer(std::unique_ptr<asio::io_context> io_context, GenericAcceptor acceptor, Address address);
    void flush();

    std::unique_ptr<asio::io_context> io_context_;
    GenericAcceptor acceptor_;
    std::optional<asio::generic::stream_protocol::socket> client_;
    Address address_;
    protocol::Bytes outgoing_;
    protocol::ClientStreamDecoder decoder_;
    std::optional<std::int32_t> batch_size_;
};

}  // namespace chorus::server
