#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "chorus/error.hpp"
#include "chorus/models/extxyz.hpp"
#include "test_support.hpp"

using Catch::Matchers::Contains;
using chorus::InputError;
using chorus::IoError;
using chorus::models::ExtxyzReader;
using chorus::models::Frame;
using chorus::models::read_extxyz;
using chorus::models::write_extxyz;
using nlohmann::json;

namespace {

// ASE's values pass through a decimal text and back; both sides round correctly, so 1e-12 is
// slack for the one computed quantity (the virial from stress·V).
void check_close(double actual, double expected) {
    CHECK(std::abs(actual - expected) <= 1e-12 * std::max(1.0, std::abs(expected)));
}

void check_info_value(const std::string& raw, const json& expected) {
    if (expected.is_string()) {
        CHECK(raw == expected.get<std::string>());
    } else if (expected.is_boolean()) {
        CHECK(raw == (expected.get<bool>() ? "T" : "F"));
    } else if (expected.is_number()) {
        check_close(std::stod(raw), expected.get<double>());
    } else if (expected.is_array()) {
        std::istringstream values(raw);
        for (const json& element : expected) {
            double value = 0.0;
            REQUIRE(values >> value);
            check_close(value, element.get<double>());
        }
    } else {
        FAIL("unexpected info value in reference.json: " << expected.dump());
    }
}

void check_against_ase(const Frame& frame, const json& expected) {
    CHECK(frame.line == expected["line"].get<std::size_t>());
    const auto& system = frame.system;
    REQUIRE(system.size() == expected["numbers"].size());
    CHECK(system.atomic_numbers() == expected["numbers"].get<std::vector<int>>());
    for (std::size_t atom = 0; atom < system.size(); ++atom) {
        for (int axis = 0; axis < 3; ++axis) {
            check_close(system.positions()(axis, static_cast<Eigen::Index>(atom)),
                        expected["positions"][atom][axis].get<double>());
        }
    }
    // ASE's cell rows are the lattice vectors; System's columns are.
    for (int vector = 0; vector < 3; ++vector) {
        for (int axis = 0; axis < 3; ++axis) {
            check_close(system.cell()(axis, vector), expected["cell"][vector][axis].get<double>());
        }
    }
    for (const json& periodic : expected["pbc"]) {
        CHECK(system.periodic() == periodic.get<bool>());
    }

    REQUIRE(frame.energy.has_value() == expected.contains("energy"));
    if (frame.energy) {
        check_close(*frame.energy, expected["energy"].get<double>());
    }
    REQUIRE(frame.forces.has_value() == expected.contains("forces"));
    if (frame.forces) {
        REQUIRE(static_cast<std::size_t>(frame.forces->cols()) == system.size());
        for (std::size_t atom = 0; atom < system.size(); ++atom) {
            for (int axis = 0; axis < 3; ++axis) {
                check_close((*frame.forces)(axis, static_cast<Eigen::Index>(atom)),
                            expected["forces"][atom][axis].get<double>());
            }
        }
    }
    REQUIRE(frame.virial.has_value() == expected.contains("virial"));
    if (frame.virial) {
        for (int row = 0; row < 3; ++row) {
            for (int column = 0; column < 3; ++column) {
                check_close((*frame.virial)(row, column), expected["virial"][row][column].get<double>());
            }
        }
    }
    REQUIRE(frame.dipole.has_value() == expected.contains("dipole"));
    if (frame.dipole) {
        for (int axis = 0; axis < 3; ++axis) {
            check_close((*frame.dipole)(axis), expected["dipole"][axis].get<double>());
        }
    }
    REQUIRE(frame.info.size() == expected["info"].size());
    for (const auto& [key, value] : expected["info"].items()) {
        INFO("info key " << key);
        REQUIRE(frame.info.count(key) == 1);
        check_info_value(frame.info.at(key), value);
    }
}

json ase_reference() {
    std::ifstream file(chorus::test::data_path("extxyz/reference.json"));
    REQUIRE(file);
    return json::parse(file);
}

std::vector<Frame> read_text(const std::string& text) {
    std::istringstream input(text);
    ExtxyzReader reader(input, "bad.xyz");
    std::vector<Frame> frames;
    while (auto frame = reader.next()) {
        frames.push_back(std::move(*frame));
    }
    return frames;
}

std::string write_text(const std::vector<Frame>& frames) {
    std::ostringstream output;
    for (const Frame& frame : frames) {
        write_extxyz(output, frame);
    }
    return output.str();
}

// Bit for bit: == on doubles, so -0.0 == 0.0 would pass; compare the signs too.
template <typename Matrix>
void check_identical(const Matrix& actual, const Matrix& expected) {
    REQUIRE(actual.rows() == expected.rows());
    REQUIRE(actual.cols() == expected.cols());
    for (Eigen::Index i = 0; i < expected.size(); ++i) {
        CHECK(actual.data()[i] == expected.data()[i]);
        CHECK(std::signbit(actual.data()[i]) == std::signbit(expected.data()[i]));
    }
}

void check_identical(const Frame& actual, const Frame& expected) {
    CHECK(actual.system.atomic_numbers() == expected.system.atomic_numbers());
    check_identical(actual.system.positions(), expected.system.positions());
    check_identical(actual.system.cell(), expected.system.cell());
    CHECK(actual.system.periodic() == expected.system.periodic());
    REQUIRE(actual.energy.has_value() == expected.energy.has_value());
    if (expected.energy) {
        CHECK(*actual.energy == *expected.energy);
    }
    REQUIRE(actual.forces.has_value() == expected.forces.has_value());
    if (expected.forces) {
        check_identical(*actual.forces, *expected.forces);
    }
    REQUIRE(actual.virial.has_value() == expected.virial.has_value());
    if (expected.virial) {
        check_identical(*actual.virial, *expected.virial);
    }
    REQUIRE(actual.dipole.has_value() == expected.dipole.has_value());
    if (expected.dipole) {
        check_identical(*actual.dipole, *expected.dipole);
    }
    CHECK(actual.info == expected.info);
}

}  // namespace

TEST_CASE("extxyz fixtures read as ASE reads them", "[extxyz]") {
    const json reference = ase_reference();
    for (const auto& [name, frames] : reference.items()) {
        SECTION(name) {
            const auto read = read_extxyz(chorus::test::data_path("extxyz/" + name));
            REQUIRE(read.size() == frames.size());
            for (std::size_t i = 0; i < read.size(); ++i) {
                INFO("frame " << i);
                check_against_ase(read[i], frames[i]);
            }
        }
    }
}

TEST_CASE("the hand-written fixture frame exercises the odd corners of the format", "[extxyz]") {
    // Columns out of the usual order, `force` for forces, `key = value`, a bare flag, '…' and {…}.
    const auto frames = read_extxyz(chorus::test::data_path("extxyz/quoted_columns.xyz"));
    REQUIRE(frames.size() == 2);
    const Frame& frame = frames[1];
    CHECK(frame.system.atomic_numbers() == std::vector<int>{8, 1, 1});
    CHECK(frame.system.positions()(0, 1) == 0.9);
    CHECK(frame.energy == -12.5);
    REQUIRE(frame.forces);
    CHECK((*frame.forces)(2, 1) == 0.5);  // written "+0.5"
    CHECK(frame.info.at("converged") == "T");
    CHECK(frame.info.at("comment") == "single quoted");
    CHECK(frame.info.at("tags") == "1 2 3");
    CHECK_FALSE(frame.system.periodic());
}

TEST_CASE("write then read gives the same frames bit for bit", "[extxyz]") {
    for (const char* name : {"periodic_triclinic.xyz", "molecule_dipole.xyz", "quoted_columns.xyz"}) {
        SECTION(name) {
            const auto original = read_extxyz(chorus::test::data_path(std::string("extxyz/") + name));
            const std::string written = write_text(original);
            const auto again = read_text(written);
            REQUIRE(again.size() == original.size());
            for (std::size_t i = 0; i < original.size(); ++i) {
                INFO("frame " << i);
                check_identical(again[i], original[i]);
            }
            CHECK(write_text(again) == written);  // and the text is a fixed point
        }
    }
}

TEST_CASE("awkward doubles and info values survive a round trip", "[extxyz]") {
    Eigen::Matrix3Xd positions(3, 2);
    positions << 0.1 + 0.2, -0.0, std::numeric_limits<double>::denorm_min(), 1e300,
        std::numeric_limits<double>::max(), -std::numeric_limits<double>::min();
    Eigen::Matrix3d cell;
    cell << 3.0, 1.0 / 3.0, 0.0, 0.0, 4.0 + 1e-15, 0.0, 0.0, 0.0, 5.0;
    Frame frame{chorus::engine::System({1, 0}, positions, cell, true),
                2.0 / 3.0,
                Eigen::Matrix3Xd::Random(3, 2),
                Eigen::Matrix3d::Random(),
                Eigen::Vector3d(1e-20, -7.0, 123456789.123456789),
                {},
                0};
    frame.info = {{"quoted", "a \"b\" c"}, {"backslash", "C:\\dir\\file"}, {"empty", ""},
                  {"equals", "a=b"},       {"braces", "{x} [y]"},          {"plain", "word"}};
    const auto again = read_text(write_text({frame}));
    REQUIRE(again.size() == 1);
    check_identical(again[0], frame);
}

TEST_CASE("the reader streams one frame at a time and tolerates CRLF and trailing blank lines", "[extxyz]") {
    std::istringstream input("1\r\nenergy=1.5\r\nH 0 0 0\r\n2\n\nHe 1 2 3\nX 4 5 6\n\n  \n");
    ExtxyzReader reader(input, "two.xyz");
    auto first = reader.next();
    REQUIRE(first);
    CHECK(first->energy == 1.5);
    CHECK(first->line == 1);
    auto second = reader.next();
    REQUIRE(second);
    CHECK(second->line == 4);
    CHECK(second->system.atomic_numbers() == std::vector<int>{2, 0});
    CHECK(second->system.positions()(2, 1) == 6.0);
    CHECK_FALSE(second->energy);
    CHECK_FALSE(second->forces);
    CHECK_FALSE(reader.next());
    CHECK_FALSE(reader.next());
}

TEST_CASE("stress in Voigt order becomes the i-PI virial -stress·V", "[extxyz]") {
    const auto frames = read_text(
        "1\nLattice=\"2 0 0 0 3 0 0 0 4\" stress=\"1 2 3 4 5 6\" Properties=species:S:1:pos:R:3\nAr 0 0 0\n");
    REQUIRE(frames.size() == 1);
    REQUIRE(frames[0].virial);
    Eigen::Matrix3d expected;
    expected << 1, 6, 5, 6, 2, 4, 5, 4, 3;  // xx yy zz yz xz xy
    CHECK(*frames[0].virial == -24.0 * expected);
    CHECK(frames[0].system.periodic());  // a Lattice without pbc is periodic, as in ASE
}

TEST_CASE("atomic numbers may come from a Z column", "[extxyz]") {
    const auto frames = read_text("2\nProperties=Z:I:1:pos:R:3\n8 0 0 0\n1 1 0 0\n");
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].system.atomic_numbers() == std::vector<int>{8, 1});
}

TEST_CASE("a non-periodic frame keeps its Lattice", "[extxyz]") {
    const auto frames = read_text("1\nLattice=\"9 0 0 0 9 0 0 0 9\" pbc=\"F F F\"\nO 0 0 0\n");
    REQUIRE(frames.size() == 1);
    CHECK_FALSE(frames[0].system.periodic());
    CHECK(frames[0].system.cell() == Eigen::Matrix3d::Identity() * 9.0);
    check_identical(read_text(write_text(frames))[0], frames[0]);
}

TEST_CASE("malformed extxyz is rejected with file, line, expected and found", "[extxyz][errors]") {
    const auto rejects = [](const std::string& text, const std::string& message) {
        INFO(text);
        CHECK_THROWS_AS(read_text(text), InputError);
        CHECK_THROWS_WITH(read_text(text), Contains(message));
    };
    const std::string ok_atom = "H 0 0 0\n";

    SECTION("atom count line") {
        rejects("two\n\nH 0 0 0\n",
                "bad.xyz:1: expected the number of atoms of a frame (a non-negative integer "
                "alone on the line) but found 'two'");
        rejects("-1\n\n", "found '-1'");
        rejects("1.5\n\n", "found '1.5'");
        rejects("1 2\n\n", "found '1 2'");
        rejects("1\n\nH 0 0 0\nH 1 1 1\n", "bad.xyz:4: expected the number of atoms");  // count too small
    }
    SECTION("column counts") {
        rejects("1\n\nH 0 0\n",
                "bad.xyz:3: expected 4 columns (species:S:1 pos:R:3) for atom index 0 but found 3");
        rejects("1\n\nH 0 0 0 0\n", "expected 4 columns (species:S:1 pos:R:3) for atom index 0 but found 5");
        rejects("2\nProperties=species:S:1:pos:R:3:forces:R:3:q:R:1\nH 0 0 0 1 1 1 0\nH 0 0 0 1 1 1\n",
                "bad.xyz:4: expected 8 columns (species:S:1 pos:R:3 forces:R:3 q:R:1) for atom index 1 but "
                "found 7");
    }
    SECTION("non-numeric and non-finite values") {
        rejects("1\n\nH 0 zero 0\n",
                "bad.xyz:3: expected a number for y position (column 3) of atom index 0 but found 'zero'");
        rejects("1\n\nH 0 0 0.5.5\n",
                "expected a number for z position (column 4) of atom index 0 but found '0.5.5'");
        rejects("1\n\nH nan 0 0\n",
                "bad.xyz:3: x position (column 2) of atom index 0 is 'nan'; NaN and infinite");
        rejects("1\nProperties=species:S:1:pos:R:3:forces:R:3\nH 0 0 0 0 -inf 0\n",
                "y force (column 6) of atom index 0 is '-inf'");
        rejects("1\nenergy=NaN\n" + ok_atom, "bad.xyz:2: value 1 of energy is 'NaN'");
        rejects("1\nenergy=low\n" + ok_atom,
                "bad.xyz:2: expected a number for value 1 of energy but found 'low'");
        rejects("1\nenergy=\"1 2\"\n" + ok_atom, "expected one number for energy but found '1 2'");
        rejects("1\ndipole=\"1 2\"\n" + ok_atom, "expected 3 numbers in dipole but found 2");
    }
    SECTION("unknown elements") {
        rejects("1\n\nCL 0 0 0\n",
                "bad.xyz:3: atom index 0: 'CL' is not an element symbol; did you mean Cl?");
        rejects("1\n\nWater 0 0 0\n", "'Water' is not an element symbol");
        rejects("1\nProperties=Z:I:1:pos:R:3\n119 0 0 0\n",
                "expected an atomic number (0 to 118) in column Z of atom index 0 but found '119'");
    }
    SECTION("Properties") {
        rejects("1\nProperties=pos:R:3\n0 0 0\n", "bad.xyz:2: Properties='pos:R:3' has no species column");
        rejects("1\nProperties=species:S:1\nH\n", "Properties='species:S:1' has no pos column; add pos:R:3");
        rejects("1\nProperties=species:S:1:pos:R:2\nH 0 0\n", "expected pos:R:3 but found pos:R:2");
        rejects("1\nProperties=species:S:1:pos:R\nH 0 0 0\n", "is not a list of name:type:columns triples");
        rejects("1\nProperties=species:S:1:pos:Q:3\nH 0 0 0\n",
                "expected type R, I, S or L for 'pos' but found 'Q'");
        rejects("1\nProperties=species:S:1:pos:R:three\nH 0 0 0\n",
                "expected a positive column count for 'pos' but found 'three'");
        rejects("1\nProperties=species:S:1:pos:R:3:forces:R:2\nH 0 0 0 0 0\n",
                "expected forces:R:3 but found forces:R:2");
    }
    SECTION("truncated files") {
        rejects("3\n\nH 0 0 0\n",
                "bad.xyz:4: expected atom line 2 of 3 but the file ends (frame of 3 atoms "
                "announced on line 1 is truncated)");
        rejects("1\n\nH 0 0 0\n2\n", "bad.xyz:5: expected the comment line but the file ends");
    }
    SECTION("cells and periodicity") {
        rejects("1\nLattice=\"1 0 0 0 1 0 0 0\"\n" + ok_atom,
                "bad.xyz:2: expected 9 numbers in Lattice but found 8 in '1 0 0 0 1 0 0 0'");
        rejects("1\npbc=\"T T T\"\n" + ok_atom, "bad.xyz:2: pbc=\"T T T\" but no Lattice");
        rejects("1\nLattice=\"1 0 0 0 1 0 0 0 1\" pbc=\"T T F\"\n" + ok_atom,
                "bad.xyz:2: mixed periodicity pbc=\"T T F\" is not supported");
        rejects("1\nLattice=\"1 0 0 0 1 0 0 0 1\" pbc=yes\n" + ok_atom,
                "expected pbc=\"T T T\" or pbc=\"F F F\" but found pbc='yes'");
        rejects("1\nLattice=\"1 0 0 2 0 0 0 0 1\"\n" + ok_atom, "bad.xyz:2: periodic cell is singular");
        rejects("1\nstress=\"1 2 3 4 5 6\"\n" + ok_atom, "bad.xyz:2: stress needs a cell volume");
        rejects("1\nLattice=\"1 0 0 0 1 0 0 0 1\" stress=\"1 2 3\"\n" + ok_atom,
                "expected 9 numbers (3×3) or 6 (Voigt xx yy zz yz xz xy) in stress but found 3");
    }
    SECTION("comment line syntax") {
        rejects("1\nsource=\"unterminated\n" + ok_atom,
                "bad.xyz:2: comment line has an unterminated \" opened");
        rejects("1\n=value\n" + ok_atom, "comment line has '=' with no key");
        rejects("1\nLattice\n" + ok_atom, "comment line has the key Lattice with no value");
    }
}

TEST_CASE("a missing file is an IoError naming it", "[extxyz][errors]") {
    CHECK_THROWS_AS(read_extxyz("/nonexistent/frames.xyz"), IoError);
    CHECK_THROWS_WITH(read_extxyz("/nonexistent/frames.xyz"), Contains("'/nonexistent/frames.xyz'"));
}

TEST_CASE("the writer refuses info it cannot represent", "[extxyz][errors]") {
    Frame frame{chorus::engine::System({1}, Eigen::Matrix3Xd::Zero(3, 1), Eigen::Matrix3d::Zero(), false),
                std::nullopt,
                std::nullopt,
                std::nullopt,
                std::nullopt,
                {},
                0};
    std::ostringstream output;
    frame.info = {{"energy", "1.0"}};
    CHECK_THROWS_WITH(write_extxyz(output, frame),
                      Contains("info has the key 'energy', which chorus writes"));
    frame.info = {{"two words", "1.0"}};
    CHECK_THROWS_WITH(write_extxyz(output, frame), Contains("info key 'two words' cannot be written"));
    frame.info = {{"note", "line\nbreak"}};
    CHECK_THROWS_WITH(write_extxyz(output, frame), Contains("value of 'note' contains a line break"));
    frame.info = {};
    frame.forces = Eigen::Matrix3Xd::Zero(3, 2);
    CHECK_THROWS_WITH(write_extxyz(output, frame), Contains("frame has 1 atoms but 2 forces"));
}

// The shared data set sits beside the repository (../shared/data); a checkout without it skips.
TEST_CASE("the shared water data sets read completely", "[extxyz][data]") {
    const auto data = std::filesystem::path(CHORUS_TEST_DATA_DIR) / ".." / ".." / ".." / "shared" / "data";
    if (!std::filesystem::exists(data / "liquid-water-qtip4pf.xyz") ||
        !std::filesystem::exists(data / "water-clusters-gfn2.xyz")) {
        WARN("skipped: shared data not found at " << data.lexically_normal().string());
        return;
    }
    // Reference values as ASE 3.22 reads them (ase.io.read(path, index=':')).
    SECTION("liquid water, q-TIP4P/F") {
        const auto frames = read_extxyz(data / "liquid-water-qtip4pf.xyz");
        REQUIRE(frames.size() == 490);
        CHECK(frames.front().energy == -27.57338349);
        CHECK(frames.back().energy == -16.98390448);
        CHECK(frames.front().system.size() == 192);
        CHECK(frames.front().system.periodic());
        CHECK(frames.front().system.cell()(0, 0) == 12.41735492);
        CHECK((*frames.front().forces)(0, 0) == 0.1554666);
        CHECK(frames.back().system.positions()(2, 191) == 2.87558);
        // ASE: stress[0] * volume; ours is −W_xx.
        check_close(-(*frames.front().virial)(0, 0), 3.6420586286708834);
        CHECK(frames.front().info.at("source") == "nvt_classical_300K");
        for (const Frame& frame : frames) {
            CHECK((frame.energy && frame.forces && frame.virial && frame.system.size() == 192));
        }
    }
    SECTION("water clusters, GFN2-xTB") {
        const auto frames = read_extxyz(data / "water-clusters-gfn2.xyz");
        REQUIRE(frames.size() == 840);
        CHECK(frames.front().energy == -137.9717915571);
        CHECK(frames.back().energy == -1104.0630564441);
        CHECK(frames.front().system.size() == 3);
        CHECK(frames.back().system.size() == 24);
        CHECK_FALSE(frames.front().system.periodic());
        CHECK((*frames.front().forces)(0, 0) == 0.0685209);
        CHECK(frames.back().system.positions()(2, 23) == 1.22007173);
        CHECK((*frames.front().dipole)(2) == -0.0534469);
        CHECK(frames.front().info.at("method") == "GFN2-xTB");
        CHECK(frames.front().info.at("temperature") == "300.0");
    }
}
