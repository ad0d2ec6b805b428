// The client side of the i-PI conversation. Decisions beyond what i-PI's own drivers do:
// - POSDATA in need_init is accepted (some servers never send INIT); the request then carries
//   replica id -1, because no INIT told which bead it is.
// - INIT while results wait for GETFORCE is a protocol error: neither i-PI nor ASE does it, and
//   accepting it would silently drop a computed answer the server still expects.
// - After a ProtocolError the connection is out of step; the owner must close it.
#include "chorus/protocol/driver.hpp"

#include <string>
#include <utility>

#include "chorus/error.hpp"

namespace chorus::protocol {
namespace {

std::string_view state_name(DriverState state) {
    switch (state) {
        case DriverState::need_init:
            return "need_init";
        case DriverState::ready:
            return "ready";
        case DriverState::computing:
            return "computing";
        case DriverState::have_data:
            return "have_data";
        case DriverState::exited:
            return "exited";
    }
    return "unknown";
}

}  // namespace

Driver::Driver(DriverOptions options) : options_(options), decoder_(options.limits) {}

DriverState Driver::state() const { return state_; }

std::size_t Driver::bytes_wanted() const {
    if (state_ == DriverState::computing || state_ == DriverState::exited) {
        return 0;
    }
    return decoder_.bytes_wanted();
}

std::size_t Driver::feed(std::span<const std::byte> data) {
    std::size_t consumed = 0;
    while (consumed < data.size() && state_ != DriverState::computing && state_ != DriverState::exited) {
        consumed += decoder_.feed(data.subspan(consumed));
        if (std::optional<ServerMessage> message = decoder_.take()) {
            handle(std::move(*message));
        }
    }
    return consumed;
}

Bytes& Driver::outgoing() { return outgoing_; }

std::optional<EvaluationRequest> Driver::take_request() {
    std::optional<EvaluationRequest> request = std::move(pending_);
    pending_.reset();
    return request;
}

void Driver::deliver(std::vector<ForceResult> results) {
    if (state_ != DriverState::computing) {
        throw ProtocolError("deliver() called while the driver is " + std::string(state_name(state_)) +
                            ", not computing: there is no request to answer");
    }
    if (results.size() != expected_results_) {
        throw ProtocolError("deliver() got " + std::to_string(results.size()) + " results for a request of " +
                            std::to_string(expected_results_) + " structures");
    }
    for (std::size_t k = 0; k < results.size(); ++k) {
        const std::size_t expected = 3 * static_cast<std::size_t>(atoms_);
        if (results[k].forces.size() != expected) {
            throw ProtocolError("deliver() got " + std::to_string(results[k].forces.size()) +
                                " force components for structure " + std::to_string(k) + ", expected 3 × " +
                                std::to_string(atoms_) + " atoms = " + std::to_string(expected));
        }
    }
    pending_.reset();  // in case the owner never took it
    results_ = std::move(results);
    state_ = DriverState::have_data;
}

std::int32_t Driver::replica_id() const { return replica_id_; }

const InitParameters& Driver::init_parameters() const { return init_parameters_; }

void Driver::handle(ServerMessage message) {
    if (std::holds_alternative<StatusMessage>(message)) {
        const Header reply = state_ == DriverState::need_init   ? Header::need_init
                             : state_ == DriverState::have_data ? Header::have_data
                                                                : Header::ready;
        encode(StatusReply{reply}, outgoing_);
    } else if (auto* init = std::get_if<InitMessage>(&message)) {
        if (state_ == DriverState::have_data) {
            throw ProtocolError(
                "INIT received while results wait for GETFORCE; the server lost track of "
                "this client's state");
        }
        // The decoder already parsed (and validated) the same string to follow batch_size.
        init_parameters_ = parse_init_parameters(init->parameters, options_.limits);
        replica_id_ = init->replica_id;
        initialised_since_answer_ = true;
        state_ = DriverState::ready;
    } else if (auto* positions = std::get_if<PosDataMessage>(&message)) {
        if (state_ == DriverState::have_data) {
            throw ProtocolError(
                "POSDATA received while the results of the previous structure wait for GETFORCE");
        }
        EvaluationRequest request;
        request.replica_id = initialised_since_answer_ ? replica_id_ : -1;
        request.atoms = positions->atoms;
        request.batched = decoder_.batch_size().has_value();
        request.structures = std::move(positions->structures);
        atoms_ = request.atoms;
        expected_results_ = request.structures.size();
        results_batched_ = request.batched;
        pending_ = std::move(request);
        state_ = DriverState::computing;
    } else if (std::holds_alternative<GetForceMessage>(message)) {
        if (state_ != DriverState::have_data) {
            throw ProtocolError("GETFORCE received while the driver is " + std::string(state_name(state_)) +
                                ": there are no results (the server must send POSDATA first)");
        }
        encode(ForceReadyMessage{atoms_, std::move(results_)}, results_batched_, outgoing_);
        results_.clear();
        if (options_.track_beads) {
            initialised_since_answer_ = false;
            state_ = DriverState::need_init;
        } else {
            state_ = DriverState::ready;
        }
    } else {
        state_ = DriverState::exited;
    }
}

}  // namespace chorus::protocol
