#include "wire.hpp"

#include <array>
#include <cmath>
#include <cstdio>
#include <optional>

#include "chorus/error.hpp"

namespace chorus::protocol::wire {
namespace {

constexpr std::array all_headers{Header::status,    Header::ready,       Header::have_data,
                                 Header::need_init, Header::init,        Header::pos_data,
                                 Header::get_force, Header::force_ready, Header::exit};

bool sent_by_server(Header header) {
    switch (header) {
        case Header::status:
        case Header::init:
        case Header::pos_data:
        case Header::get_force:
        case Header::exit:
            return true;
        default:
            return false;
    }
}

std::string_view expected_headers(Sender sender) {
    return sender == Sender::server ? "expected STATUS, INIT, POSDATA, GETFORCE or EXIT"
                                    : "expected READY, NEEDINIT, HAVEDATA or FORCEREADY";
}

bool printable(std::byte b) {
    const auto c = std::to_integer<unsigned>(b);
    return c >= 0x20 && c <= 0x7e;
}

// The header as it would appear in a log: printable bytes as they are, others as \xNN, so that
// a stream that lost its place (binary data read as a header) is recognisable.
std::string quoted(std::span<const std::byte> bytes) {
    std::string text = "'";
    for (const std::byte b : bytes) {
        if (printable(b) && b != std::byte{'\\'} && b != std::byte{'\''}) {
            text += static_cast<char>(b);
        } else {
            std::array<char, 8> escaped{};
            std::snprintf(escaped.data(), escaped.size(), "\\x%02x", std::to_integer<unsigned>(b));
            text += escaped.data();
        }
    }
    return text + "'";
}

std::string_view trimmed(std::string_view text) {
    while (!text.empty() && text.back() == ' ') {
        text.remove_suffix(1);
    }
    return text;
}

std::string structure_suffix(int structure) {
    return structure < 0 ? std::string{} : " of structure " + std::to_string(structure);
}

}  // namespace

Header read_header(std::span<const std::byte> bytes, Sender sender) {
    for (const std::byte b : bytes) {
        if (!printable(b)) {
            throw ProtocolError("i-PI header " + quoted(bytes) +
                                " contains bytes that are not printable ASCII: the peer does not speak the "
                                "i-PI protocol, or the stream lost its place (" +
                                std::string(expected_headers(sender)) + ")");
        }
    }
    const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    for (const Header header : all_headers) {
        if (text == header_text(header)) {
            if (sent_by_server(header) != (sender == Sender::server)) {
                throw ProtocolError("i-PI header '" + std::string(trimmed(text)) +
                                    "' may only be sent by the " +
                                    (sender == Sender::server ? "client" : "server") + ", but the " +
                                    (sender == Sender::server ? "server" : "client") + " sent it (" +
                                    std::string(expected_headers(sender)) + ")");
            }
            return header;
        }
    }
    throw ProtocolError("unknown i-PI header " + quoted(bytes) + " (" +
                        std::string(expected_headers(sender)) + ")");
}

std::string describe_value(double value) {
    if (std::isnan(value)) {
        return "nan";
    }
    if (std::isinf(value)) {
        return value > 0 ? "inf" : "-inf";
    }
    std::array<char, 32> text{};
    std::snprintf(text.data(), text.size(), "%.17g", value);
    return text.data();
}

void check_atom_count(std::int32_t atoms, const Limits& limits, std::string_view what) {
    const std::string prefix = std::string(what) + " atom count " + std::to_string(atoms);
    if (atoms < 0) {
        throw ProtocolError(prefix + " is negative: the peer's stream is corrupt or out of step");
    }
    if (atoms == 0) {
        throw ProtocolError(prefix + ": a structure needs at least one atom");
    }
    if (atoms > limits.max_atoms) {
        throw ProtocolError(prefix + " exceeds the limit of " + std::to_string(limits.max_atoms) +
                            " (--max-atoms); raise the limit if the system really is this large");
    }
}

void check_batch_atoms(std::int32_t structures, std::int32_t atoms, const Limits& limits,
                       std::string_view what) {
    const auto total = static_cast<std::int64_t>(structures) * atoms;
    if (total > limits.max_atoms) {
        throw ProtocolError(std::string(what) + " batch of " + std::to_string(structures) + " structures × " +
                            std::to_string(atoms) + " atoms = " + std::to_string(total) +
                            " atoms exceeds the limit of " + std::to_string(limits.max_atoms) +
                            " (--max-atoms), which bounds the atoms of one message");
    }
}

void check_finite_cell(std::span<const double, cell_values> cell, int structure) {
    for (std::size_t k = 0; k < cell.size(); ++k) {
        if (!std::isfinite(cell[k])) {
            throw ProtocolError("non-finite value " + describe_value(cell[k]) + " in POSDATA cell h[" +
                                std::to_string(k / 3) + "][" + std::to_string(k % 3) + "]" +
                                structure_suffix(structure));
        }
    }
}

void check_finite_positions(std::span<const double> positions, int structure) {
    // One pass with no branch taken in the common case; the slow message path runs only on failure.
    bool all_finite = true;
    for (const double x : positions) {
        all_finite &= std::isfinite(x);
    }
    if (all_finite) {
        return;
    }
    for (std::size_t k = 0; k < positions.size(); ++k) {
        if (!std::isfinite(positions[k])) {
            constexpr std::array<char, 3> axis{'x', 'y', 'z'};
            throw ProtocolError("non-finite value " + describe_value(positions[k]) +
                                " in POSDATA positions of atom " + std::to_string(k / 3) + " (component " +
                                axis[k % 3] + ")" + structure_suffix(structure));
        }
    }
}

}  // namespace chorus::protocol::wire
