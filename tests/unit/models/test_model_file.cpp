// Model files: the shipped examples load, and every malformed file is rejected with a message
// that names the file, the key, and what would be accepted.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "chorus/error.hpp"
#include "chorus/models/lennard_jones.hpp"
#include "chorus/models/model_file.hpp"
#include "test_support.hpp"

using Catch::Matchers::Contains;
using chorus::ConfigError;
using chorus::IoError;
using chorus::models::load_model;
using chorus::models::model_from_json;
using nlohmann::json;

namespace {

std::filesystem::path pretrained(const std::string& name) {
    return chorus::test::data_path("../../models/pretrained/" + name);
}

// A scratch file that removes itself.
class TemporaryFile {
public:
    TemporaryFile(const std::string& name, const std::string& contents)
        : path_(std::filesystem::temp_directory_path() /
                ("chorus-test-" + std::to_string(::getpid()) + "-" + name)) {
        std::ofstream(path_) << contents;
    }
    ~TemporaryFile() { std::filesystem::remove(path_); }
    TemporaryFile(const TemporaryFile&) = delete;
    TemporaryFile& operator=(const TemporaryFile&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

json single() {
    return json{{"kind", "lennard-jones"}, {"epsilon", 0.0104}, {"sigma", 3.4}, {"cutoff", 8.5}};
}

json committee() {
    return json{{"kind", "lennard-jones-committee"},
                {"members", json::array({json{{"epsilon", 0.0104}, {"sigma", 3.4}},
                                         json{{"epsilon", 0.011}, {"sigma", 3.3}}})},
                {"cutoff", 8.5},
                {"alpha", 1.5}};
}

std::string config_error(const json& document) {
    try {
        model_from_json(document, "test.json");
    } catch (const ConfigError& error) {
        return error.what();
    }
    FAIL("no ConfigError for " << document.dump());
    return {};
}

}  // namespace

TEST_CASE("the shipped argon models load", "[model-file]") {
    const auto single_model = load_model(pretrained("argon-lj.json"));
    CHECK(single_model->kind() == "lennard-jones");
    CHECK(single_model->cutoff() == 8.5);
    CHECK(single_model->committee_size() == 1);
    const auto& lj = dynamic_cast<const chorus::models::LennardJones&>(*single_model);
    CHECK(lj.parameters().epsilon == 0.0104);
    CHECK(lj.parameters().sigma == 3.40);

    const auto committee_model = load_model(pretrained("argon-lj-committee.json"));
    CHECK(committee_model->kind() == "lennard-jones-committee");
    CHECK(committee_model->committee_size() == 8);
    CHECK(committee_model->cutoff() == 8.5);
    CHECK(committee_model->calibration_alpha() == 1.0);
    CHECK_THAT(committee_model->description(), Contains("8 members"));
}

TEST_CASE("optional keys take their defaults", "[model-file]") {
    json document = single();
    document.erase("cutoff");
    CHECK(model_from_json(document, "test.json")->cutoff() == Approx(10.2));
    document = committee();
    document.erase("alpha");
    const auto model = model_from_json(document, "test.json");
    CHECK(model->calibration_alpha() == 1.0);
    CHECK(model_from_json(committee(), "test.json")->calibration_alpha() == 1.5);
}

TEST_CASE("kinds are listed and unknown kinds name them", "[model-file]") {
    const auto kinds = chorus::models::known_model_kinds();
    CHECK(std::find(kinds.begin(), kinds.end(), "lennard-jones") != kinds.end());
    CHECK(std::find(kinds.begin(), kinds.end(), "lennard-jones-committee") != kinds.end());
    CHECK(std::is_sorted(kinds.begin(), kinds.end()));

    json document = single();
    document["kind"] = "lennard-jonez";
    CHECK_THAT(config_error(document), Contains("test.json") && Contains("unknown kind \"lennard-jonez\"") &&
                                           Contains("\"lennard-jones\", \"lennard-jones-committee\""));
    document.erase("kind");
    CHECK_THAT(config_error(document), Contains("no \"kind\" key") && Contains("\"lennard-jones\""));
    document["kind"] = 3;
    CHECK_THAT(config_error(document), Contains("'kind' must be a string"));
    CHECK_THAT(config_error(json::array({1, 2})), Contains("must hold a JSON object"));
}

TEST_CASE("new kinds plug into the registry", "[model-file]") {
    const auto factory = [](const json& document,
                            std::string_view origin) -> std::unique_ptr<chorus::engine::Model> {
        json as_lj = document;
        as_lj["kind"] = "lennard-jones";
        return chorus::models::lennard_jones_from_json(as_lj, origin);
    };
    static bool registered = false;  // the registry is global; Catch may run this case again
    if (!registered) {
        chorus::models::register_model_kind("test-plugin", factory);
        registered = true;
    }
    json document = single();
    document["kind"] = "test-plugin";
    CHECK(model_from_json(document, "test.json")->cutoff() == 8.5);
    CHECK_THROWS_WITH(chorus::models::register_model_kind("lennard-jones", factory),
                      Contains("registered twice"));
}

TEST_CASE("unknown keys are rejected with the accepted ones", "[model-file]") {
    json document = single();
    document["sigmaa"] = 3.4;
    CHECK_THAT(config_error(document), Contains("test.json") && Contains("'sigmaa'") &&
                                           Contains("\"kind\", \"epsilon\", \"sigma\", \"cutoff\""));
    document = committee();
    document["members"][1]["cutoff"] = 8.0;
    CHECK_THAT(config_error(document), Contains("'members[1].cutoff'") && Contains("\"epsilon\", \"sigma\""));
}

TEST_CASE("values of the wrong type or range name the key", "[model-file]") {
    json document = single();
    document["epsilon"] = "0.0104";
    CHECK_THAT(config_error(document), Contains("'epsilon' must be a number (eV)") && Contains("\"0.0104\""));
    document = single();
    document["sigma"] = -3.4;
    CHECK_THAT(config_error(document), Contains("'sigma' must be a positive") && Contains("-3.4"));
    document = single();
    document["cutoff"] = 0;
    CHECK_THAT(config_error(document), Contains("'cutoff' must be a positive"));
    document = single();
    document["epsilon"] = std::numeric_limits<double>::quiet_NaN();
    CHECK_THAT(config_error(document), Contains("'epsilon'") && Contains("nan"));
    document = single();
    document["sigma"] = true;
    CHECK_THAT(config_error(document), Contains("'sigma' must be a number") && Contains("boolean"));
    document = single();
    document.erase("epsilon");
    CHECK_THAT(config_error(document), Contains("'epsilon' is missing"));
}

TEST_CASE("committee files are checked member by member", "[model-file]") {
    json document = committee();
    document["members"] = json::array();
    CHECK_THAT(config_error(document), Contains("'members' must have at least 1 element"));
    document["members"] = json{{"epsilon", 0.01}};
    CHECK_THAT(config_error(document), Contains("'members' must be an array"));
    document = committee();
    document["members"][1].erase("sigma");
    CHECK_THAT(config_error(document), Contains("'members[1].sigma' is missing"));
    document = committee();
    document["members"][0] = 0.01;
    CHECK_THAT(config_error(document), Contains("'members[0]' must be a JSON object"));
    document = committee();
    document["alpha"] = 0.0;
    CHECK_THAT(config_error(document), Contains("'alpha' must be a positive"));
    document["alpha"] = -1.0;
    CHECK_THAT(config_error(document), Contains("'alpha' must be a positive"));
    document = committee();
    document.erase("cutoff");
    CHECK_THAT(config_error(document), Contains("'cutoff' is missing"));
}

TEST_CASE("unreadable files and invalid JSON name the path", "[model-file]") {
    const std::filesystem::path missing =
        std::filesystem::temp_directory_path() / "chorus-no-such-model.json";
    CHECK_THROWS_AS(load_model(missing), IoError);
    CHECK_THROWS_WITH(load_model(missing), Contains(missing.string()) && Contains("No such file"));
    CHECK_THROWS_WITH(load_model(std::filesystem::temp_directory_path()), Contains("is a directory"));

    const TemporaryFile broken("broken.json", "{\"kind\": \"lennard-jones\", \"epsilon\": 0.01,, }");
    CHECK_THROWS_AS(load_model(broken.path()), ConfigError);
    CHECK_THROWS_WITH(load_model(broken.path()), Contains(broken.path().string()) &&
                                                     Contains("not valid JSON") && Contains("at byte 43"));

    const TemporaryFile empty("empty.json", "");
    CHECK_THROWS_WITH(load_model(empty.path()), Contains("not valid JSON"));

    const TemporaryFile wrong("wrong.json", "{\"kind\": \"lennard-jones\", \"epsilon\": 0.01}");
    CHECK_THROWS_WITH(load_model(wrong.path()),
                      Contains(wrong.path().string()) && Contains("'sigma' is missing"));
}

// Found by tests/fuzz/fuzz_model_file.cpp: nlohmann throws out_of_range (not parse_error) for a
// number beyond a double, which escaped load_model as a foreign exception.
TEST_CASE("a number too large for a double is a ConfigError naming the file", "[model-file][fuzz]") {
    const std::string text = R"({"kind": "lennard-jones", "epsilon": 0.1e4649, "sigma": 3.4})";
    CHECK_THROWS_AS(chorus::models::model_from_text(text, "<huge>"), ConfigError);
    CHECK_THROWS_WITH(chorus::models::model_from_text(text, "<huge>"),
                      Contains("model file '<huge>'") && Contains("not valid JSON") && Contains("0.1e4649"));
    const TemporaryFile huge("huge.json", text);
    CHECK_THROWS_AS(load_model(huge.path()), ConfigError);
}

TEST_CASE("model_from_text reads what load_model reads", "[model-file]") {
    const auto model = chorus::models::model_from_text(single().dump(), "<inline>");
    CHECK(model->kind() == "lennard-jones");
    CHECK(model->cutoff() == 8.5);
    CHECK_THROWS_WITH(chorus::models::model_from_text("{", "<inline>"),
                      Contains("model file '<inline>' is not valid JSON"));
}
