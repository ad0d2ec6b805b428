// Dipoles in the committee log (`chorus serve --dipole-model --committee-log`): the exact header and
// record text, the parse-back through `chorus reweight`'s reader, bead averaging of the dipole
// scalars, the observables of `chorus reweight --committee-log` with and without --multi-obs
// (σ_a and σ_aV on a log whose answer is known in closed form), and the `# reload:` marker.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "chorus/error.hpp"
#include "committee_log.hpp"
#include "reweight_command.hpp"
#include "reweight_committee_log.hpp"

namespace {

using chorus::server::CommitteeLog;
using chorus::server::CommitteeLogHeader;
using chorus::server::CommitteeLogRecord;
using Json = nlohmann::json;

class ScratchDirectory {
public:
    ScratchDirectory() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "chorus-dipole-log-test-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        directory_ = pattern;
    }
    ~ScratchDirectory() { std::filesystem::remove_all(directory_); }
    std::string file(const std::string& name) const { return (directory_ / name).string(); }

private:
    std::filesystem::path directory_;
};

std::string read_text(const std::string& path) {
    std::ifstream file(path);
    return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

const auto start = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'700'000'000'123));

// One record with member energies `energies` and the dipoles `dipoles` (mean, then members).
CommitteeLogRecord record_with(std::int32_t bead, const std::vector<double>& energies,
                               const std::vector<double>& dipoles) {
    CommitteeLogRecord record;
    record.time = start;
    record.connection = "unix:/tmp/ipi_w#0";
    record.bead = bead;
    record.atoms = 9;
    record.member_energies = energies;
    double mean = 0.0;
    for (const double e : energies) {
        mean += e;
    }
    record.energy = mean / static_cast<double>(energies.size());
    record.max_atomic_sigma = 0.01;
    record.dipoles = dipoles;
    return record;
}

Json reweight_json(chorus::server::ReweightSettings settings, std::string* stderr_text = nullptr) {
    settings.json_path = "-";
    std::ostringstream out;
    std::ostringstream err;
    REQUIRE(chorus::server::run_reweight(settings, out, err) == 0);
    if (stderr_text != nullptr) {
        *stderr_text = err.str();
    }
    return Json::parse(out.str());
}

}  // namespace

TEST_CASE("dipole columns: header and record text, exactly; no dipole model, no change", "[committee_log]") {
    const std::string header =
        chorus::server::format_committee_log_header(CommitteeLogHeader{"toy", 2, 300.0, 2}, start);
    CHECK(
        header.rfind("# chorus-committee-log 1\n# units: energies eV, dipoles e*angstrom, time ISO-8601 UTC\n"
                     "# model: toy\n# members: 2\n# dipole_members: 2\n# temperature_K: 300\n",
                     0) == 0);
    CHECK(header.find("\n# columns: time connection bead counter atoms energy_mean energy_1 energy_2 "
                      "sigma_energy max_atomic_sigma dipole_mean_x dipole_mean_y dipole_mean_z dipole_1_x "
                      "dipole_1_y dipole_1_z dipole_2_x dipole_2_y dipole_2_z\n") != std::string::npos);
    // Without a dipole model: the header of before, byte for byte.
    const std::string plain =
        chorus::server::format_committee_log_header(CommitteeLogHeader{"toy", 2, 300.0}, start);
    CHECK(plain.find("dipole") == std::string::npos);
    CHECK(plain.rfind("# chorus-committee-log 1\n# units: energies eV, time ISO-8601 UTC\n", 0) == 0);

    const CommitteeLogRecord record =
        record_with(1, {-1.5, -1.0}, {0.25, -0.5, 1.0, 0.125, -0.5, 1.0, 0.375, -0.5, 1.0});
    CHECK(chorus::server::format_committee_log_record(record, 3) ==
          "2023-11-14T22:13:20.123Z unix:/tmp/ipi_w#0 1 3 9 -1.25 -1.5 -1 0.3535533905932738 0.01 "
          "0.25 -0.5 1 0.125 -0.5 1 0.375 -0.5 1\n");
    CHECK(chorus::server::format_committee_log_record(record_with(1, {-1.5, -1.0}, {}), 3) ==
          "2023-11-14T22:13:20.123Z unix:/tmp/ipi_w#0 1 3 9 -1.25 -1.5 -1 0.3535533905932738 0.01\n");
    CHECK(chorus::server::format_committee_log_reload(start, "sha256 ab12 toy") ==
          "# reload: 2023-11-14T22:13:20.123Z model sha256 ab12 toy\n");
}

TEST_CASE("dipole columns parse back into the scalars; reload lines are collected", "[committee_log]") {
    ScratchDirectory scratch;
    const std::string path = scratch.file("run.log");
    // Numbers that are not short decimals, to see the shortest round-trip form come back exactly.
    const double x = 1.0 / 3.0;
    const double y = -2.0 / 7.0;
    const double z = 0.1;
    {
        CommitteeLog log(path, CommitteeLogHeader{"toy", 2, 300.0, 3});
        log.record(record_with(-1, {1.0, 2.0}, {x, y, z, x, y, z + 1.0, x, y, z, x, y, z - 1.0}));
        log.note_reload("sha256 00ff toy 2");
        log.record(record_with(-1, {1.5, 2.5}, {x, y, z, 0, 0, 0, x, y, z, 2 * x, 2 * y, 2 * z}));
    }
    const std::string text = read_text(path);
    const auto reload_at = text.find("# reload: ");
    REQUIRE(reload_at != std::string::npos);
    CHECK(text.find(" model sha256 00ff toy 2\n", reload_at) != std::string::npos);

    const auto log = chorus::server::read_committee_log(path);
    CHECK(log.dipole_members == 3);
    REQUIRE(log.dipole_scalars.rows() == 2);
    REQUIRE(log.dipole_scalars.cols() == 16);
    CHECK(log.dipole_scalars(0, 0) == x);
    CHECK(log.dipole_scalars(0, 1) == y);
    CHECK(log.dipole_scalars(0, 2) == z);
    CHECK(log.dipole_scalars(0, 3) == x * x + y * y + z * z);
    CHECK(log.dipole_scalars(0, 4 + 2) == z + 1.0);   // member 1's z
    CHECK(log.dipole_scalars(0, 12 + 2) == z - 1.0);  // member 3's z
    CHECK(log.dipole_scalars(1, 12 + 3) == 4 * x * x + 4 * y * y + 4 * z * z);
    REQUIRE(log.reloads.size() == 1);
    CHECK(log.reloads.front().find("model sha256 00ff toy 2") != std::string::npos);
}

TEST_CASE("dipole scalars are averaged over the beads of a step: |μ|² per bead, not of the mean",
          "[committee_log]") {
    ScratchDirectory scratch;
    const std::string path = scratch.file("run.log");
    {
        CommitteeLog log(path, CommitteeLogHeader{"toy", 2, 300.0, 2});
        // Two beads with opposite dipoles: the mean dipole averages to 0, |μ|² to 1.
        log.record(record_with(0, {1.0, 3.0}, {1, 0, 0, 1, 0, 0, 1, 0, 0}));
        log.record(record_with(1, {2.0, 4.0}, {-1, 0, 0, -1, 0, 0, -1, 0, 0}));
    }
    const auto stepped =
        chorus::server::group_into_steps(chorus::server::read_committee_log(path), std::nullopt);
    CHECK(stepped.beads == 2);
    REQUIRE(stepped.dipole_scalars.rows() == 1);
    CHECK(stepped.potentials(0, 0) == 1.5);
    CHECK(stepped.potentials(0, 1) == 3.5);
    CHECK(stepped.dipole_scalars(0, 0) == 0.0);  // μ_x
    CHECK(stepped.dipole_scalars(0, 3) == 1.0);  // |μ|²
    CHECK(stepped.dipole_scalars(0, 4 + 3) == 1.0);
}

TEST_CASE("a log with runs of different dipole committees is refused", "[committee_log]") {
    ScratchDirectory scratch;
    const std::string path = scratch.file("run.log");
    {
        CommitteeLog log(path, CommitteeLogHeader{"toy", 2, 300.0, 2});
        log.record(record_with(-1, {1.0, 3.0}, {1, 0, 0, 1, 0, 0, 1, 0, 0}));
    }
    {
        CommitteeLog log(path, CommitteeLogHeader{"toy", 2, 300.0});
        log.record(record_with(-1, {1.0, 3.0}, {}));
    }
    try {
        chorus::server::read_committee_log(path);
        FAIL("no error");
    } catch (const chorus::InputError& error) {
        CHECK(std::string(error.what()).find("dipole committee of 0 members, an earlier one of 2") !=
              std::string::npos);
    }
}

// M = 4 potential members, M_d = 3 dipole members (the two committees are independent: every
// member dipole is reweighted to every potential member). The potentials fluctuate and differ per
// member; the member dipoles are the mean dipole plus a constant offset d_k per member along x, and
// the mean dipole does not depend on the potential member at all. Then for μ_x: ⟨a_k⟩_i = ⟨μ_x⟩_i
// + d_k, so σ_a (the spread over k of the plain averages) is the spread of the d_k, and σ_aV (the
// spread over i, averaged over k) is the spread over i of ⟨μ_x⟩_i alone, the same number as the
// committee spread of the mean dipole's μ_x without --multi-obs. With μ_x independent of the frame
// (constant), σ_aV = 0 exactly.
TEST_CASE("chorus reweight --committee-log: dipole observables, and --multi-obs with known σ_a and σ_aV",
          "[committee_log]") {
    ScratchDirectory scratch;
    const std::string path = scratch.file("run.log");
    const std::vector<double> offsets = {-0.2, 0.05, 0.3};  // d_k along x
    const double temperature = 300.0;
    {
        CommitteeLog log(path, CommitteeLogHeader{"toy", 4, temperature, 3});
        for (int step = 0; step < 200; ++step) {
            const double t = static_cast<double>(step);
            const double phase = std::sin(0.37 * t) + 0.5 * std::cos(1.3 * t);
            std::vector<double> energies;
            for (int i = 0; i < 4; ++i) {
                energies.push_back(-50.0 + 0.01 * phase * (i + 1) + 0.002 * std::sin(0.11 * t * (i + 2)));
            }
            const double mx = 0.5 + 0.1 * phase;  // correlated with the energies: reweighting moves it
            const double my = 1.25;               // constant: no member can move its average
            const double mz = -0.3 + 0.05 * std::cos(0.7 * t);
            std::vector<double> dipoles = {mx, my, mz};
            for (const double d : offsets) {
                dipoles.insert(dipoles.end(), {mx + d, my + d, mz});
            }
            log.record(record_with(-1, energies, dipoles));
        }
    }

    chorus::server::ReweightSettings settings;
    settings.committee_log_path = path;
    const Json plain = reweight_json(settings);
    REQUIRE(plain["observable_names"].size() == 5);
    CHECK(plain["observable_names"][1].get<std::string>().rfind("mu_x", 0) == 0);
    CHECK(plain["observable_names"][4].get<std::string>().rfind("mu2", 0) == 0);
    const Json& mu_x = plain["observables"][1];
    CHECK(plain["observables"][2]["committee_spread"].get<double>() == Approx(0.0).margin(1e-12));  // μ_y
    CHECK(mu_x["committee_spread"].get<double>() > 1e-6);

    settings.multi_obs = true;
    const Json multi = reweight_json(settings);
    const Json& committees = multi["observable_committees"];
    REQUIRE(committees.size() == 4);
    CHECK(committees[0]["name"] == "mu_x");
    CHECK(committees[3]["name"] == "mu2");
    CHECK(committees[0]["models"] == 3);
    // σ_a: the spread (ddof 1) of the offsets.
    const double offset_mean = (offsets[0] + offsets[1] + offsets[2]) / 3.0;
    double variance = 0.0;
    for (const double d : offsets) {
        variance += (d - offset_mean) * (d - offset_mean) / 2.0;
    }
    CHECK(committees[0]["sigma_a"].get<double>() == Approx(std::sqrt(variance)).epsilon(1e-9));
    CHECK(committees[1]["sigma_a"].get<double>() == Approx(std::sqrt(variance)).epsilon(1e-9));
    CHECK(committees[2]["sigma_a"].get<double>() == Approx(0.0).margin(1e-12));  // μ_z: no offsets
    // σ_aV: the potential members' spread of the mean dipole's μ_x; 0 for the constant μ_y.
    CHECK(committees[0]["sigma_av"].get<double>() ==
          Approx(mu_x["committee_spread"].get<double>()).epsilon(1e-9));
    CHECK(committees[1]["sigma_av"].get<double>() == Approx(0.0).margin(1e-12));
    // Eq. 26 with σ_aV = 0: total² = M (N_a − 1) / (M N_a − 1) σ_a², M = 4, N_a = 3.
    CHECK(committees[1]["total"].get<double>() ==
          Approx(std::sqrt(4.0 * 2.0 / 11.0 * variance)).epsilon(1e-9));
    CHECK(multi["observable_committee"]["name"] == "mu_x");

    // i-PI's layout: one row per scalar, named in a comment.
    settings.json_path.reset();
    std::ostringstream out;
    std::ostringstream err;
    REQUIRE(chorus::server::run_reweight(settings, out, err) == 0);
    CHECK(out.str().find("# rows: mu_x mu_y mu_z mu2\n") != std::string::npos);

    settings.index = 0;
    CHECK_THROWS_AS(chorus::server::run_reweight(settings, out, err), chorus::ConfigError);
}

TEST_CASE("chorus reweight warns when the model was reloaded mid-log", "[committee_log]") {
    ScratchDirectory scratch;
    const std::string path = scratch.file("run.log");
    {
        CommitteeLog log(path, CommitteeLogHeader{"toy", 2, 300.0});
        for (int step = 0; step < 20; ++step) {
            if (step == 10) {
                log.note_reload("sha256 beef toy v2");
            }
            log.record(record_with(-1, {1.0 + 0.01 * step, 1.1 - 0.02 * step}, {}));
        }
    }
    chorus::server::ReweightSettings settings;
    settings.committee_log_path = path;
    std::string err;
    const Json result = reweight_json(settings, &err);
    CHECK(result["frames"] == 20);
    CHECK(err.find("warning: the model changed mid-log (1 reload(s), the last: ") != std::string::npos);
    CHECK(err.find("sha256 beef toy v2") != std::string::npos);
}
