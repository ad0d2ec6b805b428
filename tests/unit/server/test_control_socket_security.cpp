// The control socket path is the one door `chorus serve` opens on the file system (issue 9,
// security): whatever already sits at the path, or could be swapped in by someone else, must make
// chorus refuse to start, and must be left exactly as it was.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include "chorus/error.hpp"
#include "control_address.hpp"
#include "control_handler.hpp"
#include "control_server.hpp"
#include "live_store.hpp"

namespace {

using namespace chorus::server;

constexpr uid_t nobody = 65534;

class ScratchDirectory {
public:
    ScratchDirectory() {
        std::string pattern = (std::filesystem::temp_directory_path() / "chorus-socket-test-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path_ = pattern;
    }
    ~ScratchDirectory() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    std::string file(const std::string& name) const { return (path_ / name).string(); }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// A socket file nobody listens on (what a killed server leaves behind).
void make_stale_socket(const std::string& path) {
    const int descriptor = ::socket(AF_UNIX, SOCK_STREAM, 0);
    REQUIRE(descriptor >= 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", path.c_str());
    REQUIRE(::bind(descriptor, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0);
    ::close(descriptor);
    REQUIRE(std::filesystem::is_socket(path));
}

struct stat lstat_of(const std::string& path) {
    struct stat status {};
    REQUIRE(::lstat(path.c_str(), &status) == 0);
    return status;
}

}  // namespace

TEST_CASE("control socket: a stale socket of another user is refused and left in place",
          "[control][security]") {
    if (::getuid() != 0) {
        WARN("not root: cannot create a socket owned by another user; skipped");
        return;
    }
    ScratchDirectory scratch;
    const std::string path = scratch.file("control.sock");
    make_stale_socket(path);
    REQUIRE(::lchown(path.c_str(), nobody, nobody) == 0);

    // Refused although it is stale and we are root, who could remove it.
    CHECK_THROWS_WITH(claim_control_socket_path(path),
                      Catch::Contains("is a socket of another user (uid 65534)") && Catch::Contains(path));
    LiveStore store(2);
    CHECK_THROWS_AS(ControlServer(parse_control_address(path), ControlHandler({}, store, nullptr)),
                    chorus::ConfigError);
    const struct stat after = lstat_of(path);
    CHECK(S_ISSOCK(after.st_mode));
    CHECK(after.st_uid == nobody);
}

TEST_CASE("control socket: a symbolic link is never followed nor replaced", "[control][security]") {
    ScratchDirectory scratch;
    const std::string path = scratch.file("control.sock");

    SECTION("to a stale socket of ours") {
        const std::string target = scratch.file("target.sock");
        make_stale_socket(target);
        std::filesystem::create_symlink(target, path);
        CHECK_THROWS_WITH(claim_control_socket_path(path), Catch::Contains("is a symbolic link"));
        CHECK(std::filesystem::is_symlink(path));
        CHECK(std::filesystem::is_socket(target));
    }
    SECTION("to a file") {
        const std::string target = scratch.file("precious");
        std::ofstream(target) << "precious";
        REQUIRE(::chmod(target.c_str(), 0644) == 0);
        std::filesystem::create_symlink(target, path);
        LiveStore store(2);
        CHECK_THROWS_WITH(ControlServer(parse_control_address(path), ControlHandler({}, store, nullptr)),
                          Catch::Contains("is a symbolic link"));
        CHECK((lstat_of(target).st_mode & 0777) == 0644);  // no chmod through the link
    }
    SECTION("dangling") {
        std::filesystem::create_symlink(scratch.file("nowhere"), path);
        CHECK_THROWS_WITH(claim_control_socket_path(path), Catch::Contains("is a symbolic link"));
        CHECK_FALSE(std::filesystem::exists(scratch.file("nowhere")));
    }
}

TEST_CASE("control socket: only in a directory nobody else can rearrange", "[control][security]") {
    ScratchDirectory scratch;
    const std::string directory = scratch.file("sockets");
    std::filesystem::create_directory(directory);
    const std::string path = directory + "/control.sock";

    SECTION("writable by others without the sticky bit: refused, before anything is created") {
        REQUIRE(::chmod(directory.c_str(), 0777) == 0);
        CHECK_THROWS_WITH(claim_control_socket_path(path),
                          Catch::Contains("writable by others (mode 777)") && Catch::Contains(directory));
        REQUIRE(::chmod(directory.c_str(), 0770) == 0);
        CHECK_THROWS_WITH(check_control_socket_directory(path), Catch::Contains("writable by others"));
        CHECK_FALSE(std::filesystem::exists(path));
    }
    SECTION("with the sticky bit (like /tmp), or only ours: accepted") {
        REQUIRE(::chmod(directory.c_str(), 01777) == 0);
        CHECK_NOTHROW(claim_control_socket_path(path));
        REQUIRE(::chmod(directory.c_str(), 0755) == 0);
        LiveStore store(2);
        ControlServer server(parse_control_address(path), ControlHandler({}, store, nullptr));
        CHECK((lstat_of(path).st_mode & 0777) == 0600);
    }
    SECTION("a directory of another user: refused") {
        if (::getuid() != 0) {
            WARN("not root: cannot create a directory owned by another user; skipped");
            return;
        }
        REQUIRE(::chown(directory.c_str(), nobody, nobody) == 0);
        CHECK_THROWS_WITH(claim_control_socket_path(path),
                          Catch::Contains("belongs to another user (uid 65534)"));
    }
    SECTION("a relative path is checked against the working directory") {
        const auto previous = std::filesystem::current_path();
        REQUIRE(::chmod(directory.c_str(), 0777) == 0);
        std::filesystem::current_path(directory);
        CHECK_THROWS_WITH(check_control_socket_directory("control.sock"), Catch::Contains("directory '.'"));
        std::filesystem::current_path(previous);
    }
}
