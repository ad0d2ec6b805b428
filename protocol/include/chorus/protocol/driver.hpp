#pragma once
// The client ("driver") side of the i-PI conversation as a state machine without I/O:
// bytes from the server go in, bytes to send and structures to evaluate come out.
//
// It accepts both orders seen in practice: i-PI 3 sends POSDATA and GETFORCE back to back;
// ASE sends STATUS between them. While a structure is being evaluated (after take_request(),
// before deliver()) the driver wants no input, so the owner simply stops reading.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "chorus/protocol/codec.hpp"
#include "chorus/protocol/messages.hpp"

namespace chorus::protocol {

enum class DriverState {
    need_init,  // no INIT yet (or, with track_beads, none since the last answer)
    ready,      // waiting for POSDATA
    computing,  // a request was handed out, results not delivered yet
    have_data,  // results ready, waiting for GETFORCE
    exited,     // EXIT received: close the connection
};

// What to evaluate: one structure, or B of them in batched mode. replica_id is the bead index
// of the last INIT (-1 if the server never sent one, or, with track_beads, sent none since the
// last answer); in batched mode it covers the whole batch.
struct EvaluationRequest {
    std::int32_t replica_id = -1;
    std::int32_t atoms = 0;
    std::vector<WireStructure> structures;
    bool batched = false;
};

struct DriverOptions {
    // Answer NEEDINIT after every FORCEREADY, so that i-PI sends INIT (with the bead index)
    // before each request. See shared/protocol.md, "Which bead?".
    bool track_beads = false;
    Limits limits{};
};

class Driver {
public:
    explicit Driver(DriverOptions options = {});

    DriverState state() const;
    // Bytes the driver needs next; 0 while computing or after EXIT (do not read then).
    std::size_t bytes_wanted() const;
    // Feeds bytes from the server; returns how many were consumed (less than given only when a
    // request was handed out or EXIT arrived). Throws ProtocolError on a protocol violation.
    std::size_t feed(std::span<const std::byte> data);
    // Bytes to write to the server; the owner sends them and calls clear().
    Bytes& outgoing();
    // The pending request, once; the driver is then `computing`.
    std::optional<EvaluationRequest> take_request();
    // Results of the request, one per structure, in atomic units.
    void deliver(std::vector<ForceResult> results);
    // The replica id of the most recent INIT, -1 if none.
    std::int32_t replica_id() const;
    // The parameters of the most recent INIT.
    const InitParameters& init_parameters() const;

private:
    void handle(ServerMessage message);

    DriverOptions options_;
    ServerStreamDecoder decoder_;
    DriverState state_ = DriverState::need_init;
    Bytes outgoing_;
    std::optional<EvaluationRequest> pending_;
    std::vector<ForceResult> results_;
    bool results_batched_ = false;
    std::size_t expected_results_ = 0;  // structures of the request being computed
    std::int32_t atoms_ = 0;
    std::int32_t replica_id_ = -1;
    bool initialised_since_answer_ = false;  // an INIT arrived since the last FORCEREADY (or start)
    InitParameters init_parameters_;
};

}  // namespace chorus::protocol
