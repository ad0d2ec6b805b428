// Model files of kind "linear-committee": round trip, and refusal of corrupted, truncated,
// edited and wrong-version files with a message that says what is wrong.
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <unistd.h>

#include <oneapi/tbb/task_arena.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "chorus/error.hpp"
#include "chorus/models/model_file.hpp"
#include "linear_committee_support.hpp"

using Catch::Matchers::Contains;
using chorus::engine::CommitteeResult;
using chorus::models::LinearCommittee;

namespace {

std::filesystem::path temporary(const std::string& name) {
    return std::filesystem::temp_directory_path() /
           ("chorus_test_linear_" + std::to_string(::getpid()) + "_" + name);
}

std::string read_text(const std::filesystem::path& path) {
    std::ifstream file(path);
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
}

void write_text(const std::filesystem::path& path, const std::string& text) { std::ofstream(path) << text; }

}  // namespace

TEST_CASE("linear committee model file round trip evaluates identically", "[linear][file]") {
    const auto parameters = chorus::test::random_committee(4, 21, 1.7);
    const auto path = temporary("roundtrip.json");
    chorus::models::save_linear_committee(parameters, path);
    const auto loaded = chorus::models::load_model(path);
    REQUIRE(loaded->kind() == "linear-committee");
    CHECK(loaded->committee_size() == 4);
    CHECK(loaded->calibration_alpha() == 1.7);

    std::mt19937_64 engine(4);
    const auto system = chorus::test::random_water(2, engine);
    const LinearCommittee original(parameters);
    const chorus::engine::ComputeRequest request{.member_forces = true, .member_virials = true};
    CommitteeResult before, after;
    // Forces and virials are summed per TBB thread; with several threads the order of those
    // partial sums depends on scheduling (1e-16 differences), so comparing bit for bit is only
    // meaningful on one thread.
    tbb::task_arena one_thread(1);
    one_thread.execute([&] {
        original.evaluate(system, request, before);
        loaded->evaluate(system, request, after);
    });
    CHECK(after.energy == before.energy);  // bit for bit: JSON numbers round-trip exactly
    CHECK(after.member_energies == before.member_energies);
    CHECK(after.forces == before.forces);
    CHECK(after.virial == before.virial);
    CHECK(after.member_forces == before.member_forces);

    const auto& reloaded = dynamic_cast<const LinearCommittee&>(*loaded).parameters();
    CHECK(reloaded.training == parameters.training);
    // Saving what was loaded writes the same bytes.
    const auto again = temporary("roundtrip2.json");
    chorus::models::save_linear_committee(reloaded, again);
    CHECK(read_text(again) == read_text(path));
    std::filesystem::remove(path);
    std::filesystem::remove(again);
}

TEST_CASE("linear committee model files that were damaged are refused clearly", "[linear][file]") {
    const auto path = temporary("damaged.json");
    chorus::models::save_linear_committee(chorus::test::random_committee(4, 2), path);
    const std::string text = read_text(path);
    const nlohmann::json document = nlohmann::json::parse(text);

    SECTION("truncated") {
        write_text(path, text.substr(0, text.size() / 2));
        CHECK_THROWS_AS(chorus::models::load_model(path), chorus::ConfigError);
        CHECK_THROWS_WITH(chorus::models::load_model(path), Contains("not valid JSON"));
    }
    SECTION("a weight edited") {
        nlohmann::json edited = document;
        edited["members"][1]["weights"][0][3] = edited["members"][1]["weights"][0][3].get<double>() * 1.001;
        write_text(path, edited.dump(1));
        CHECK_THROWS_WITH(chorus::models::load_model(path),
                          Contains("checksum mismatch") && Contains("retrain"));
    }
    SECTION("a member removed, checksum recomputed to match: sizes still checked") {
        nlohmann::json edited = document;
        edited["members"][0]["weights"][1].erase(0);
        edited["checksum"]["value"] = chorus::models::linear_committee_checksum(edited);
        write_text(path, edited.dump());
        CHECK_THROWS_WITH(chorus::models::load_model(path),
                          Contains("members[0].weights[1]") && Contains("array of"));
    }
    SECTION("wrong format version") {
        nlohmann::json edited = document;
        edited["format_version"] = 99;
        write_text(path, edited.dump());
        CHECK_THROWS_WITH(chorus::models::load_model(path),
                          Contains("format_version") && Contains("99") && Contains("reads version 1"));
    }
    SECTION("checksum missing") {
        nlohmann::json edited = document;
        edited.erase("checksum");
        write_text(path, edited.dump());
        CHECK_THROWS_WITH(chorus::models::load_model(path), Contains("checksum") && Contains("missing"));
    }
    SECTION("wrong units") {
        nlohmann::json edited = document;
        edited["units"]["energy"] = "hartree";
        edited["checksum"]["value"] = chorus::models::linear_committee_checksum(edited);
        write_text(path, edited.dump());
        CHECK_THROWS_WITH(chorus::models::load_model(path), Contains("units"));
    }
    SECTION("a byte flipped inside a number") {
        std::string flipped = text;
        const auto at = flipped.find("\"alpha\": 1");
        REQUIRE(at != std::string::npos);
        flipped[at + 9] = '2';
        write_text(path, flipped);
        CHECK_THROWS_WITH(chorus::models::load_model(path), Contains("checksum mismatch"));
    }
    std::filesystem::remove(path);
}
