// write_extxyz: the inverse of ExtxyzReader, and readable by ASE.
#include <array>
#include <cmath>
#include <ostream>
#include <string_view>

#include <Eigen/LU>

#include "chorus/engine/elements.hpp"
#include "chorus/error.hpp"
#include "chorus/models/extxyz.hpp"
#include "extxyz_comment_line.hpp"
#include "extxyz_text.hpp"

namespace chorus::models {
namespace {

using extxyz_detail::append_real;

// Keys the writer produces from Frame's fields; info may not hold them too.
constexpr std::array<std::string_view, 8> reserved_keys = {
    "Lattice", "Properties", "pbc", "energy", "stress", "virial", "dipole", "polarizability"};

// Column-major, like Lattice: ASE reads it back with order='F'.
void append_matrix(std::string& out, std::string_view key, const Eigen::Matrix3d& matrix) {
    out += ' ';
    out += key;
    out += "=\"";
    for (Eigen::Index i = 0; i < 9; ++i) {
        if (i > 0) {
            out += ' ';
        }
        append_real(out, matrix.data()[i]);
    }
    out += '"';
}

void check_info_entry(const std::string& key, const std::string& value) {
    for (const std::string_view reserved : reserved_keys) {
        if (key == reserved) {
            throw InputError("frame info has the key '" + key +
                             "', which chorus writes from the frame itself; set the Frame field instead or "
                             "rename the key");
        }
    }
    const bool key_is_plain =
        !key.empty() && !extxyz_detail::needs_quotes(key) && key.find_first_of("\"'") == std::string::npos;
    if (!key_is_plain) {
        throw InputError("frame info key '" + key +
                         "' cannot be written to an extxyz comment line; use letters, digits, '_' and '-'");
    }
    if (value.find_first_of("\n\r") != std::string::npos) {
        throw InputError("frame info value of '" + key +
                         "' contains a line break, which extxyz cannot hold; replace it with a space");
    }
}

void append_triplet(std::string& out, const auto& column) {
    for (Eigen::Index axis = 0; axis < 3; ++axis) {
        out += ' ';
        append_real(out, column(axis));
    }
}

}  // namespace

void write_extxyz(std::ostream& output, const Frame& frame) {
    const engine::System& system = frame.system;
    const auto atoms = static_cast<Eigen::Index>(system.size());
    if (frame.forces && frame.forces->cols() != atoms) {
        throw InputError("frame has " + std::to_string(atoms) + " atoms but " +
                         std::to_string(frame.forces->cols()) + " forces; give one force per atom");
    }
    for (const auto& [key, value] : frame.info) {
        check_info_entry(key, value);
    }

    std::string text = std::to_string(atoms) + "\n";
    const bool has_cell = system.periodic() || !system.cell().isZero(0.0);
    if (has_cell) {
        append_matrix(text, "Lattice", system.cell());
        text += ' ';
    }
    text += frame.forces ? "Properties=species:S:1:pos:R:3:forces:R:3" : "Properties=species:S:1:pos:R:3";
    if (frame.energy) {
        text += " energy=";
        append_real(text, *frame.energy);
    }
    if (frame.virial) {
        // stress for ASE's calculator; virial because W → −W/V → W does not round-trip bit for bit.
        if (system.periodic()) {
            append_matrix(text, "stress", -*frame.virial / system.volume());
        }
        append_matrix(text, "virial", *frame.virial);
    }
    if (frame.dipole) {
        text += " dipole=\"";
        for (Eigen::Index axis = 0; axis < 3; ++axis) {
            if (axis > 0) {
                text += ' ';
            }
            append_real(text, (*frame.dipole)(axis));
        }
        text += '"';
    }
    if (frame.polarizability) {
        // Row by row, as the reader expects: the column-major layout of the transpose.
        append_matrix(text, "polarizability", frame.polarizability->transpose());
    }
    for (const auto& [key, value] : frame.info) {
        text += ' ';
        text += key;
        text += '=';
        text += extxyz_detail::needs_quotes(value) ? extxyz_detail::quote_value(value) : value;
    }
    text += system.periodic() ? " pbc=\"T T T\"\n" : " pbc=\"F F F\"\n";

    for (Eigen::Index atom = 0; atom < atoms; ++atom) {
        text += engine::element_symbol(system.atomic_numbers()[static_cast<std::size_t>(atom)]);
        append_triplet(text, system.positions().col(atom));
        if (frame.forces) {
            append_triplet(text, frame.forces->col(atom));
        }
        text += '\n';
    }
    output << text;
    if (!output) {
        throw IoError("writing an extxyz frame failed; check that the disk is not full");
    }
}

}  // namespace chorus::models
