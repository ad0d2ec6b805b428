#include "control_address.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "address.hpp"
#include "chorus/error.hpp"

namespace chorus::server {

ControlAddress parse_control_address(std::string_view text) {
    ControlAddress address;
    address.text = std::string(text);
    if (text.starts_with("tcp:")) {
        // Port 0 (any free port, for tests and scripts that read the log) is not a port to connect
        // to, so parse_address rejects it: parse with a placeholder port instead.
        const bool any_port = text.ends_with(":0");
        const Address parsed =
            parse_address(any_port ? std::string(text.substr(0, text.size() - 1)) + "1" : std::string(text));
        address.tcp = true;
        address.host = parsed.host;
        address.port = any_port ? 0 : parsed.port;
        return address;
    }
    std::string_view path = text.starts_with("unix:") ? text.substr(5) : text;
    if (path.empty()) {
        throw ConfigError(fmt::format(
            "control address '{}' has no path; give PATH, unix:PATH or tcp:127.0.0.1:PORT", text));
    }
    if (path.size() > max_unix_path_length) {
        throw ConfigError(
            fmt::format("control socket path '{}' is longer than the {} bytes a UNIX socket "
                        "address holds; choose a shorter path",
                        path, max_unix_path_length));
    }
    address.path = std::string(path);
    return address;
}

bool is_loopback_host(const std::string& host) {
    if (host == "localhost" || host == "::1") {
        return true;
    }
    in_addr ipv4{};
    if (::inet_pton(AF_INET, host.c_str(), &ipv4) == 1) {
        return (ntohl(ipv4.s_addr) >> 24) == 127;
    }
    return false;
}

void claim_control_socket_path(const std::string& path) {
    struct stat status {};
    if (::lstat(path.c_str(), &status) != 0) {
        if (errno == ENOENT) {
            return;
        }
        throw ConfigError(
            fmt::format("cannot inspect the control socket path '{}': {}", path, std::strerror(errno)));
    }
    if (!S_ISSOCK(status.st_mode)) {
        throw ConfigError(fmt::format(
            "the control socket path '{}' exists and is not a socket; refusing to replace it; choose "
            "another path for --control",
            path));
    }
    if (status.st_uid != ::getuid()) {
        throw ConfigError(fmt::format(
            "the control socket path '{}' is a socket of another user (uid {}); refusing to replace it; "
            "choose another path for --control",
            path, status.st_uid));
    }
    // Ours: stale unless someone still accepts connections on it.
    const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe < 0) {
        throw ConfigError(fmt::format("cannot create a socket: {}", std::strerror(errno)));
    }
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    const int connected = ::connect(probe, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
    const int error = errno;
    ::close(probe);
    if (connected == 0) {
        throw ConfigError(fmt::format(
            "another process serves on the control socket '{}'; stop it or choose another path for --control",
            path));
    }
    if (error != ECONNREFUSED) {
        throw ConfigError(
            fmt::format("the control socket path '{}' exists and cannot be probed ({}); remove "
                        "it or choose another path",
                        path, std::strerror(error)));
    }
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        throw ConfigError(
            fmt::format("cannot remove the stale control socket '{}': {}", path, std::strerror(errno)));
    }
}

}  // namespace chorus::server
