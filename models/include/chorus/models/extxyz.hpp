#pragma once
// Extended XYZ (ASE/QUIP dialect) reading and writing, so that chorus can train from labelled
// data without Python at run time. Units are those of the files: Å, eV, eV/Å, e·Å.
//
// What is understood on the comment line: Lattice="ax ay az bx by bz cx cy cz" (Å; becomes the
// columns of System::cell), Properties (name:type:cols triples, types S I R L; `species`
// or `Z` and `pos` are required, `forces` or `force` is read, other columns are skipped), pbc,
// energy, stress (9 values, or 6 in Voigt order xx yy zz yz xz xy; eV/Å³, ASE sign: stress = −W/V),
// virial (9 values, eV, i-PI sense), dipole, polarizability (9 values, row-major 3×3, as ASE writes
// a 3×3 array). Every other key lands in Frame::info as raw text.
// Values may be quoted with "…", '…', {…} or […], and \ escapes the next character, as in ASE.
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "chorus/engine/system.hpp"

namespace chorus::models {

struct Frame {
    // Å. Periodic when pbc is "T T T" (or absent with a Lattice); pbc "F F F" keeps the Lattice,
    // if any, in the cell but evaluates as isolated; mixed pbc is an error.
    engine::System system;
    std::optional<double> energy;            // eV, key `energy`
    std::optional<Eigen::Matrix3Xd> forces;  // eV/Å, 3×N, per-atom property `forces` (or `force`)
    // eV, i-PI convention W = −stress·V. From `virial` when present (exact), else from `stress`.
    std::optional<Eigen::Matrix3d> virial;
    std::optional<Eigen::Vector3d> dipole;  // e·Å, key `dipole`
    // Every other comment-line key with its unquoted, unescaped text. A bare flag (a key with no
    // `=`) reads as "T", which is what ASE makes of it.
    std::map<std::string, std::string> info;
    std::size_t line = 0;  // 1-based line of the frame's atom-count line (0 for frames built in code)
    // Key `polarizability`, 9 values row-major, in the units of the file (chorus documents e·Å²/V).
    // Last so that positional initialisers of the fields above stay valid.
    std::optional<Eigen::Matrix3d> polarizability{};
};

// Reads frames one at a time, so files larger than memory stream through. Malformed input throws
// InputError naming the file, the line, what was expected and what was found.
class ExtxyzReader {
public:
    // Throws IoError when the file cannot be opened.
    explicit ExtxyzReader(const std::filesystem::path& path);
    // `name` stands for the stream in error messages. The stream must outlive the reader.
    explicit ExtxyzReader(std::istream& input, std::string name = "<stream>");

    // The next frame, or nullopt at the end of the input (trailing blank lines are fine).
    std::optional<Frame> next();

private:
    bool read_line();
    std::string location() const;

    std::unique_ptr<std::ifstream> file_;  // set when the reader opened the file itself
    std::istream* input_;
    std::string name_;
    std::string line_;
    std::size_t line_number_ = 0;
};

// All frames of a file.
std::vector<Frame> read_extxyz(const std::filesystem::path& path);

// One frame, numbers in shortest round-trip form, so reading it back gives the same doubles bit for
// bit. Writes `virial` (exact for chorus) and, for periodic frames, `stress` (for ASE's calculator);
// ASE reads every file this writes. Throws InputError for info that cannot be written (a key
// chorus writes itself, a key or value with a newline, a key with spaces, quotes or '=').
void write_extxyz(std::ostream& output, const Frame& frame);

}  // namespace chorus::models
