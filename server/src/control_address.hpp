#pragma once
// Where `chorus serve --control` listens and `chorus query` connects: a UNIX socket (default) or
// TCP. The UNIX socket is created with mode 0600, in a directory nobody else can write to; an
// existing path is replaced only when it is a stale socket of ours (a socket file owned by our uid
// that nobody listens on any more), never through a symbolic link.
#include <cstdint>
#include <string>
#include <string_view>

namespace chorus::server {

struct ControlAddress {
    bool tcp = false;
    std::string path;        // UNIX
    std::string host;        // TCP
    std::uint16_t port = 0;  // TCP; 0 for serve: any free port (logged)
    std::string text;        // as given

    friend bool operator==(const ControlAddress&, const ControlAddress&) = default;
};

// `PATH`, `unix:PATH` (the path as written: relative paths are fine), `tcp:HOST:PORT`,
// `tcp:[IPv6]:PORT`. Throws ConfigError naming the address and the accepted forms.
ControlAddress parse_control_address(std::string_view text);

// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(const std::string& host);

// Throws ConfigError when the directory `path` would be created in lets someone else replace the
// socket (and so answer `chorus query` in chorus's name): a directory of another user (root is
// fine), or one writable by group or others without the sticky bit. It also closes the window
// between bind() and the chmod to 0600, which follows symlinks: nobody else can swap the entry.
void check_control_socket_directory(const std::string& path);

// Makes `path` free for bind(): its directory must pass check_control_socket_directory; nothing
// there → nothing to do; a socket owned by our uid that refuses connections → removed (stale, from
// a killed run). Anything else → ConfigError: a symbolic link (never followed), a file or directory
// that is not a socket, a socket of another user, or a socket someone is serving on.
void claim_control_socket_path(const std::string& path);

}  // namespace chorus::server
