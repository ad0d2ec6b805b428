// Encoders for every message of both directions. They check that a message is self-consistent
// (atom counts, array sizes, batch sizes) before writing anything, because a malformed message
// would put the peer out of step for the rest of the connection.
#include <cmath>
#include <limits>
#include <string>

#include "chorus/error.hpp"
#include "chorus/protocol/codec.hpp"
#include "wire.hpp"

namespace chorus::protocol {
namespace {

// i-PI writes the inverse of h next to h; receivers (chorus included) ignore it, but a faithful
// test server should send what i-PI sends. A singular h has no inverse: zeros say so.
std::array<double, 9> inverse_or_zeros(const std::array<double, 9>& h) {
    const auto at = [&h](int row, int column) { return h[static_cast<std::size_t>(3 * row + column)]; };
    std::array<double, 9> cofactors{};
    for (int row = 0; row < 3; ++row) {
        for (int column = 0; column < 3; ++column) {
            const int r1 = (row + 1) % 3, r2 = (row + 2) % 3;
            const int c1 = (column + 1) % 3, c2 = (column + 2) % 3;
            cofactors[static_cast<std::size_t>(3 * row + column)] =
                at(r1, c1) * at(r2, c2) - at(r1, c2) * at(r2, c1);
        }
    }
    const double determinant = h[0] * cofactors[0] + h[1] * cofactors[1] + h[2] * cofactors[2];
    std::array<double, 9> inverse{};
    if (determinant == 0.0 || !std::isfinite(determinant)) {
        return inverse;
    }
    // inverse = adjugate / det, and the adjugate is the transposed cofactor matrix. Adding +0.0
    // turns the -0.0 of zero entries (negative determinants) into +0.0: equal values, equal bytes.
    for (std::size_t row = 0; row < 3; ++row) {
        for (std::size_t column = 0; column < 3; ++column) {
            inverse[3 * row + column] = cofactors[3 * column + row] / determinant + 0.0;
        }
    }
    for (const double x : inverse) {
        if (!std::isfinite(x)) {  // numerically singular: the inverse overflowed
            return {};
        }
    }
    return inverse;
}

void check_layout(std::size_t structures, bool batched, std::string_view what) {
    if (structures == 0 || (!batched && structures != 1)) {
        throw ProtocolError("cannot encode " + std::string(what) + " with " + std::to_string(structures) +
                            " structures: a " + (batched ? "batched" : "single") + " message carries " +
                            (batched ? "at least one" : "exactly one"));
    }
    if (structures > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
        throw ProtocolError("cannot encode " + std::string(what) + " with " + std::to_string(structures) +
                            " structures: more than an int32 can count");
    }
}

void check_vector_size(std::size_t size, std::int32_t atoms, std::size_t structure, std::string_view what) {
    if (atoms < 0 || size != 3 * static_cast<std::size_t>(atoms)) {
        throw ProtocolError("cannot encode " + std::string(what) + " of structure " +
                            std::to_string(structure) + ": it has " + std::to_string(size) +
                            " values, but the message declares " + std::to_string(atoms) +
                            " atoms (3 values each)");
    }
}

void put_extras(Bytes& out, const std::string& extras, std::size_t structure) {
    if (extras.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
        throw ProtocolError("cannot encode FORCEREADY extras of structure " + std::to_string(structure) +
                            ": " + std::to_string(extras.size()) +
                            " bytes do not fit the int32 length field");
    }
    wire::put_i32(out, static_cast<std::int32_t>(extras.size()));
    wire::put_bytes(out, extras.data(), extras.size());
}

}  // namespace

void encode(const StatusMessage&, Bytes& out) { wire::put_header(out, Header::status); }
void encode(const GetForceMessage&, Bytes& out) { wire::put_header(out, Header::get_force); }
void encode(const ExitMessage&, Bytes& out) { wire::put_header(out, Header::exit); }

void encode(const InitMessage& message, Bytes& out) {
    if (message.parameters.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
        throw ProtocolError("cannot encode an INIT string of " + std::to_string(message.parameters.size()) +
                            " bytes: it does not fit the int32 length field");
    }
    wire::put_header(out, Header::init);
    wire::put_i32(out, message.replica_id);
    wire::put_i32(out, static_cast<std::int32_t>(message.parameters.size()));
    wire::put_bytes(out, message.parameters.data(), message.parameters.size());
}

void encode(const PosDataMessage& message, bool batched, Bytes& out) {
    check_layout(message.structures.size(), batched, "POSDATA");
    for (std::size_t k = 0; k < message.structures.size(); ++k) {
        check_vector_size(message.structures[k].positions.size(), message.atoms, k, "POSDATA positions");
    }
    wire::put_header(out, Header::pos_data);
    if (!batched) {
        const WireStructure& structure = message.structures.front();
        wire::put_f64s(out, structure.cell);
        wire::put_f64s(out, inverse_or_zeros(structure.cell));
        wire::put_i32(out, message.atoms);
        wire::put_f64s(out, structure.positions);
        return;
    }
    wire::put_i32(out, message.atoms);
    for (const WireStructure& structure : message.structures) {
        wire::put_f64s(out, structure.cell);
        wire::put_f64s(out, inverse_or_zeros(structure.cell));
    }
    for (const WireStructure& structure : message.structures) {
        wire::put_f64s(out, structure.positions);
    }
}

void encode(const StatusReply& reply, Bytes& out) {
    if (reply.state != Header::ready && reply.state != Header::need_init &&
        reply.state != Header::have_data) {
        throw ProtocolError("cannot answer STATUS with '" + std::string(header_text(reply.state)) +
                            "': the reply is READY, NEEDINIT or HAVEDATA");
    }
    wire::put_header(out, reply.state);
}

void encode(const ForceReadyMessage& message, bool batched, Bytes& out) {
    check_layout(message.results.size(), batched, "FORCEREADY");
    for (std::size_t k = 0; k < message.results.size(); ++k) {
        check_vector_size(message.results[k].forces.size(), message.atoms, k, "FORCEREADY forces");
    }
    wire::put_header(out, Header::force_ready);
    if (!batched) {
        const ForceResult& result = message.results.front();
        wire::put_f64(out, result.energy);
        wire::put_i32(out, message.atoms);
        wire::put_f64s(out, result.forces);
        wire::put_f64s(out, result.virial);
        put_extras(out, result.extras, 0);
        return;
    }
    for (const ForceResult& result : message.results) {
        wire::put_f64(out, result.energy);
    }
    wire::put_i32(out, message.atoms);
    for (const ForceResult& result : message.results) {
        wire::put_f64s(out, result.forces);
    }
    for (const ForceResult& result : message.results) {
        wire::put_f64s(out, result.virial);
    }
    for (std::size_t k = 0; k < message.results.size(); ++k) {
        put_extras(out, message.results[k].extras, k);
    }
}

}  // namespace chorus::protocol
