#pragma once
// Byte-level encoding and incremental decoding of both directions of the i-PI protocol.
// Pure: no sockets, no threads. Decoders validate every size before allocating and throw
// chorus::ProtocolError with a message that names the offending value.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "chorus/protocol/messages.hpp"

namespace chorus::protocol {

using Bytes = std::vector<std::byte>;

// --- encoders: append to `out` ---
void encode(const StatusMessage&, Bytes& out);
void encode(const GetForceMessage&, Bytes& out);
void encode(const ExitMessage&, Bytes& out);
void encode(const InitMessage&, Bytes& out);
// h⁻¹ is written as the inverse of h (zeros if singular), as i-PI does; batched layout when
// `batched` is true (then structures.size() is the batch size B).
void encode(const PosDataMessage&, bool batched, Bytes& out);
void encode(const StatusReply&, Bytes& out);
void encode(const ForceReadyMessage&, bool batched, Bytes& out);

// Incremental decoder of what the server (i-PI) sends. It follows INIT's batch_size to know the
// POSDATA layout, and rejects an atom count that changes on the connection.
class ServerStreamDecoder {
public:
    explicit ServerStreamDecoder(Limits limits = {});

    // How many more bytes the message being decoded needs at least (≥ 1), or 0 while a complete
    // message waits to be taken. Reading exactly this many never reads past the current message.
    std::size_t bytes_wanted() const;
    // Consumes bytes up to the end of one complete message; returns how many were consumed.
    // A complete message must be taken before more bytes are consumed. After a ProtocolError the
    // stream is out of step for good: every later feed() throws again.
    std::size_t feed(std::span<const std::byte> data);
    std::optional<ServerMessage> take();

    std::optional<std::int32_t> batch_size() const;  // from the last INIT, if batched (B > 1)
    std::optional<std::int32_t> atoms() const;       // fixed by the first POSDATA

private:
    // Each stage fills one contiguous byte range (scratch_ or a positions vector) completely.
    enum class Stage {
        header,
        init_sizes,      // int32 replica id, int32 length
        init_text,       // `length` bytes
        cell_and_atoms,  // single POSDATA: 9 f64 h, 9 f64 h⁻¹, int32 nat
        positions,       // 3·nat f64 of structures_[structure_]
        batch_atoms,     // batched POSDATA: int32 nat
        batch_cells,     // B × (9 f64 h, 9 f64 h⁻¹)
        message_ready,
        failed,
    };
    std::span<std::byte> target();
    std::size_t target_size() const;
    void complete_stage();
    void expect(Stage stage, std::size_t bytes);
    void start_positions(std::int32_t atoms, std::size_t structures);
    void finish_init();
    void finish(ServerMessage message);

    Limits limits_;
    Stage stage_ = Stage::header;
    std::vector<std::byte> scratch_ = std::vector<std::byte>(header_size);
    std::size_t filled_ = 0;     // bytes of target() already received
    std::size_t structure_ = 0;  // the structure whose positions are being received
    std::optional<ServerMessage> ready_;
    std::optional<std::int32_t> batch_size_;
    std::optional<std::int32_t> atoms_;
    InitMessage pending_init_;
    PosDataMessage pending_posdata_;
};

// Incremental decoder of what a client sends (used by tests and the benchmark's test server).
// `batch_size` must be set when the server asked for batches.
class ClientStreamDecoder {
public:
    explicit ClientStreamDecoder(Limits limits = {});
    // The B of batched FORCEREADY; nullopt or 1 means the single layout (as in i-PI).
    void set_batch_size(std::optional<std::int32_t> batch_size);
    std::size_t bytes_wanted() const;  // as ServerStreamDecoder::bytes_wanted
    std::size_t feed(std::span<const std::byte> data);
    std::optional<ClientMessage> take();

private:
    enum class Stage {
        header,
        energies_and_atoms,  // B f64 energies (B = 1 when single), int32 nat
        forces,              // 3·nat f64 of results[result_]
        virials,             // B × 9 f64
        extras_length,       // int32 length for results[result_]
        extras,              // `length` bytes for results[result_]
        message_ready,
        failed,
    };
    std::span<std::byte> target();
    std::size_t target_size() const;
    void complete_stage();
    void expect(Stage stage, std::size_t bytes);
    void start_extras_or_finish();
    std::size_t structures() const;

    Limits limits_;
    std::optional<std::int32_t> batch_size_;
    Stage stage_ = Stage::header;
    std::vector<std::byte> scratch_ = std::vector<std::byte>(header_size);
    std::size_t filled_ = 0;
    std::size_t result_ = 0;
    std::optional<ClientMessage> ready_;
    ForceReadyMessage pending_;
};

}  // namespace chorus::protocol
