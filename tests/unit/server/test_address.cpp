#include <catch2/catch.hpp>

#include <string>

#include "address.hpp"
#include "chorus/error.hpp"

using Catch::Matchers::Contains;
using chorus::ConfigError;
using chorus::server::Address;
using chorus::server::describe;
using chorus::server::parse_address;
using chorus::server::Transport;

namespace {

std::string config_error_of(const std::string& text) {
    try {
        parse_address(text);
    } catch (const ConfigError& error) {
        return error.what();
    }
    FAIL("no ConfigError for '" << text << "'");
    return {};
}

}  // namespace

TEST_CASE("unix:NAME is i-PI's socket name under /tmp/ipi_", "[server][address]") {
    const Address address = parse_address("unix:water");
    CHECK(address.transport == Transport::unix_socket);
    CHECK(address.path == "/tmp/ipi_water");
    CHECK(address.text == "unix:water");
    CHECK(describe(address) == "unix:/tmp/ipi_water");
}

TEST_CASE("unix:/absolute/path is taken as it is", "[server][address]") {
    const Address address = parse_address("unix:/run/chorus/socket");
    CHECK(address.transport == Transport::unix_socket);
    CHECK(address.path == "/run/chorus/socket");
}

TEST_CASE("tcp:HOST:PORT with a name, an IPv4 and a bracketed IPv6 literal", "[server][address]") {
    const Address named = parse_address("tcp:localhost:31415");
    CHECK(named.transport == Transport::tcp);
    CHECK(named.host == "localhost");
    CHECK(named.port == 31415);

    const Address ipv4 = parse_address("tcp:127.0.0.1:65535");
    CHECK(ipv4.host == "127.0.0.1");
    CHECK(ipv4.port == 65535);

    const Address ipv6 = parse_address("tcp:[::1]:1");
    CHECK(ipv6.host == "::1");
    CHECK(ipv6.port == 1);
    CHECK(describe(ipv6) == "tcp:[::1]:1");
    CHECK(describe(ipv4) == "tcp:127.0.0.1:65535");
}

TEST_CASE("the longest UNIX path that fits is accepted, one byte more is rejected", "[server][address]") {
    const std::string fits = "/" + std::string(106, 'a');
    REQUIRE(fits.size() == 107);
    CHECK(parse_address("unix:" + fits).path == fits);

    const std::string too_long = fits + "a";
    const auto message = config_error_of("unix:" + too_long);
    CHECK_THAT(message, Contains("108 bytes") && Contains("at most 107"));

    // The /tmp/ipi_ prefix counts: a 99-byte name makes a 108-byte path.
    CHECK_THAT(config_error_of("unix:" + std::string(99, 'n')), Contains("108 bytes"));
    CHECK(parse_address("unix:" + std::string(98, 'n')).path.size() == 107);
}

TEST_CASE("bad addresses name themselves and list the accepted forms", "[server][address]") {
    const char* bad[] = {
        "water",           // no transport
        "udp:host:1",      // unknown transport
        "unix:",           // empty name
        "unix:dir/name",   // relative path
        "tcp:localhost",   // no port
        "tcp::31415",      // no host
        "tcp:host:",       // empty port
        "tcp:host:0",      // port out of range
        "tcp:host:65536",  // port out of range
        "tcp:host:12ab",   // not a number
        "tcp:host:-1",     // not a number
        "tcp:::1:31415",   // IPv6 without brackets
        "tcp:[::1:31415",  // unclosed bracket
        "tcp:[::1]31415",  // no colon after bracket
        "tcp:[]:31415",    // empty bracketed host
    };
    for (const char* text : bad) {
        INFO(text);
        const auto message = config_error_of(text);
        CHECK_THAT(message, Contains(std::string("'") + text + "'"));
        CHECK_THAT(message,
                   Contains("unix:NAME") && Contains("tcp:HOST:PORT") && Contains("tcp:[IPv6]:PORT"));
    }
    CHECK_THAT(config_error_of("udp:host:1"), Contains("unknown transport 'udp'"));
    CHECK_THAT(config_error_of("tcp:host:65536"), Contains("1 to 65535"));
    CHECK_THAT(config_error_of("tcp:::1:31415"), Contains("brackets"));
}
