// The committee log: per-atom energies behind its last column (LJ sums, calibration, NaN for
// models without them), the exact text of header and records, the round trip through
// `chorus reweight`'s reader, append-after-restart, a full disk and a full queue.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

#include <catch2/catch.hpp>

#include "chorus/engine/system.hpp"
#include "chorus/models/lennard_jones.hpp"
#include "committee_log.hpp"
#include "evaluator.hpp"
#include "reweight_committee_log.hpp"
#include "toy_committee.hpp"

namespace {

using chorus::server::CommitteeLog;
using chorus::server::CommitteeLogHeader;
using chorus::server::CommitteeLogRecord;

std::string read_text(const std::filesystem::path& path) {
    std::ifstream file(path);
    return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

// A file path in a fresh directory, removed at scope exit.
class ScratchFile {
public:
    ScratchFile() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "chorus-commlog-test-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        directory_ = pattern;
    }
    ~ScratchFile() { std::filesystem::remove_all(directory_); }
    std::string path() const { return (directory_ / "committee.log").string(); }

private:
    std::filesystem::path directory_;
};

// 27 argon atoms jittered on a cubic lattice in a box smaller than twice the cutoff, so that
// atoms see their own periodic images (the self-image pairs of the kernel).
chorus::engine::System small_argon_box() {
    std::mt19937 generator(7);
    std::normal_distribution<double> jitter(0.0, 0.1);
    Eigen::Matrix3Xd positions(3, 27);
    for (int n = 0; n < 27; ++n) {
        positions.col(n) = Eigen::Vector3d(n % 3, (n / 3) % 3, n / 9) * 3.7 +
                           Eigen::Vector3d(jitter(generator), jitter(generator), jitter(generator));
    }
    return {std::vector<int>(27, 18), positions, Eigen::Matrix3d::Identity() * 11.1, true};
}

chorus::models::LennardJonesCommittee lj_committee(double alpha = 1.0) {
    return chorus::models::LennardJonesCommittee({{0.0104, 3.40}, {0.0110, 3.36}, {0.0098, 3.45}}, 8.0,
                                                 alpha);
}

CommitteeLogRecord sample_record(double offset) {
    CommitteeLogRecord record;
    record.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'700'000'000'123));
    record.connection = "unix:/tmp/ipi_x #0";
    record.bead = 2;
    record.atoms = 64;
    record.member_energies = {-1.0 / 3.0 + offset, 0.1 + offset, 2.0 / 7.0 + offset};
    record.energy = (record.member_energies[0] + record.member_energies[1] + record.member_energies[2]) / 3.0;
    record.max_atomic_sigma = 1e-3;
    return record;
}

}  // namespace

TEST_CASE("per-atom LJ energies sum to each member's energy, self images and shift included",
          "[committee_log]") {
    const auto model = lj_committee();
    const auto system = small_argon_box();
    chorus::engine::ComputeRequest request;
    request.atomic_energies = true;
    chorus::engine::CommitteeResult result;
    model.evaluate(system, request, result);
    REQUIRE(result.member_atomic_energies.rows() == 27);
    REQUIRE(result.member_atomic_energies.cols() == 3);
    for (Eigen::Index k = 0; k < 3; ++k) {
        CHECK(result.member_atomic_energies.col(k).sum() == Approx(result.member_energies[k]).epsilon(1e-13));
    }
    // Without the request nothing is allocated, and the energies are the same.
    chorus::engine::CommitteeResult plain;
    model.evaluate(system, chorus::engine::ComputeRequest{}, plain);
    CHECK(plain.member_atomic_energies.size() == 0);
    CHECK(plain.member_energies == result.member_energies);
}

TEST_CASE("calibration rescales per-atom energies like the energies", "[committee_log]") {
    const auto system = small_argon_box();
    chorus::engine::ComputeRequest request;
    request.atomic_energies = true;
    chorus::engine::CommitteeResult raw;
    chorus::engine::CommitteeResult calibrated;
    lj_committee(1.0).evaluate(system, request, raw);
    lj_committee(2.5).evaluate(system, request, calibrated);
    for (Eigen::Index k = 0; k < 3; ++k) {
        CHECK(calibrated.member_atomic_energies.col(k).sum() ==
              Approx(calibrated.member_energies[k]).epsilon(1e-13));
    }
    const Eigen::VectorXd raw_spread = raw.atomic_energy_spread();
    const Eigen::VectorXd calibrated_spread = calibrated.atomic_energy_spread();
    for (Eigen::Index i = 0; i < raw_spread.size(); ++i) {
        CHECK(calibrated_spread[i] == Approx(2.5 * raw_spread[i]).epsilon(1e-12));
    }
    // ddof 1, checked by hand for atom 0
    const Eigen::RowVectorXd e = raw.member_atomic_energies.row(0);
    const double mean = e.mean();
    const double by_hand = std::sqrt((e.array() - mean).square().sum() / 2.0);
    CHECK(raw_spread[0] == Approx(by_hand).epsilon(1e-14));
}

TEST_CASE("a model without per-atom energies leaves them NaN, and the log says nan", "[committee_log]") {
    const chorus::server::test::ToyCommittee toy({1.0, 1.5, 2.0});
    ScratchFile scratch;
    {
        CommitteeLog log(scratch.path(), {toy.description(), 3, std::nullopt});
        chorus::server::EvaluationSettings settings;
        settings.committee_log = &log;
        settings.connection = "test#0";
        chorus::server::Evaluator evaluator(toy, settings);
        chorus::protocol::EvaluationRequest request;
        request.atoms = 2;
        request.replica_id = -1;
        chorus::protocol::WireStructure structure;
        structure.cell = {10, 0, 0, 0, 10, 0, 0, 0, 10};
        structure.positions = {0, 0, 0, 1, 2, 3};
        request.structures.push_back(structure);
        evaluator.evaluate(request);
        log.close();
    }
    const std::string text = read_text(scratch.path());
    const std::string last_line = text.substr(text.rfind('\n', text.size() - 2) + 1);
    CHECK(last_line.rfind(" nan\n") == last_line.size() - 5);
    CHECK(last_line.find("test#0 -1 0 2 ") != std::string::npos);
}

TEST_CASE("header and record text, exactly", "[committee_log]") {
    const auto start = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'700'000'000'123));
    CHECK(chorus::server::format_utc_time(start) == "2023-11-14T22:13:20.123Z");
    const std::string header = chorus::server::format_committee_log_header({"toy model", 2, 300.0}, start);
    CHECK(
        header.rfind("# chorus-committee-log 1\n# units: energies eV, time ISO-8601 UTC\n# model: toy model\n"
                     "# members: 2\n# temperature_K: 300\n# started: 2023-11-14T22:13:20.123Z\n# chorus: ",
                     0) == 0);
    CHECK(header.find(
              "\n# columns: time connection bead counter atoms energy_mean energy_1 energy_2 sigma_energy "
              "max_atomic_sigma\n") != std::string::npos);
    CHECK(chorus::server::format_committee_log_header({"m", 1, std::nullopt}, start).find("temperature") ==
          std::string::npos);

    CommitteeLogRecord record;
    record.time = start;
    record.connection = "tcp:[::1]:31415 #3";
    record.bead = 4;
    record.atoms = 96;
    record.energy = -1.25;
    record.member_energies = {-1.5, -1.0};
    record.max_atomic_sigma = 0.0625;
    // shortest round-trip numbers; σ of {-1.5, -1} with ddof 1 is sqrt(0.125)
    CHECK(chorus::server::format_committee_log_record(record, 17) ==
          "2023-11-14T22:13:20.123Z tcp:[::1]:31415_#3 4 17 96 -1.25 -1.5 -1 0.3535533905932738 0.0625\n");
}

TEST_CASE("records round-trip through reweight's reader, bit for bit; a restart appends a header block",
          "[committee_log]") {
    ScratchFile scratch;
    std::vector<CommitteeLogRecord> written;
    {
        CommitteeLog log(scratch.path(), {"toy", 3, 94.0});
        for (int n = 0; n < 5; ++n) {
            written.push_back(sample_record(0.01 * n + 1e-17 * n));
            auto copy = written.back();
            log.record(std::move(copy));
        }
        log.close();
        CHECK(log.statistics().written == 5);
    }
    const std::string first_run = read_text(scratch.path());
    {
        CommitteeLog log(scratch.path(), {"toy", 3, 94.0});
        auto copy = written.front();
        log.record(std::move(copy));
    }  // the destructor closes (flushes)
    const std::string both_runs = read_text(scratch.path());
    CHECK(both_runs.rfind(first_run, 0) == 0);  // the first run's bytes are untouched

    const auto contents = chorus::server::read_committee_log(scratch.path());
    CHECK(contents.members == 3);
    REQUIRE(contents.temperature_kelvin.has_value());
    CHECK(*contents.temperature_kelvin == 94.0);
    REQUIRE(contents.member_energies.rows() == 6);
    CHECK(contents.blocks == std::vector<int>{0, 0, 0, 0, 0, 1});
    CHECK(contents.connections.front() == "unix:/tmp/ipi_x_#0");
    for (int n = 0; n < 5; ++n) {
        for (int k = 0; k < 3; ++k) {
            CHECK(contents.member_energies(n, k) == written[static_cast<std::size_t>(n)].member_energies[k]);
        }
    }
    CHECK(contents.member_energies.row(5) == contents.member_energies.row(0));
}

TEST_CASE("a cut last line (killed mid-write) is skipped; the next run starts on its own line",
          "[committee_log]") {
    ScratchFile scratch;
    {
        CommitteeLog log(scratch.path(), {"toy", 3, std::nullopt});
        log.record(sample_record(0.0));
    }
    {
        std::ofstream append(scratch.path(), std::ios::app);
        append << "2023-11-14T22:13:20.123Z unix:x#0 2 1 64 -0.1 -0.3";  // no newline: cut
    }
    {
        CommitteeLog log(scratch.path(), {"toy", 3, std::nullopt});
        log.record(sample_record(1.0));
    }
    const auto contents = chorus::server::read_committee_log(scratch.path());
    CHECK(contents.member_energies.rows() == 2);
    CHECK(contents.truncated_lines == 1);
    CHECK(contents.blocks == std::vector<int>{0, 1});
}

TEST_CASE("a full disk drops and counts records without throwing", "[committee_log]") {
    CommitteeLog log("/dev/full", {"toy", 3, std::nullopt});
    for (int n = 0; n < 4; ++n) {
        log.record(sample_record(0.0));
    }
    log.close();
    const auto statistics = log.statistics();
    CHECK(statistics.written == 0);
    CHECK(statistics.dropped_write_failed == 4);
}

TEST_CASE("a full queue drops instead of waiting", "[committee_log]") {
    ScratchFile scratch;
    CommitteeLog::Options options;
    options.queue_capacity = 2;
    options.flush_interval = std::chrono::milliseconds(60'000);  // the writer only runs at close()
    CommitteeLog log(scratch.path(), {"toy", 3, std::nullopt}, options);
    for (int n = 0; n < 5; ++n) {
        log.record(sample_record(0.0));
    }
    log.close();
    log.record(sample_record(0.0));  // after close: dropped too
    const auto statistics = log.statistics();
    CHECK(statistics.written == 2);
    CHECK(statistics.dropped_queue_full == 4);
}

TEST_CASE("opening a log in a missing directory is a clear IoError", "[committee_log]") {
    CHECK_THROWS_WITH(CommitteeLog("/nonexistent-dir/x.log", {"toy", 1, std::nullopt}),
                      Catch::Contains("/nonexistent-dir/x.log") && Catch::Contains("directory exists"));
}
