#include <catch2/catch.hpp>

#include "chorus/protocol/messages.hpp"
#include "protocol_test_support.hpp"

using Catch::Matchers::Contains;
using chorus::protocol::Header;
using chorus::protocol::header_text;
using chorus::protocol::Limits;
using chorus::protocol::parse_init_parameters;
using chorus::protocol::test::protocol_error_of;

TEST_CASE("header texts are 12 bytes, upper case, space padded", "[protocol]") {
    CHECK(header_text(Header::status) == "STATUS      ");
    CHECK(header_text(Header::ready) == "READY       ");
    CHECK(header_text(Header::have_data) == "HAVEDATA    ");
    CHECK(header_text(Header::need_init) == "NEEDINIT    ");
    CHECK(header_text(Header::init) == "INIT        ");
    CHECK(header_text(Header::pos_data) == "POSDATA     ");
    CHECK(header_text(Header::get_force) == "GETFORCE    ");
    CHECK(header_text(Header::force_ready) == "FORCEREADY  ");
    CHECK(header_text(Header::exit) == "EXIT        ");
}

TEST_CASE("INIT parameters are parsed tolerantly", "[protocol]") {
    SECTION("i-PI's batching suffix on an empty string: leading blank") {
        const auto p = parse_init_parameters(" batch_size:4");
        REQUIRE(p.batch_size == 4);
        REQUIRE(p.items.size() == 1);
        CHECK(p.items[0].first == "batch_size");
        CHECK(p.items[0].second == "4");
    }
    SECTION("items are trimmed, empty items ignored, items without a colon kept as keys") {
        const auto p = parse_init_parameters("  mode : pimd ,, verbose,\tbatch_size: 8 , ");
        REQUIRE(p.batch_size == 8);
        REQUIRE(p.items.size() == 3);
        CHECK(p.items[0] == std::pair<std::string, std::string>{"mode", "pimd"});
        CHECK(p.items[1] == std::pair<std::string, std::string>{"verbose", ""});
        CHECK(p.items[2] == std::pair<std::string, std::string>{"batch_size", "8"});
    }
    SECTION("a value keeps everything after the first colon") {
        const auto p = parse_init_parameters("path:/tmp/a:b");
        REQUIRE(p.items.size() == 1);
        CHECK(p.items[0].second == "/tmp/a:b");
        CHECK_FALSE(p.batch_size.has_value());
    }
    SECTION("ASE's single zero byte, and NUL padding, are an empty or terminated string") {
        CHECK(parse_init_parameters(std::string_view("\0", 1)).items.empty());
        const auto p = parse_init_parameters(std::string_view("batch_size:2\0\0\0junk", 20));
        CHECK(p.batch_size == 2);
        CHECK(p.items.size() == 1);
    }
    SECTION("an empty string has no items") {
        const auto p = parse_init_parameters("");
        CHECK(p.items.empty());
        CHECK_FALSE(p.batch_size.has_value());
    }
}

TEST_CASE("a batch_size that is not a positive integer within the limit is a ProtocolError", "[protocol]") {
    CHECK_THAT(protocol_error_of([] { parse_init_parameters("batch_size:abc"); }), Contains("'abc'"));
    CHECK_THAT(protocol_error_of([] { parse_init_parameters("batch_size:0"); }), Contains("'0'"));
    CHECK_THAT(protocol_error_of([] { parse_init_parameters("batch_size:-3"); }), Contains("'-3'"));
    CHECK_THAT(protocol_error_of([] { parse_init_parameters("batch_size:4x"); }), Contains("'4x'"));
    CHECK_THAT(protocol_error_of([] { parse_init_parameters("batch_size"); }), Contains("''"));
    CHECK_THAT(protocol_error_of([] { parse_init_parameters("batch_size:99999999999999999999"); }),
               Contains("99999999999999999999"));
    Limits limits;
    limits.max_batch_size = 16;
    CHECK_THAT(protocol_error_of([&] { parse_init_parameters("batch_size:17", limits); }),
               Contains("17") && Contains("16"));
    CHECK(parse_init_parameters("batch_size:16", limits).batch_size == 16);
}
