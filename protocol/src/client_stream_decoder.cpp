// Incremental decoding of client → server bytes, for tests and test servers. Same scheme as the
// server-side decoder: one contiguous byte range per stage, forces and extras written in place.
//
// The single FORCEREADY layout is the batched one with B = 1 (energy, nat, forces, virial,
// extras), so one set of stages decodes both.
#include <cstring>
#include <string>

#include "chorus/error.hpp"
#include "chorus/protocol/codec.hpp"
#include "stage_feed.hpp"
#include "wire.hpp"

namespace chorus::protocol {

ClientStreamDecoder::ClientStreamDecoder(Limits limits) : limits_(limits) {}

void ClientStreamDecoder::set_batch_size(std::optional<std::int32_t> batch_size) {
    if (batch_size && (*batch_size < 1 || *batch_size > limits_.max_batch_size)) {
        throw ProtocolError("batch size " + std::to_string(*batch_size) + " is outside 1.." +
                            std::to_string(limits_.max_batch_size));
    }
    batch_size_ = batch_size;
}

std::size_t ClientStreamDecoder::structures() const {
    return batch_size_ ? static_cast<std::size_t>(*batch_size_) : 1;
}

std::size_t ClientStreamDecoder::bytes_wanted() const {
    if (stage_ == Stage::message_ready || stage_ == Stage::failed) {
        return 0;
    }
    return target_size() - filled_;
}

std::size_t ClientStreamDecoder::target_size() const {
    switch (stage_) {
        case Stage::forces:
            return pending_.results[result_].forces.size() * sizeof(double);
        case Stage::extras:
            return pending_.results[result_].extras.size();
        default:
            return scratch_.size();
    }
}

std::span<std::byte> ClientStreamDecoder::target() {
    switch (stage_) {
        case Stage::forces:
            return std::as_writable_bytes(std::span(pending_.results[result_].forces));
        case Stage::extras: {
            std::string& extras = pending_.results[result_].extras;
            return std::as_writable_bytes(std::span(extras.data(), extras.size()));
        }
        default:
            return scratch_;
    }
}

std::size_t ClientStreamDecoder::feed(std::span<const std::byte> data) {
    if (stage_ == Stage::failed) {
        throw ProtocolError("the i-PI client stream is out of step after an earlier protocol error");
    }
    return wire::feed_stages(
        data, stage_, filled_, [this] { return target(); }, [this] { complete_stage(); });
}

std::optional<ClientMessage> ClientStreamDecoder::take() {
    if (stage_ != Stage::message_ready) {
        return std::nullopt;
    }
    std::optional<ClientMessage> message = std::move(ready_);
    ready_.reset();
    expect(Stage::header, header_size);
    return message;
}

void ClientStreamDecoder::expect(Stage stage, std::size_t bytes) {
    stage_ = stage;
    filled_ = 0;
    if (stage != Stage::forces && stage != Stage::extras) {
        scratch_.resize(bytes);
    }
}

// After the extras of results[result_] (or their zero length): the next length, or the end.
void ClientStreamDecoder::start_extras_or_finish() {
    if (++result_ < pending_.results.size()) {
        return expect(Stage::extras_length, wire::i32_size);
    }
    ready_ = std::move(pending_);
    pending_ = ForceReadyMessage{};
    stage_ = Stage::message_ready;
    filled_ = 0;
}

void ClientStreamDecoder::complete_stage() {
    const std::byte* bytes = scratch_.data();
    const std::size_t count = structures();
    switch (stage_) {
        case Stage::header: {
            const Header header = wire::read_header(scratch_, wire::Sender::client);
            if (header == Header::force_ready) {
                pending_ = ForceReadyMessage{};
                return expect(Stage::energies_and_atoms, count * wire::f64_size + wire::i32_size);
            }
            ready_ = StatusReply{header};
            stage_ = Stage::message_ready;
            return;
        }

        case Stage::energies_and_atoms: {
            const std::int32_t atoms = wire::get_i32(bytes + count * wire::f64_size);
            wire::check_atom_count(atoms, limits_, "FORCEREADY");
            wire::check_batch_atoms(static_cast<std::int32_t>(count), atoms, limits_, "FORCEREADY");
            pending_.atoms = atoms;
            pending_.results.resize(count);
            for (std::size_t k = 0; k < count; ++k) {
                pending_.results[k].energy = wire::get_f64(bytes + k * wire::f64_size);
                pending_.results[k].forces.resize(3 * static_cast<std::size_t>(atoms));
            }
            result_ = 0;
            return expect(Stage::forces, 0);
        }

        case Stage::forces:
            if (++result_ < count) {
                filled_ = 0;
                return;
            }
            return expect(Stage::virials, count * wire::cell_bytes);

        case Stage::virials:
            for (std::size_t k = 0; k < count; ++k) {
                std::memcpy(pending_.results[k].virial.data(), bytes + k * wire::cell_bytes,
                            wire::cell_bytes);
            }
            result_ = 0;
            return expect(Stage::extras_length, wire::i32_size);

        case Stage::extras_length: {
            const std::int32_t length = wire::get_i32(bytes);
            if (length < 0 || length > limits_.max_extras_bytes) {
                throw ProtocolError("FORCEREADY extras length " + std::to_string(length) + " of structure " +
                                    std::to_string(result_) + " is " +
                                    (length < 0 ? std::string("negative")
                                                : "over the limit of " +
                                                      std::to_string(limits_.max_extras_bytes) + " bytes"));
            }
            if (length == 0) {
                return start_extras_or_finish();
            }
            pending_.results[result_].extras.resize(static_cast<std::size_t>(length));
            return expect(Stage::extras, 0);
        }

        case Stage::extras:
            return start_extras_or_finish();

        case Stage::message_ready:
        case Stage::failed:
            break;
    }
    throw ProtocolError("internal error: i-PI client stream decoder in an impossible stage");
}

}  // namespace chorus::protocol
