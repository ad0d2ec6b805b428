// Every way a user's JSON file can be broken ends as a chorus error naming the file.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include "chorus/error.hpp"
#include "json_file.hpp"

namespace {

std::string write_temporary(const std::string& text) {
    const std::filesystem::path path = std::filesystem::temp_directory_path() /
                                       ("chorus_json_file_test_" + std::to_string(::getpid()) + ".json");
    std::ofstream(path) << text;
    return path.string();
}

}  // namespace

TEST_CASE("read_json_file turns every JSON failure into a chorus error naming the file", "[server][json]") {
    using chorus::server::read_json_file;
    const std::string path = write_temporary(R"({"committee": {"members": 4}})");
    CHECK(read_json_file(path, "training configuration")["committee"]["members"] == 4);

    // Found by fuzzing the model-file loader: a number beyond a double is nlohmann's out_of_range,
    // not a parse_error.
    write_temporary(R"({"regulariser": {"smallest": 0.1e4649}})");
    CHECK_THROWS_AS(read_json_file(path, "training configuration"), chorus::ConfigError);
    CHECK_THROWS_WITH(read_json_file(path, "training configuration"),
                      Catch::Contains("training configuration '" + path + "'") && Catch::Contains("1.8e308"));

    write_temporary(R"({"committee": )");
    CHECK_THROWS_WITH(read_json_file(path, "training configuration"),
                      Catch::Contains("not valid JSON (at byte"));

    std::filesystem::remove(path);
    CHECK_THROWS_AS(read_json_file(path, "training configuration"), chorus::IoError);
}

TEST_CASE("write_json_file writes what read_json_file reads, and names a file it cannot write",
          "[server][json]") {
    using chorus::server::read_json_file;
    using chorus::server::write_json_file;
    const std::string path = write_temporary("");
    const nlohmann::json report = {{"rows", {1.5, 2.5}}, {"model", "water"}};
    write_json_file(path, report, 2, "the benchmark report");
    CHECK(read_json_file(path, "report") == report);
    std::filesystem::remove(path);

    const std::string missing =
        (std::filesystem::temp_directory_path() / "chorus-no-such-directory" / "r.json").string();
    CHECK_THROWS_AS(write_json_file(missing, report, 1, "the evaluation report"), chorus::IoError);
    CHECK_THROWS_WITH(
        write_json_file(missing, report, 1, "the evaluation report"),
        Catch::Contains("the evaluation report '" + missing + "'") && Catch::Contains("directory exists"));
}
