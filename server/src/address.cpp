#include "address.hpp"

#include <charconv>

#include <fmt/format.h>

#include "chorus/error.hpp"

namespace chorus::server {
namespace {

constexpr std::string_view accepted_forms =
    "accepted forms: unix:NAME (i-PI's <address>NAME</address>, socket /tmp/ipi_NAME), "
    "unix:/absolute/path, tcp:HOST:PORT, tcp:[IPv6]:PORT";

[[noreturn]] void reject(std::string_view text, std::string_view reason) {
    throw ConfigError(fmt::format("bad address '{}': {}; {}", text, reason, accepted_forms));
}

Address parse_unix(std::string_view text, std::string_view rest) {
    if (rest.empty()) {
        reject(text, "the socket name is empty");
    }
    Address address;
    address.transport = Transport::unix_socket;
    address.text = std::string(text);
    if (rest.front() == '/') {
        address.path = std::string(rest);
    } else {
        // A relative name is i-PI's socket name, never a path relative to our working directory.
        if (rest.find('/') != std::string_view::npos) {
            reject(text, "a socket name may not contain '/' (give an absolute path instead)");
        }
        address.path = std::string(ipi_unix_prefix) + std::string(rest);
    }
    if (address.path.size() > max_unix_path_length) {
        throw ConfigError(
            fmt::format("bad address '{}': the socket path {} is {} bytes long, but a UNIX socket path can "
                        "hold at most {}; "
                        "use a shorter name or a path in a shorter directory",
                        text, address.path, address.path.size(), max_unix_path_length));
    }
    return address;
}

std::uint16_t parse_port(std::string_view text, std::string_view port_text) {
    if (port_text.empty()) {
        reject(text, "the port is missing");
    }
    unsigned value = 0;
    const auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (error != std::errc() || end != port_text.data() + port_text.size() || value == 0 || value > 65535) {
        reject(text, fmt::format("the port '{}' is not a number from 1 to 65535", port_text));
    }
    return static_cast<std::uint16_t>(value);
}

Address parse_tcp(std::string_view text, std::string_view rest) {
    Address address;
    address.transport = Transport::tcp;
    address.text = std::string(text);
    std::string_view port_text;
    if (!rest.empty() && rest.front() == '[') {
        const auto close = rest.find(']');
        if (close == std::string_view::npos) {
            reject(text, "the '[' of an IPv6 literal has no matching ']'");
        }
        address.host = std::string(rest.substr(1, close - 1));
        const auto after = rest.substr(close + 1);
        if (after.empty() || after.front() != ':') {
            reject(text, "expected ':PORT' after the bracketed IPv6 address");
        }
        port_text = after.substr(1);
    } else {
        const auto colon = rest.rfind(':');
        if (colon == std::string_view::npos) {
            reject(text, "the port is missing");
        }
        address.host = std::string(rest.substr(0, colon));
        if (address.host.find(':') != std::string::npos) {
            reject(text, "an IPv6 literal must be written in brackets, e.g. tcp:[::1]:31415");
        }
        port_text = rest.substr(colon + 1);
    }
    if (address.host.empty()) {
        reject(text, "the host is empty (use e.g. localhost or 127.0.0.1)");
    }
    address.port = parse_port(text, port_text);
    return address;
}

}  // namespace

Address parse_address(std::string_view text) {
    const auto colon = text.find(':');
    if (colon == std::string_view::npos) {
        reject(text, "no transport prefix");
    }
    const auto scheme = text.substr(0, colon);
    const auto rest = text.substr(colon + 1);
    if (scheme == "unix") {
        return parse_unix(text, rest);
    }
    if (scheme == "tcp") {
        return parse_tcp(text, rest);
    }
    reject(text, fmt::format("unknown transport '{}'", scheme));
}

std::string describe(const Address& address) {
    if (address.transport == Transport::unix_socket) {
        return "unix:" + address.path;
    }
    if (address.host.find(':') != std::string::npos) {
        return fmt::format("tcp:[{}]:{}", address.host, address.port);
    }
    return fmt::format("tcp:{}:{}", address.host, address.port);
}

}  // namespace chorus::server
