#pragma once
// Private building blocks of the codec: fixed-width little-endian numbers, headers, and the
// validation every decoder shares. Nothing here is part of chorus's public API.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <string_view>

#include "chorus/protocol/codec.hpp"
#include "chorus/protocol/messages.hpp"

namespace chorus::protocol::wire {

// i-PI and its drivers write numbers in the machine's own byte order, and every peer in practice
// is little-endian. Copying with memcpy is then the exact wire encoding; a big-endian port would
// need byte swaps here and nowhere else.
static_assert(std::endian::native == std::endian::little, "the i-PI wire format is little-endian");
static_assert(sizeof(double) == 8 && std::numeric_limits<double>::is_iec559, "float64 must be IEEE 754");

inline constexpr std::size_t i32_size = 4;
inline constexpr std::size_t f64_size = 8;
inline constexpr std::size_t cell_values = 9;
inline constexpr std::size_t cell_bytes = cell_values * f64_size;

inline void put_bytes(Bytes& out, const void* data, std::size_t size) {
    const std::size_t at = out.size();
    out.resize(at + size);
    if (size != 0) {
        std::memcpy(out.data() + at, data, size);
    }
}
inline void put_i32(Bytes& out, std::int32_t value) { put_bytes(out, &value, sizeof value); }
inline void put_f64(Bytes& out, double value) { put_bytes(out, &value, sizeof value); }
inline void put_f64s(Bytes& out, std::span<const double> values) {
    put_bytes(out, values.data(), values.size_bytes());
}
inline void put_header(Bytes& out, Header header) {
    const std::string_view text = header_text(header);
    put_bytes(out, text.data(), text.size());
}

inline std::int32_t get_i32(const std::byte* at) {
    std::int32_t value = 0;
    std::memcpy(&value, at, sizeof value);
    return value;
}
inline double get_f64(const std::byte* at) {
    double value = 0.0;
    std::memcpy(&value, at, sizeof value);
    return value;
}

// Who is allowed to send a header: the server (i-PI) or the client (chorus).
enum class Sender { server, client };

// Reads a 12-byte header sent by `sender`; throws ProtocolError for bytes that are not printable
// ASCII, unknown headers, and headers that only the other party may send.
Header read_header(std::span<const std::byte> bytes, Sender sender);

// "nan", "inf" or "-inf" (or the number) for error messages.
std::string describe_value(double value);

// Throws ProtocolError unless 0 < atoms ≤ limits.max_atoms; `what` names the message, e.g. "POSDATA".
void check_atom_count(std::int32_t atoms, const Limits& limits, std::string_view what);
// Throws ProtocolError if `structures` × `atoms` exceeds limits.max_atoms (the memory one message
// may ask for). Both are already known to be positive.
void check_batch_atoms(std::int32_t structures, std::int32_t atoms, const Limits& limits,
                       std::string_view what);

// Throw ProtocolError naming the first NaN/Inf. `structure` is appended as "of structure k" when
// the message is batched (structure ≥ 0); -1 for single messages.
void check_finite_cell(std::span<const double, cell_values> cell, int structure);
void check_finite_positions(std::span<const double> positions, int structure);

}  // namespace chorus::protocol::wire
