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
