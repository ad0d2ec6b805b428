// The frames `chorus eval` evaluates (eval_frames.hpp), shared by energy and dipole models: every
// frame, or the recorded split of a trained file found by its SHA-256; and the refusals when the
// file was not trained on or the record points past its end.
#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "chorus/error.hpp"
#include "chorus/models/extxyz.hpp"
#include "chorus/models/sha256.hpp"
#include "dipole_eval_command.hpp"
#include "eval_frames.hpp"
#include "test_support.hpp"

using Catch::Matchers::Contains;
using chorus::server::read_eval_frames;
using chorus::server::recorded_subset;

namespace {

const std::string data = chorus::test::data_path("extxyz/periodic_triclinic.xyz").string();

}  // namespace

TEST_CASE("recorded_subset finds a file's split by its hash", "[eval]") {
    const nlohmann::json training{
        {"data", {{{"sha256", "aa"}, {"test", {0, 2}}}, {{"sha256", "bb"}, {"test", {1}}, {"train", {0}}}}}};
    CHECK(recorded_subset(training, "test", "b.xyz", "bb", "model") == std::vector<std::size_t>{1});
    CHECK(recorded_subset(training, "train", "b.xyz", "bb", "model") == std::vector<std::size_t>{0});
    CHECK_THROWS_AS(recorded_subset(training, "train", "a.xyz", "aa", "model"), chorus::InputError);
    CHECK_THROWS_WITH(recorded_subset(training, "test", "c.xyz", "cc", "dipole model"),
                      Contains("'c.xyz' (sha256 cc)") && Contains("this dipole model was trained on") &&
                          Contains("no recorded test frames") && Contains("--subset all"));
    CHECK_THROWS_AS(recorded_subset(nlohmann::json::object(), "test", "c.xyz", "cc", "model"),
                    chorus::InputError);
}

TEST_CASE("read_eval_frames keeps every frame or the recorded ones, in file order", "[eval]") {
    const std::size_t count = chorus::models::read_extxyz(data).size();
    REQUIRE(count >= 3);
    const auto never = [](const std::string&, const std::string&) -> std::vector<std::size_t> {
        FAIL("--subset all must not look for a recorded split");
        return {};
    };
    const auto all = read_eval_frames({data, data}, "all", never);
    REQUIRE(all.frames.size() == 2 * count);
    CHECK(all.origins[count].file == 1);
    CHECK(all.origins[count].index == 0);
    CHECK(all.pointers().size() == 2 * count);
    CHECK(all.pointers()[1] == &all.frames[1]);

    std::string seen_hash;
    const auto test = read_eval_frames({data}, "test", [&](const std::string& path, const std::string& hash) {
        CHECK(path == data);
        seen_hash = hash;
        return std::vector<std::size_t>{2, 0};
    });
    CHECK(seen_hash == chorus::models::sha256_file_hex(data));
    REQUIRE(test.frames.size() == 2);
    CHECK(test.origins[0].index == 2);
    CHECK(test.origins[1].index == 0);
    CHECK(test.frames[0].system.positions() == all.frames[2].system.positions());

    CHECK_THROWS_WITH(read_eval_frames({data}, "test",
                                       [&](const std::string&, const std::string&) {
                                           return std::vector<std::size_t>{count};
                                       }),
                      Contains("records frame " + std::to_string(count)) &&
                          Contains("which has " + std::to_string(count) + " frames"));
}

TEST_CASE("a directory is not a dipole model file (load_model reports it)", "[eval]") {
    CHECK(chorus::server::model_file_kind(std::filesystem::temp_directory_path().string()).empty());
    CHECK(chorus::server::model_file_kind("/no/such/model.json").empty());
}
