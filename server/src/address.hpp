#pragma once
// Where a serve session connects: the i-PI server's listening socket, UNIX or TCP.
#include <cstdint>
#include <string>
#include <string_view>

namespace chorus::server {

enum class Transport { unix_socket, tcp };

struct Address {
    Transport transport = Transport::unix_socket;
    std::string path;        // UNIX: the socket file
    std::string host;        // TCP: host name or IP literal (without brackets)
    std::uint16_t port = 0;  // TCP
    std::string text;        // as the user wrote it, for logs

    friend bool operator==(const Address&, const Address&) = default;
};

// The prefix i-PI and ASE put before a UNIX socket name (`<address>NAME</address>` → /tmp/ipi_NAME).
inline constexpr std::string_view ipi_unix_prefix = "/tmp/ipi_";

// Longest path a sockaddr_un can hold (108 bytes including the terminating NUL on Linux).
inline constexpr std::size_t max_unix_path_length = 107;

// Accepted forms: `unix:NAME` (→ /tmp/ipi_NAME), `unix:/absolute/path`, `tcp:HOST:PORT`,
// `tcp:[IPv6]:PORT`. Throws ConfigError naming the address and listing the accepted forms.
Address parse_address(std::string_view text);

// One line for logs, e.g. "unix:/tmp/ipi_water" or "tcp:[::1]:31415".
std::string describe(const Address& address);

}  // namespace chorus::server
