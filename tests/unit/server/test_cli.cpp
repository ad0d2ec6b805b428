#include <catch2/catch.hpp>

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
