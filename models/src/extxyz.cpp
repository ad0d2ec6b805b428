#include "chorus/models/extxyz.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <istream>
#include <utility>

#include <Eigen/LU>

#include "chorus/engine/elements.hpp"
#include "chorus/error.hpp"
#include "extxyz_comment_line.hpp"
#include "extxyz_properties.hpp"
#include "extxyz_text.hpp"

namespace chorus::models {
namespace {

using extxyz_detail::fail;
using extxyz_detail::in_quotes;
using extxyz_detail::Location;
using extxyz_detail::parse_real;

// What a comment line says about its frame.
struct Header {
    std::optional<Eigen::Matrix3d> lattice;  // vectors as columns
    std::optional<bool> periodic;            // from pbc; nullopt when pbc is absent
    extxyz_detail::PropertyLayout layout = extxyz_detail::default_properties();
    std::optional<double> energy;
    std::optional<Eigen::Matrix3d> stress;  // eV/Å³
    std::optional<Eigen::Matrix3d> virial;  // eV
    std::optional<Eigen::Vector3d> dipole;  // e·Å
    std::optional<Eigen::Matrix3d> polarizability;
    std::map<std::string, std::string> info;
};

bool is_blank(std::string_view line) {
    return std::all_of(line.begin(), line.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

std::vector<double> parse_reals(const std::string& key, const std::string& value, const Location& where) {
    std::vector<std::string_view> fields;
    extxyz_detail::split_fields(value, fields, /*commas_separate=*/true);
    std::vector<double> numbers;
    numbers.reserve(fields.size());
    for (std::size_t i = 0; i < fields.size(); ++i) {
        numbers.push_back(parse_real(fields[i], "value " + std::to_string(i + 1) + " of " + key, where));
    }
    return numbers;
}

// extxyz writes 3×3 tensors in Fortran (column-major) order, which is Eigen's: for Lattice the
// columns are then the lattice vectors, as System wants them.
Eigen::Matrix3d parse_matrix(const std::string& key, const std::string& value, const Location& where) {
    const auto numbers = parse_reals(key, value, where);
    if (numbers.size() != 9) {
        fail(where, "expected 9 numbers in " + key + " but found " + std::to_string(numbers.size()) + " in " +
                        in_quotes(value) +
                        (key == "Lattice" ? "; write the three lattice vectors, Å: "
                                            "Lattice=\"ax ay az bx by bz cx cy cz\""
                                          : ""));
    }
    return Eigen::Map<const Eigen::Matrix3d>(numbers.data());
}

// 9 values, or the 6 of Voigt order xx yy zz yz xz xy.
Eigen::Matrix3d parse_stress(const std::string& value, const Location& where) {
    const auto numbers = parse_reals("stress", value, where);
    if (numbers.size() == 9) {
        return Eigen::Map<const Eigen::Matrix3d>(numbers.data());
    }
    if (numbers.size() == 6) {
        const double xx = numbers[0], yy = numbers[1], zz = numbers[2];
        const double yz = numbers[3], xz = numbers[4], xy = numbers[5];
        Eigen::Matrix3d stress;
        stress << xx, xy, xz, xy, yy, yz, xz, yz, zz;
        return stress;
    }
    fail(where, "expected 9 numbers (3×3) or 6 (Voigt xx yy zz yz xz xy) in stress but found " +
                    std::to_string(numbers.size()) + " in " + in_quotes(value));
}

Eigen::Vector3d parse_vector(const std::string& key, const std::string& value, const Location& where) {
    const auto numbers = parse_reals(key, value, where);
    if (numbers.size() != 3) {
        fail(where, "expected 3 numbers in " + key + " but found " + std::to_string(numbers.size()) + " in " +
                        in_quotes(value));
    }
    return {numbers[0], numbers[1], numbers[2]};
}

// 9 values, row by row (ASE writes a 3×3 info array flattened in C order).
Eigen::Matrix3d parse_row_major_matrix(const std::string& key, const std::string& value,
                                       const Location& where) {
    const auto numbers = parse_reals(key, value, where);
    if (numbers.size() != 9) {
        fail(where, "expected 9 numbers (a 3×3 tensor, row by row) in " + key + " but found " +
                        std::to_string(numbers.size()) + " in " + in_quotes(value));
    }
    return Eigen::Map<const Eigen::Matrix<double, 3, 3, Eigen::RowMajor>>(numbers.data());
}

// chorus evaluates either fully periodic cells or isolated structures, so pbc must be uniform.
bool parse_pbc(const std::string& value, const Location& where) {
    std::vector<std::string_view> fields;
    extxyz_detail::split_fields(value, fields, /*commas_separate=*/true);
    const bool well_formed =
        (fields.size() == 1 || fields.size() == 3) &&
        std::all_of(fields.begin(), fields.end(), [](std::string_view f) { return f == "T" || f == "F"; });
    if (!well_formed) {
        fail(where, "expected pbc=\"T T T\" or pbc=\"F F F\" but found pbc=" + in_quotes(value));
    }
    const bool first = fields.front() == "T";
    for (const std::string_view field : fields) {
        if ((field == "T") != first) {
            fail(where,
                 "mixed periodicity pbc=\"" + value +
                     "\" is not supported; chorus handles fully periodic cells (\"T T T\") or isolated "
                     "structures (\"F F F\")");
        }
    }
    return first;
}

double parse_single_real(const std::string& key, const std::string& value, const Location& where) {
    const auto numbers = parse_reals(key, value, where);
    if (numbers.size() != 1) {
        fail(where, "expected one number for " + key + " but found " + in_quotes(value));
    }
    return numbers.front();
}

Header parse_header(std::string_view line, const Location& where) {
    Header header;
    for (auto& [key, value] : extxyz_detail::parse_comment_line(line, where)) {
        if (!value) {
            // A bare flag means true to ASE, and to us: reserved keys need a value.
            if (key == "Lattice" || key == "Properties" || key == "pbc" || key == "energy" ||
                key == "stress" || key == "virial" || key == "dipole" || key == "polarizability") {
                fail(where, std::string("comment line has the key ")
                                .append(key)
                                .append(" with no value; write ")
                                .append(key)
                                .append("=…"));
            }
            header.info.insert_or_assign(std::move(key), std::string(1, 'T'));
        } else if (key == "Lattice") {
            header.lattice = parse_matrix(key, *value, where);
        } else if (key == "Properties") {
            header.layout = extxyz_detail::parse_properties(*value, where);
        } else if (key == "pbc") {
            header.periodic = parse_pbc(*value, where);
        } else if (key == "energy") {
            header.energy = parse_single_real(key, *value, where);
        } else if (key == "stress") {
            header.stress = parse_stress(*value, where);
        } else if (key == "virial") {
            header.virial = parse_matrix(key, *value, where);
        } else if (key == "dipole") {
            header.dipole = parse_vector(key, *value, where);
        } else if (key == "polarizability") {
            header.polarizability = parse_row_major_matrix(key, *value, where);
        } else {
            header.info.insert_or_assign(std::move(key), std::move(*value));
        }
    }
    return header;
}

std::size_t parse_atom_count(std::string_view line, const Location& where) {
    std::vector<std::string_view> fields;
    extxyz_detail::split_fields(line, fields);
    std::size_t count = 0;
    if (fields.size() == 1) {
        const std::string_view text = fields.front();
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), count);
        if (error == std::errc() && end == text.data() + text.size()) {
            return count;
        }
    }
    fail(where,
         "expected the number of atoms of a frame (a non-negative integer alone on the line) but found " +
             in_quotes(line));
}

constexpr const char* axis_name(int axis) {
    constexpr const char* names[] = {"x", "y", "z"};
    return names[axis];
}

// Reads the three numbers of `quantity` starting at `first` into `out`.
void read_triplet(const std::vector<std::string_view>& fields, std::size_t first, const char* quantity,
                  std::size_t atom, double* out, const Location& where) {
    for (int axis = 0; axis < 3; ++axis) {
        const std::string_view token = fields[first + static_cast<std::size_t>(axis)];
        const auto value = extxyz_detail::to_double(token);
        if (value && std::isfinite(*value)) {
            out[axis] = *value;
            continue;
        }
        // Only a bad line pays for building the message.
        parse_real(token,
                   std::string(axis_name(axis)) + " " + quantity + " (column " +
                       std::to_string(first + static_cast<std::size_t>(axis) + 1) + ") of atom index " +
                       std::to_string(atom),
                   where);
    }
}

int read_species(std::string_view token, bool is_number, std::size_t atom, const Location& where) {
    if (is_number) {
        int number = -1;
        const auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), number);
        if (error != std::errc() || end != token.data() + token.size() || number < 0 ||
            number > engine::max_atomic_number) {
            fail(where, "expected an atomic number (0 to " + std::to_string(engine::max_atomic_number) +
                            ") in column Z of atom index " + std::to_string(atom) + " but found " +
                            in_quotes(token));
        }
        return number;
    }
    if (const auto number = engine::find_atomic_number(token)) {
        return *number;
    }
    try {
        return engine::atomic_number(token);  // throws, with close matches
    } catch (const InputError& error) {
        fail(where, "atom index " + std::to_string(atom) + ": " + error.what());
    }
}

}  // namespace

ExtxyzReader::ExtxyzReader(const std::filesystem::path& path)
    : file_(std::make_unique<std::ifstream>(path)), input_(file_.get()), name_(path.string()) {
    if (!*file_) {
        throw IoError("cannot open extxyz file '" + name_ + "': " + std::strerror(errno) +
                      "; check the path and its permissions");
    }
}

ExtxyzReader::ExtxyzReader(std::istream& input, std::string name) : input_(&input), name_(std::move(name)) {}

bool ExtxyzReader::read_line() {
    if (!std::getline(*input_, line_)) {
        if (input_->bad()) {
            throw IoError(location() + ": reading failed: " + std::strerror(errno));
        }
        return false;
    }
    ++line_number_;
    return true;
}

std::string ExtxyzReader::location() const { return name_ + ":" + std::to_string(line_number_); }

std::optional<Frame> ExtxyzReader::next() {
    do {
        if (!read_line()) {
            return std::nullopt;
        }
    } while (is_blank(line_));

    const std::size_t count_line = line_number_;
    const std::size_t atoms = parse_atom_count(line_, {name_, line_number_});
    const auto truncated = [&](const std::string& expected) {
        fail({name_, line_number_ + 1}, "expected " + expected + " but the file ends (frame of " +
                                            std::to_string(atoms) + " atoms announced on line " +
                                            std::to_string(count_line) + " is truncated)");
    };
    if (!read_line()) {
        truncated("the comment line");
    }
    Header header = parse_header(line_, {name_, line_number_});
    const extxyz_detail::PropertyLayout& layout = header.layout;

    // Grown line by line rather than sized from the count, so a corrupt count cannot demand
    // more memory than the file could fill.
    std::vector<int> numbers;
    std::vector<double> positions;
    std::vector<double> forces;
    std::vector<std::string_view> fields;
    for (std::size_t atom = 0; atom < atoms; ++atom) {
        if (!read_line()) {
            truncated("atom line " + std::to_string(atom + 1) + " of " + std::to_string(atoms));
        }
        const Location where{name_, line_number_};
        fields.clear();
        extxyz_detail::split_fields(line_, fields);
        if (fields.size() != layout.columns) {
            fail(where, "expected " + std::to_string(layout.columns) + " columns (" + layout.description +
                            ") for atom index " + std::to_string(atom) + " but found " +
                            std::to_string(fields.size()) +
                            (fields.size() == 0 ? "" : " in " + in_quotes(line_)) +
                            "; is the atom count on line " + std::to_string(count_line) + " right?");
        }
        numbers.push_back(read_species(fields[layout.species], layout.species_are_numbers, atom, where));
        positions.resize(positions.size() + 3);
        read_triplet(fields, layout.positions, "position", atom, positions.data() + positions.size() - 3,
                     where);
        if (layout.forces) {
            forces.resize(forces.size() + 3);
            read_triplet(fields, *layout.forces, "force", atom, forces.data() + forces.size() - 3, where);
        }
    }

    const Location header_line{name_, count_line + 1};
    const bool periodic = header.periodic.value_or(header.lattice.has_value());
    if (periodic && !header.lattice) {
        fail(header_line,
             "pbc=\"T T T\" but no Lattice; give the cell as Lattice=\"ax ay az bx by bz cx cy cz\" "
             "(Å) or set pbc=\"F F F\" for an isolated structure");
    }
    std::optional<Eigen::Matrix3d> virial = header.virial;
    if (!virial && header.stress) {
        if (!header.lattice) {
            fail(header_line,
                 "stress needs a cell volume but the frame has no Lattice; give a Lattice, or the "
                 "virial (eV) instead of the stress");
        }
        virial = -*header.stress * std::abs(header.lattice->determinant());
    }

    const auto count = static_cast<Eigen::Index>(atoms);
    try {
        Frame frame{
            engine::System(std::move(numbers), Eigen::Map<const Eigen::Matrix3Xd>(positions.data(), 3, count),
                           header.lattice.value_or(Eigen::Matrix3d::Zero()), periodic),
            header.energy,
            std::nullopt,
            virial,
            header.dipole,
            std::move(header.info),
            count_line};
        frame.polarizability = header.polarizability;
        if (layout.forces) {
            frame.forces = Eigen::Map<const Eigen::Matrix3Xd>(forces.data(), 3, count);
        }
        return frame;
    } catch (const InputError& error) {
        fail(header_line, error.what());  // e.g. a singular Lattice
    }
}

std::vector<Frame> read_extxyz(const std::filesystem::path& path) {
    ExtxyzReader reader(path);
    std::vector<Frame> frames;
    while (auto frame = reader.next()) {
        frames.push_back(std::move(*frame));
    }
    return frames;
}

}  // namespace chorus::models
