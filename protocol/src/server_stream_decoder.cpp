// Incremental decoding of server → client bytes. Every stage receives one contiguous byte range;
// positions go straight into the vectors of the message (no intermediate copy), everything else
// through a small scratch buffer. Sizes are validated before anything is allocated.
#include <cstring>
#include <string>

#include "chorus/error.hpp"
#include "chorus/protocol/codec.hpp"
#include "stage_feed.hpp"
#include "wire.hpp"

namespace chorus::protocol {
namespace {

constexpr std::size_t init_sizes_bytes = 2 * wire::i32_size;
constexpr std::size_t single_cell_and_atoms_bytes = 2 * wire::cell_bytes + wire::i32_size;

void copy_cell(const std::byte* from, std::array<double, 9>& cell) {
    std::memcpy(cell.data(), from, wire::cell_bytes);
}

}  // namespace

ServerStreamDecoder::ServerStreamDecoder(Limits limits) : limits_(limits) {}

std::size_t ServerStreamDecoder::bytes_wanted() const {
    if (stage_ == Stage::message_ready || stage_ == Stage::failed) {
        return 0;
    }
    return target_size() - filled_;
}

std::size_t ServerStreamDecoder::target_size() const {
    if (stage_ == Stage::positions) {
        return pending_posdata_.structures[structure_].positions.size() * sizeof(double);
    }
    return scratch_.size();
}

std::span<std::byte> ServerStreamDecoder::target() {
    if (stage_ == Stage::positions) {
        return std::as_writable_bytes(std::span(pending_posdata_.structures[structure_].positions));
    }
    return scratch_;
}

std::size_t ServerStreamDecoder::feed(std::span<const std::byte> data) {
    if (stage_ == Stage::failed) {
        throw ProtocolError("the i-PI stream is out of step after an earlier protocol error; reconnect");
    }
    return wire::feed_stages(
        data, stage_, filled_, [this] { return target(); }, [this] { complete_stage(); });
}

std::optional<ServerMessage> ServerStreamDecoder::take() {
    if (stage_ != Stage::message_ready) {
        return std::nullopt;
    }
    std::optional<ServerMessage> message = std::move(ready_);
    ready_.reset();
    expect(Stage::header, header_size);
    return message;
}

std::optional<std::int32_t> ServerStreamDecoder::batch_size() const { return batch_size_; }
std::optional<std::int32_t> ServerStreamDecoder::atoms() const { return atoms_; }

void ServerStreamDecoder::expect(Stage stage, std::size_t bytes) {
    stage_ = stage;
    filled_ = 0;
    structure_ = 0;
    if (stage != Stage::positions) {
        scratch_.resize(bytes);
    }
}

void ServerStreamDecoder::finish(ServerMessage message) {
    ready_ = std::move(message);
    stage_ = Stage::message_ready;
    filled_ = 0;
}

// Validates the atom count of a POSDATA (and its batch) and sizes the position vectors.
void ServerStreamDecoder::start_positions(std::int32_t atoms, std::size_t structures) {
    wire::check_atom_count(atoms, limits_, "POSDATA");
    if (atoms_ && *atoms_ != atoms) {
        throw ProtocolError("POSDATA atom count changed from " + std::to_string(*atoms_) + " to " +
                            std::to_string(atoms) +
                            " on this connection; i-PI keeps the atom count fixed, so the stream is corrupt");
    }
    wire::check_batch_atoms(static_cast<std::int32_t>(structures), atoms, limits_, "POSDATA");
    atoms_ = atoms;
    pending_posdata_.atoms = atoms;
    pending_posdata_.structures.resize(structures);
    for (WireStructure& structure : pending_posdata_.structures) {
        structure.positions.resize(3 * static_cast<std::size_t>(atoms));
    }
}

void ServerStreamDecoder::finish_init() {
    // The layout of the POSDATA that follows depends on this INIT: i-PI batches only when
    // batch_size > 1, and announces it in every INIT it sends, so an INIT without it ends batching.
    const InitParameters parameters = parse_init_parameters(pending_init_.parameters, limits_);
    batch_size_.reset();
    if (parameters.batch_size && *parameters.batch_size > 1) {
        batch_size_ = parameters.batch_size;
    }
    finish(std::move(pending_init_));
}

void ServerStreamDecoder::complete_stage() {
    const std::byte* bytes = scratch_.data();
    switch (stage_) {
        case Stage::header:
            switch (wire::read_header(scratch_, wire::Sender::server)) {
                case Header::status:
                    return finish(StatusMessage{});
                case Header::get_force:
                    return finish(GetForceMessage{});
                case Header::exit:
                    return finish(ExitMessage{});
                case Header::init:
                    return expect(Stage::init_sizes, init_sizes_bytes);
                case Header::pos_data:
                    pending_posdata_ = PosDataMessage{};
                    if (batch_size_) {
                        return expect(Stage::batch_atoms, wire::i32_size);
                    }
                    return expect(Stage::cell_and_atoms, single_cell_and_atoms_bytes);
                default:
                    break;  // read_header admits server headers only
            }
            throw ProtocolError("internal error: unhandled i-PI server header");

        case Stage::init_sizes: {
            pending_init_ = InitMessage{};
            pending_init_.replica_id = wire::get_i32(bytes);
            const std::int32_t length = wire::get_i32(bytes + wire::i32_size);
            if (pending_init_.replica_id < 0) {
                throw ProtocolError("INIT replica id " + std::to_string(pending_init_.replica_id) +
                                    " is negative; i-PI sends the bead index, which starts at 0");
            }
            if (length < 0) {
                throw ProtocolError("INIT string length " + std::to_string(length) +
                                    " is negative: the peer's stream is corrupt or out of step");
            }
            if (length > limits_.max_init_bytes) {
                throw ProtocolError("INIT string length " + std::to_string(length) +
                                    " exceeds the limit of " + std::to_string(limits_.max_init_bytes) +
                                    " bytes");
            }
            if (length == 0) {
                return finish_init();
            }
            return expect(Stage::init_text, static_cast<std::size_t>(length));
        }

        case Stage::init_text:
            pending_init_.parameters.assign(reinterpret_cast<const char*>(bytes), scratch_.size());
            return finish_init();

        case Stage::cell_and_atoms: {
            pending_posdata_.structures.resize(1);
            copy_cell(bytes, pending_posdata_.structures.front().cell);
            wire::check_finite_cell(pending_posdata_.structures.front().cell, -1);
            // h⁻¹ (the next 72 bytes) is ignored: ASE sends pinv(cell)ᵀ there, not i-PI's h⁻¹.
            start_positions(wire::get_i32(bytes + 2 * wire::cell_bytes), 1);
            return expect(Stage::positions, 0);
        }

        case Stage::positions: {
            const bool batched = batch_size_.has_value();
            wire::check_finite_positions(pending_posdata_.structures[structure_].positions,
                                         batched ? static_cast<int>(structure_) : -1);
            if (++structure_ < pending_posdata_.structures.size()) {
                filled_ = 0;
                return;
            }
            return finish(std::move(pending_posdata_));
        }

        case Stage::batch_atoms: {
            const std::int32_t atoms = wire::get_i32(bytes);
            const auto structures = static_cast<std::size_t>(*batch_size_);
            // Validate the sizes (and allocate) before the cells arrive, so a corrupt count fails fast.
            start_positions(atoms, structures);
            return expect(Stage::batch_cells, structures * 2 * wire::cell_bytes);
        }

        case Stage::batch_cells: {
            for (std::size_t k = 0; k < pending_posdata_.structures.size(); ++k) {
                std::array<double, 9>& cell = pending_posdata_.structures[k].cell;
                copy_cell(bytes + k * 2 * wire::cell_bytes, cell);
                wire::check_finite_cell(cell, static_cast<int>(k));
            }
            return expect(Stage::positions, 0);
        }

        case Stage::message_ready:
        case Stage::failed:
            break;
    }
    throw ProtocolError("internal error: i-PI server stream decoder in an impossible stage");
}

}  // namespace chorus::protocol
