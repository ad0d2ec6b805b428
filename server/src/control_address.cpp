#include "control_address.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

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

void check_control_socket_directory(const std::string& path) {
    std::string directory = std::filesystem::path(path).parent_path().string();
    if (directory.empty()) {
        directory = ".";
    }
    struct stat status {};
    if (::stat(directory.c_str(), &status) != 0) {
        throw ConfigError(fmt::format("cannot inspect the directory '{}' of the control socket '{}': {}",
                                      directory, path, std::strerror(errno)));
    }
    const uid_t us = ::getuid();
    if (status.st_uid != us && status.st_uid != 0) {
        throw ConfigError(fmt::format(
            "the directory '{}' of the control socket '{}' belongs to another user (uid {}), who could "
            "replace the socket; put it in a directory of yours",
            directory, path, status.st_uid));
    }
    if ((status.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (status.st_mode & S_ISVTX) == 0) {
        throw ConfigError(fmt::format(
            "the directory '{}' of the control socket '{}' is writable by others (mode {:o}) without "
            "the sticky bit, so anyone could replace the socket; put it in a directory only you can "
            "write to (or one with the sticky bit, like /tmp)",
            directory, path, status.st_mode & 07777));
    }
}

void claim_control_socket_path(const std::string& path) {
    check_control_socket_directory(path);
    struct stat status {};
    if (::lstat(path.c_str(), &status) != 0) {
        if (errno == ENOENT) {
            return;
        }
        throw ConfigError(
            fmt::format("cannot inspect the control socket path '{}': {}", path, std::strerror(errno)));
    }
    if (S_ISLNK(status.st_mode)) {
        throw ConfigError(
            fmt::format("the control socket path '{}' is a symbolic link; refusing to follow or replace it; "
                        "choose another "
                        "path for --control",
                        path));
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
