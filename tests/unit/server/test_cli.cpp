#include <catch2/catch.hpp>

#include <cstdlib>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "chorus/error.hpp"
#include "cli.hpp"

using namespace chorus::server;
using Catch::Matchers::Contains;

namespace {

ServeSettings serve(const std::vector<std::string>& args) {
    auto command = parse_command_line(args);
    REQUIRE(std::holds_alternative<ServeSettings>(command));
    return std::get<ServeSettings>(command);
}

}  // namespace

TEST_CASE("serve with only the required flags gets the documented defaults", "[server][cli]") {
    const auto settings = serve({"serve", "--model", "lj.json", "--connect", "unix:water"});
    CHECK(settings.model_path == "lj.json");
    REQUIRE(settings.addresses.size() == 1);
    CHECK(settings.addresses[0].path == "/tmp/ipi_water");
    CHECK(settings.clients_per_address == 1);
    CHECK(settings.periodicity == Periodicity::automatic);
    CHECK_FALSE(settings.track_beads);
    CHECK(settings.species_pattern.empty());
    CHECK(settings.extras == ExtrasMode::full);
    CHECK_FALSE(settings.persist);
    CHECK_FALSE(settings.retry_for_seconds.has_value());
    CHECK(settings.threads == 0);
    CHECK(settings.max_atoms == 10'000'000);
    CHECK(settings.log_level == spdlog::level::info);
}

TEST_CASE("serve takes every documented flag", "[server][cli]") {
    const auto settings = serve({"serve",     "--model",         "m.json",      "--connect",   "unix:a",
                                 "--connect", "tcp:[::1]:31415", "--clients",   "4",           "--pbc",
                                 "no",        "--track-beads",   "--species",   "O,H,H",       "--extras",
                                 "energies",  "--persist",       "--retry-for", "2.5",         "--threads",
                                 "2",         "--max-atoms",     "5000",        "--log-level", "debug"});
    REQUIRE(settings.addresses.size() == 2);
    CHECK(settings.addresses[1].host == "::1");
    CHECK(settings.addresses[1].port == 31415);
    CHECK(settings.clients_per_address == 4);
    CHECK(settings.periodicity == Periodicity::no);
    CHECK(settings.track_beads);
    CHECK(settings.species_pattern == std::vector<int>{8, 1, 1});
    CHECK(settings.extras == ExtrasMode::energies);
    CHECK(settings.persist);
    REQUIRE(settings.retry_for_seconds.has_value());
    CHECK(*settings.retry_for_seconds == 2.5);
    CHECK(settings.threads == 2);
    CHECK(settings.max_atoms == 5000);
    CHECK(settings.log_level == spdlog::level::debug);

    CHECK(serve({"serve", "--model", "m", "--connect", "unix:a", "--extras", "none"}).extras ==
          ExtrasMode::none);
    CHECK(serve({"serve", "--model", "m", "--connect", "unix:a", "--pbc", "yes"}).periodicity ==
          Periodicity::yes);
    CHECK(serve({"serve", "--model", "m", "--connect", "unix:a", "--log-level", "error"}).log_level ==
          spdlog::level::err);
    CHECK(*serve({"serve", "--model", "m", "--connect", "unix:a", "--retry-for", "0"}).retry_for_seconds ==
          0.0);
}

TEST_CASE("bad flags are CLI11 parse errors", "[server][cli]") {
    const std::vector<std::vector<std::string>> bad = {
        {},                                                                       // no subcommand
        {"frobnicate"},                                                           // unknown subcommand
        {"serve", "--connect", "unix:a"},                                         // no --model
        {"serve", "--model", "m"},                                                // no --connect
        {"serve", "--model", "m", "--connect", "unix:a", "--pbc", "maybe"},       // bad choice
        {"serve", "--model", "m", "--connect", "unix:a", "--extras", "all"},      // bad choice
        {"serve", "--model", "m", "--connect", "unix:a", "--clients", "0"},       // out of range
        {"serve", "--model", "m", "--connect", "unix:a", "--threads", "two"},     // not a number
        {"serve", "--model", "m", "--connect", "unix:a", "--retry-for", "-1"},    // negative
        {"serve", "--model", "m", "--connect", "unix:a", "--log-level", "loud"},  // bad choice
        {"serve", "--model", "m", "--connect", "unix:a", "--frobnicate"},         // unknown flag
        {"bench"},                                                                // no bench kind
        {"bench", "roundtrip", "--transport", "carrier-pigeon"},                  // bad choice
    };
    for (const auto& args : bad) {
        INFO(args.size() << " arguments, first: " << (args.empty() ? "" : args.front()));
        CHECK_THROWS_AS(parse_command_line(args), CLI::ParseError);
    }
}

TEST_CASE("values CLI11 cannot judge are configuration errors", "[server][cli]") {
    CHECK_THROWS_AS(parse_command_line({"serve", "--model", "m", "--connect", "water"}), chorus::ConfigError);
    CHECK_THROWS_WITH(
        parse_command_line({"serve", "--model", "m", "--connect", "unix:a", "--species", "O,Hh"}),
        Contains("'Hh'"));
}

TEST_CASE("bench roundtrip and version", "[server][cli]") {
    auto command = parse_command_line({"bench", "roundtrip"});
    REQUIRE(std::holds_alternative<RoundtripBenchSettings>(command));
    const auto defaults = std::get<RoundtripBenchSettings>(command);
    CHECK_FALSE(defaults.model_path.has_value());
    CHECK(defaults.atoms == 192);
    CHECK(defaults.unix_transport);
    CHECK(defaults.tcp_transport);
    CHECK_FALSE(defaults.json_path.has_value());

    const auto tcp_only = std::get<RoundtripBenchSettings>(
        parse_command_line({"bench", "roundtrip", "--model", "ar.json", "--atoms", "500", "--calls", "10",
                            "--transport", "tcp", "--json", "out.json"}));
    CHECK(tcp_only.model_path == "ar.json");
    CHECK(tcp_only.atoms == 500);
    CHECK(tcp_only.calls == 10);
    CHECK_FALSE(tcp_only.unix_transport);
    CHECK(tcp_only.tcp_transport);
    CHECK(tcp_only.json_path == "out.json");

    CHECK(std::holds_alternative<VersionCommand>(parse_command_line({"version"})));
    CHECK_THAT(version_text(), Contains("chorus ") && Contains("Asio"));
}

namespace {

// Sets environment variables for one test and restores what was there before (the Docker image
// configures `chorus serve` through them).
class ScopedEnvironment {
public:
    ScopedEnvironment(std::initializer_list<std::pair<const char*, const char*>> values) {
        for (const auto& [name, value] : values) {
            const char* old = std::getenv(name);
            saved_.emplace_back(name, old == nullptr ? std::nullopt : std::optional<std::string>(old));
            ::setenv(name, value, 1);
        }
    }
    ScopedEnvironment(const ScopedEnvironment&) = delete;
    ScopedEnvironment& operator=(const ScopedEnvironment&) = delete;
    ~ScopedEnvironment() {
        for (const auto& [name, old] : saved_) {
            if (old) {
                ::setenv(name.c_str(), old->c_str(), 1);
            } else {
                ::unsetenv(name.c_str());
            }
        }
    }

private:
    std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

}  // namespace

TEST_CASE("serve reads its settings from CHORUS_* environment variables", "[server][cli]") {
    const ScopedEnvironment environment({{"CHORUS_MODEL", "/opt/chorus/models/water-committee.json"},
                                         {"CHORUS_CONNECT", "tcp:ipi:31415"},
                                         {"CHORUS_CLIENTS", "3"},
                                         {"CHORUS_PBC", "yes"},
                                         {"CHORUS_SPECIES", "O,H,H"},
                                         {"CHORUS_EXTRAS", "energies"},
                                         {"CHORUS_TRACK_BEADS", "1"},
                                         {"CHORUS_PERSIST", "true"},
                                         {"CHORUS_RETRY_FOR", "30"},
                                         {"CHORUS_THREADS", "2"},
                                         {"CHORUS_COMMITTEE_LOG", "/data/committee.log"},
                                         {"CHORUS_TEMPERATURE", "300"}});
    const auto settings = serve({"serve"});
    CHECK(settings.model_path == "/opt/chorus/models/water-committee.json");
    REQUIRE(settings.addresses.size() == 1);
    CHECK(settings.addresses[0].host == "ipi");
    CHECK(settings.addresses[0].port == 31415);
    CHECK(settings.clients_per_address == 3);
    CHECK(settings.periodicity == Periodicity::yes);
    CHECK(settings.species_pattern == std::vector<int>{8, 1, 1});
    CHECK(settings.extras == ExtrasMode::energies);
    CHECK(settings.track_beads);
    CHECK(settings.persist);
    REQUIRE(settings.retry_for_seconds.has_value());
    CHECK(*settings.retry_for_seconds == 30.0);
    CHECK(settings.threads == 2);
    CHECK(settings.committee_log_path == "/data/committee.log");
    CHECK(settings.temperature_kelvin == 300.0);

    SECTION("flags override the environment") {
        const auto overridden =
            serve({"serve", "--model", "flag.json", "--connect", "unix:flag", "--clients", "5", "--extras",
                   "none", "--retry-for", "1", "--committee-log", "flag.log", "--temperature", "250"});
        CHECK(overridden.model_path == "flag.json");
        REQUIRE(overridden.addresses.size() == 1);
        CHECK(overridden.addresses[0].path == "/tmp/ipi_flag");
        CHECK(overridden.clients_per_address == 5);
        CHECK(overridden.extras == ExtrasMode::none);
        CHECK(*overridden.retry_for_seconds == 1.0);
        CHECK(overridden.committee_log_path == "flag.log");
        CHECK(overridden.temperature_kelvin == 250.0);
        CHECK(overridden.threads == 2);  // not given as a flag: still from the environment
    }
}

TEST_CASE("CHORUS_* environment values are checked like the flags", "[server][cli]") {
    const std::vector<std::string> required = {"serve", "--model", "m", "--connect", "unix:a"};
    {
        const ScopedEnvironment environment({{"CHORUS_CLIENTS", "0"}});
        CHECK_THROWS_AS(parse_command_line(required), CLI::ParseError);
    }
    {
        const ScopedEnvironment environment({{"CHORUS_EXTRAS", "all"}});
        CHECK_THROWS_AS(parse_command_line(required), CLI::ParseError);
    }
    {
        const ScopedEnvironment environment({{"CHORUS_PERSIST", "0"}, {"CHORUS_TRACK_BEADS", "false"}});
        const auto settings = serve(required);
        CHECK_FALSE(settings.persist);
        CHECK_FALSE(settings.track_beads);
    }
    {
        const ScopedEnvironment environment({{"CHORUS_CONNECT", "water"}});  // no unix:/tcp: prefix
        CHECK_THROWS_AS(parse_command_line({"serve", "--model", "m"}), chorus::ConfigError);
    }
}
