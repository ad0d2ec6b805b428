// libFuzzer target: the extended-XYZ reader over arbitrary text (all frames), then the writer's
// round trip: every frame read, once written by write_extxyz, reads back as the same frame, bit for
// bit. Reading may only throw InputError; writing, InputError (info it cannot write).
// Seeds: corpus/extxyz (the frames of tests/data/extxyz and a water frame).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <sstream>
#include <string>

#include "chorus/models/extxyz.hpp"
#include "fuzz_support.hpp"

namespace {

using chorus::fuzz::check;
using chorus::models::Frame;

template <class Matrix>
bool same_bits(const Matrix& a, const Matrix& b) {
    return a.rows() == b.rows() && a.cols() == b.cols() &&
           (a.size() == 0 ||  // an empty Eigen matrix's data() is null, which memcmp may not take
            std::memcmp(a.data(), b.data(), sizeof(double) * static_cast<std::size_t>(a.size())) == 0);
}

template <class Matrix>
bool same_bits(const std::optional<Matrix>& a, const std::optional<Matrix>& b) {
    return a.has_value() == b.has_value() && (!a || same_bits(*a, *b));
}

bool same_bits(const std::optional<double>& a, const std::optional<double>& b) {
    return a.has_value() == b.has_value() && (!a || std::memcmp(&*a, &*b, sizeof(double)) == 0);
}

void check_round_trip(const Frame& frame) {
    std::ostringstream written;
    if (!chorus::fuzz::succeeds_or_throws<chorus::InputError>(
            [&] { chorus::models::write_extxyz(written, frame); })) {
        return;
    }
    std::istringstream input(written.str());
    chorus::models::ExtxyzReader reader(input, "<written>");
    std::optional<Frame> again;
    if (!chorus::fuzz::succeeds_or_throws<chorus::InputError>([&] { again = reader.next(); }) || !again) {
        chorus::fuzz::finding("a frame written by write_extxyz does not read back:\n" + written.str());
    }
    const auto& a = frame.system;
    const auto& b = again->system;
    check(a.atomic_numbers() == b.atomic_numbers(), "round trip keeps the species");
    check(same_bits(a.positions(), b.positions()), "round trip keeps the positions bit for bit");
    check(a.periodic() == b.periodic(), "round trip keeps the periodicity");
    check(!a.periodic() || same_bits(a.cell(), b.cell()), "round trip keeps the cell bit for bit");
    check(same_bits(frame.energy, again->energy), "round trip keeps the energy");
    check(same_bits(frame.forces, again->forces), "round trip keeps the forces");
    check(same_bits(frame.virial, again->virial), "round trip keeps the virial");
    check(same_bits(frame.dipole, again->dipole), "round trip keeps the dipole");
    check(frame.info == again->info, "round trip keeps the info");
    std::optional<Frame> extra;
    check(chorus::fuzz::succeeds_or_throws<chorus::InputError>([&] { extra = reader.next(); }) && !extra,
          "write_extxyz writes one frame");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::istringstream input(std::string(chorus::fuzz::as_text(data, size)));
    chorus::models::ExtxyzReader reader(input, "<fuzz>");
    chorus::fuzz::succeeds_or_throws<chorus::InputError>([&] {
        while (std::optional<Frame> frame = reader.next()) {
            check(frame->system.size() == static_cast<std::size_t>(frame->system.positions().cols()),
                  "one position per atom");
            check(!frame->forces || frame->forces->cols() == frame->system.positions().cols(),
                  "one force per atom");
            check_round_trip(*frame);
        }
    });
    return 0;
}
