// The control API of `chorus serve --control`: the request parser (good and bad lines), the live
// store (rings, percentiles, order shared with the committee log), the live reweighting against
// `chorus reweight --committee-log` run on the log of the same records, the socket (mode 0600,
// refusal of paths that are not a stale socket of ours), the token, and a real client/server
// exchange through `chorus query`'s code.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "chorus/engine/units.hpp"
#include "chorus/error.hpp"
#include "committee_log.hpp"
#include "control_address.hpp"
#include "control_handler.hpp"
#include "control_request.hpp"
#include "control_server.hpp"
#include "live_reweight.hpp"
#include "live_store.hpp"
#include "query_command.hpp"
#include "reweight_command.hpp"

namespace {

using namespace chorus::server;
using Json = nlohmann::json;

class ScratchDirectory {
public:
    ScratchDirectory() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "chorus-control-test-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path_ = pattern;
    }
    ~ScratchDirectory() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
    std::filesystem::path path_;
};

CommitteeLogRecord make_record(std::int32_t bead, const std::vector<double>& members) {
    CommitteeLogRecord record;
    record.time = std::chrono::system_clock::now();
    record.connection = "unix:/tmp/ipi_test#0";
    record.bead = bead;
    record.atoms = 3;
    record.member_energies = members;
    double mean = 0.0;
    for (const double e : members) {
        mean += e;
    }
    record.energy = mean / static_cast<double>(members.size());
    record.max_atomic_sigma = 0.01;
    return record;
}

LiveEvaluation make_live(double volume, double sigma, double seconds = 1e-4) {
    LiveEvaluation live;
    live.volume = volume;
    live.sigma_energy = sigma;
    live.max_force_sigma = 0.1;
    live.evaluation_seconds = seconds;
    return live;
}

}  // namespace

TEST_CASE("control requests: good lines parse to typed requests", "[control]") {
    CHECK(std::holds_alternative<StatusRequest>(parse_control_request(R"({"request": "status"})").body));
    CHECK(std::holds_alternative<MetricsRequest>(parse_control_request("{\"request\":\"metrics\"}\r").body));

    const auto uncertainty = parse_control_request(R"({"request": "uncertainty", "last": 25, "id": 7})");
    CHECK(std::get<UncertaintyRequest>(uncertainty.body).last == 25);
    CHECK(uncertainty.id == "7");
    CHECK(std::get<UncertaintyRequest>(parse_control_request(R"({"request":"uncertainty"})").body).last ==
          10);

    const auto reweight =
        parse_control_request(R"({"request": "reweight", "temperature": 300.5, "beads": 4})");
    CHECK(std::get<ReweightRequest>(reweight.body).temperature_kelvin == 300.5);
    CHECK(std::get<ReweightRequest>(reweight.body).beads == 4);

    const auto capture = parse_control_request(
        R"({"request": "capture", "threshold": 0.02, "per_minute": 5, "quantity": "max_force_sigma", "token": "s"})");
    const auto& body = std::get<CaptureRequest>(capture.body);
    CHECK(body.enable);
    CHECK(body.threshold == 0.02);
    CHECK(body.per_minute == 5);
    CHECK(body.quantity == CaptureQuantity::max_force_sigma);
    CHECK(capture.token == "s");
    CHECK_FALSE(
        std::get<CaptureRequest>(parse_control_request(R"({"request":"capture","enable":false})").body)
            .enable);
}

TEST_CASE("control requests: bad lines throw InputError naming the problem", "[control]") {
    const auto fails_with = [](const std::string& line, const std::string& part) {
        INFO(line);
        CHECK_THROWS_WITH(parse_control_request(line), Catch::Contains(part));
        CHECK_THROWS_AS(parse_control_request(line), chorus::InputError);
    };
    fails_with("", "not valid JSON");
    fails_with("{\"request\": \"status\"", "not valid JSON");
    fails_with("[1, 2]", "JSON object");
    fails_with("{}", "\"request\": NAME");
    fails_with(R"({"request": 3})", "\"request\": NAME");
    fails_with(R"({"request": "launch"})", "unknown request 'launch'");
    fails_with(R"({"request": "status", "verbose": true})", "unknown field 'verbose'");
    fails_with(R"({"request": "uncertainty", "last": 0})", "'last'");
    fails_with(R"({"request": "uncertainty", "last": 2.5})", "whole number");
    fails_with(R"({"request": "uncertainty", "last": 100000})", "1 to 1024");
    fails_with(R"({"request": "uncertainty", "last": "ten"})", "must be a number");
    fails_with(R"({"request": "reweight", "temperature": -3})", "positive");
    fails_with(R"({"request": "capture"})", "needs 'threshold'");
    fails_with(R"({"request": "capture", "threshold": -1})", ">= 0");
    fails_with(R"({"request": "capture", "threshold": 1, "quantity": "energy"})", "unknown capture quantity");
    fails_with(R"({"request": "capture", "threshold": 1, "per_minute": 0})", "'per_minute'");
    fails_with(R"({"request": "capture", "threshold": 1, "path": "/etc"})", "unknown field 'path'");
    fails_with(R"({"request": "status", "token": 5})", "'token' must be a string");
    fails_with(std::string(200, '[') + std::string(200, ']'), "nested deeper");
    fails_with(std::string(max_control_request_bytes + 1, ' '), "longer than the limit");
}

TEST_CASE("live store: recent entries, percentiles, histogram, connections", "[control]") {
    LiveStore::Options options;
    options.recent_capacity = 4;
    options.series_chunk = 3;  // several chunks with few records
    LiveStore store(2, options);
    const auto a = store.add_connection("unix:/tmp/ipi_a#0", "unix:/tmp/ipi_a");
    const auto b = store.add_connection("unix:/tmp/ipi_b#0", "unix:/tmp/ipi_b");
    store.set_connected(a, true);
    for (int k = 0; k < 10; ++k) {
        store.record(make_record(k % 2, {1.0 * k, 1.0 * k + 0.5}), make_live(10.0, 0.35, 1e-3 * (k + 1)),
                     k < 7 ? a : b, nullptr);
        store.add_round_trip(a, 2e-3);
    }
    const LiveSnapshot snapshot = store.snapshot(100);
    CHECK(snapshot.structures == 10);
    CHECK(snapshot.round_trips == 10);
    REQUIRE(snapshot.recent.size() == 4);  // the ring's capacity, oldest first
    CHECK(snapshot.recent.front().energy == Approx(6.25));
    CHECK(snapshot.recent.back().energy == Approx(9.25));
    CHECK(snapshot.recent.back().connection == b);
    CHECK(snapshot.connections[a].connected);
    CHECK_FALSE(snapshot.connections[b].connected);
    CHECK(snapshot.connections[a].structures == 7);
    CHECK(snapshot.connections[a].beads == std::vector<std::int32_t>{0, 1});
    // Evaluation times 1 … 10 ms: nearest-rank percentiles.
    CHECK(snapshot.evaluation.p50 == Approx(5e-3));
    CHECK(snapshot.evaluation.p90 == Approx(9e-3));
    CHECK(snapshot.evaluation.p99 == Approx(10e-3));
    CHECK(snapshot.round_trip.p50 == Approx(2e-3));
    CHECK(snapshot.evaluation_histogram.count == 10);
    CHECK(snapshot.evaluation_histogram.sum_seconds == Approx(55e-3));
    CHECK(store.snapshot(2).recent.size() == 2);

    const ReweightInput input = store.reweight_input();
    REQUIRE(input.values.rows() == 10);
    CHECK(input.values(9, 0) == 9.0);
    CHECK(input.values(9, 1) == 9.5);
    CHECK(input.values(9, 2) == 10.0);  // volume
    CHECK(input.values(9, 3) == 0.35);  // sigma
    CHECK(input.groups[6] == 0);
    CHECK(input.groups[7] == 1);
    CHECK(input.group_names == std::vector<std::string>{"unix:/tmp/ipi_a", "unix:/tmp/ipi_b"});
    CHECK_FALSE(input.truncated);
}

TEST_CASE("live store: a full series is reported as truncated, the rings keep going", "[control]") {
    LiveStore::Options options;
    options.series_capacity = 5;
    options.series_chunk = 2;
    LiveStore store(2, options);
    const auto a = store.add_connection("x#0", "x");
    for (int k = 0; k < 8; ++k) {
        store.record(make_record(-1, {1.0, 2.0}), make_live(1.0, 0.7), a, nullptr);
    }
    const ReweightInput input = store.reweight_input();
    CHECK(input.values.rows() == 5);
    CHECK(input.truncated);
    CHECK(store.snapshot(0).structures == 8);
}

TEST_CASE("live reweight equals `chorus reweight --committee-log` on the log of the same records",
          "[control]") {
    // With a dipole model (a committee of 3 beside the 4 potential members) the mean dipole's
    // scalars are observables of both, and must come out the same too.
    const bool dipole = GENERATE(false, true);
    CAPTURE(dipole);
    constexpr std::size_t dipole_members = 3;
    ScratchDirectory scratch;
    const std::string log_path = scratch.file("run.log");
    constexpr std::size_t members = 4;
    constexpr int beads = 3;
    constexpr double temperature = 300.0;
    LiveStore::Options options;
    options.dipole = dipole;
    LiveStore store(members, options);
    const auto connection = store.add_connection("unix:/tmp/ipi_w#0", "unix:/tmp/ipi_w");
    {
        CommitteeLog log(log_path,
                         CommitteeLogHeader{"test model", members, temperature, dipole ? dipole_members : 0});
        std::mt19937 random(7);
        std::normal_distribution<double> noise(0.0, 0.05);
        double drift = 0.0;
        for (int step = 0; step < 400; ++step) {
            drift = 0.9 * drift + noise(random);  // a correlated series, as MD gives
            for (int bead = 0; bead < beads; ++bead) {
                std::vector<double> energies;
                for (std::size_t k = 0; k < members; ++k) {
                    energies.push_back(-100.0 + drift + 0.02 * static_cast<double>(k) * (1 + bead) +
                                       noise(random));
                }
                const double volume = 1000.0 + 5.0 * drift + bead;
                CommitteeLogRecord record = make_record(bead, energies);
                LiveEvaluation live = make_live(volume, std::abs(noise(random)));
                if (dipole) {
                    // A mean dipole that follows the energies (so reweighting moves it), members around it.
                    const Eigen::Vector3d mean(0.3 + 2.0 * drift, -0.1 + noise(random), 1.0 / 3.0 + bead);
                    record.dipoles.assign(mean.data(), mean.data() + 3);
                    for (std::size_t k = 0; k < dipole_members; ++k) {
                        for (int d = 0; d < 3; ++d) {
                            record.dipoles.push_back(mean[d] + noise(random));
                        }
                    }
                    live.dipole_scalars = dipole_scalars(mean.x(), mean.y(), mean.z());
                }
                store.record(std::move(record), live, connection, &log);
            }
        }
        log.close();
    }

    const LiveReweight live =
        compute_live_reweight(store.reweight_input(), chorus::units::kelvin_to_ev(temperature), std::nullopt);
    REQUIRE(live.groups.size() == 1);
    const auto& group = live.groups.front();
    REQUIRE_FALSE(group.error);
    CHECK(group.steps == 400);
    CHECK(group.beads == beads);
    REQUIRE(group.observables.size() == (dipole ? 7 : 3));
    CHECK(group.observables[1].name == "volume");

    ReweightSettings settings;
    settings.committee_log_path = log_path;
    settings.json_path = "-";
    std::ostringstream out;
    std::ostringstream err;
    REQUIRE(run_reweight(settings, out, err) == 0);
    const Json offline = Json::parse(out.str());
    REQUIRE(offline["frames"] == 400);
    const Json& energy = offline["observables"][0];
    const auto& observable = group.observables[0];
    // The same doubles through the same code: equal, not just close.
    CHECK(observable.sampled == energy["sampled_average"].get<double>());
    CHECK(observable.member_mean == energy["member_mean"].get<double>());
    CHECK(observable.committee_spread == energy["committee_spread"].get<double>());
    CHECK(observable.statistical_error == energy["statistical_error"].get<double>());
    CHECK(observable.block_size == energy["block_size"].get<std::size_t>());
    for (std::size_t i = 0; i < members; ++i) {
        CHECK(observable.member_averages[i] == energy["member_averages"][i].get<double>());
        CHECK(group.effective_sample_sizes[i] == offline["effective_sample_size"][i].get<double>());
    }
    // The bead-averaged volume is a plain mean of what was recorded.
    CHECK(group.observables[1].sampled == Approx(1001.0).margin(1.0));
    if (!dipole) {
        CHECK(offline["observables"].size() == 1);
        return;
    }
    // Offline: 0 potential energy, 1-4 mu_x, mu_y, mu_z, mu2; live: after volume and sigma_energy.
    REQUIRE(offline["observables"].size() == 5);
    for (std::size_t s = 0; s < 4; ++s) {
        const auto& mu = group.observables[3 + s];
        const Json& expected = offline["observables"][1 + s];
        CHECK(mu.name == dipole_scalar_names[s]);
        CHECK(mu.sampled == expected["sampled_average"].get<double>());
        CHECK(mu.member_mean == expected["member_mean"].get<double>());
        CHECK(mu.committee_spread == expected["committee_spread"].get<double>());
        CHECK(mu.statistical_error == expected["statistical_error"].get<double>());
        for (std::size_t i = 0; i < members; ++i) {
            CHECK(mu.member_averages[i] == expected["member_averages"][i].get<double>());
        }
    }
    CHECK(group.observables[6].committee_spread > 0.0);  // the dipole follows the energies: it moves
    // The bead average of |μ|² is not |bead average of μ|²: the beads' z differ by 1.
    CHECK(group.observables[6].sampled > group.observables[3].sampled * group.observables[3].sampled +
                                             group.observables[4].sampled * group.observables[4].sampled +
                                             group.observables[5].sampled * group.observables[5].sampled);
}

TEST_CASE("live reweight reports a group without enough steps instead of failing", "[control]") {
    LiveStore store(2);
    store.add_connection("a#0", "a");
    const LiveReweight live = compute_live_reweight(store.reweight_input(), 0.025, std::nullopt);
    REQUIRE(live.groups.size() == 1);
    CHECK(live.groups[0].error);
}

TEST_CASE("control addresses", "[control]") {
    CHECK(parse_control_address("/tmp/x.sock").path == "/tmp/x.sock");
    CHECK(parse_control_address("unix:rel.sock").path == "rel.sock");
    const auto tcp = parse_control_address("tcp:127.0.0.1:0");
    CHECK(tcp.tcp);
    CHECK(tcp.host == "127.0.0.1");
    CHECK_THROWS_AS(parse_control_address("unix:"), chorus::ConfigError);
    CHECK_THROWS_AS(parse_control_address(std::string(200, 'a')), chorus::ConfigError);
    CHECK(is_loopback_host("127.0.0.1"));
    CHECK(is_loopback_host("127.5.0.1"));
    CHECK(is_loopback_host("::1"));
    CHECK(is_loopback_host("localhost"));
    CHECK_FALSE(is_loopback_host("0.0.0.0"));
    CHECK_FALSE(is_loopback_host("192.168.1.4"));
}

TEST_CASE("tokens compare equal only when identical", "[control]") {
    CHECK(tokens_equal("secret", "secret"));
    CHECK_FALSE(tokens_equal("secreT", "secret"));
    CHECK_FALSE(tokens_equal("secret1", "secret"));
    CHECK_FALSE(tokens_equal("", "secret"));
    CHECK_FALSE(tokens_equal("secret", ""));
    CHECK(tokens_equal("", ""));
}

TEST_CASE("control handler: token required, errors keep the connection's protocol", "[control]") {
    LiveStore store(2);
    store.add_connection("a#0", "a");
    ControlHandler handler(ControlContext{"model", 300.0, std::string("s3cret")}, store, nullptr);
    const Json missing = Json::parse(handler.handle(R"({"request": "status"})"));
    CHECK(missing["ok"] == false);
    CHECK(missing["error"].get<std::string>().find("requires \"token\"") != std::string::npos);
    const Json wrong = Json::parse(handler.handle(R"({"request": "status", "token": "guess"})"));
    CHECK(wrong["ok"] == false);
    CHECK(wrong["error"].get<std::string>().find("s3cret") == std::string::npos);
    const Json right = Json::parse(handler.handle(R"({"request": "status", "token": "s3cret", "id": "q1"})"));
    CHECK(right["ok"] == true);
    CHECK(right["id"] == "q1");
    CHECK(right["model"] == "model");
    const Json capture =
        Json::parse(handler.handle(R"({"request": "capture", "threshold": 1, "token": "s3cret"})"));
    CHECK(capture["ok"] == false);
    CHECK(capture["error"].get<std::string>().find("--capture-dir") != std::string::npos);
    const Json metrics = Json::parse(handler.handle(R"({"request": "metrics", "token": "s3cret"})"));
    CHECK(metrics["text"].get<std::string>().find("# TYPE chorus_evaluation_seconds histogram") !=
          std::string::npos);
    CHECK(handler.counters().requests == 5);
    CHECK(handler.counters().errors == 3);
}

TEST_CASE("control socket: mode 0600, foreign paths refused, stale sockets replaced", "[control]") {
    ScratchDirectory scratch;
    LiveStore store(2);
    store.add_connection("a#0", "a");

    SECTION("a regular file is never replaced") {
        const std::string path = scratch.file("not-a-socket");
        std::ofstream(path) << "precious";
        CHECK_THROWS_WITH(ControlServer(parse_control_address(path), ControlHandler({}, store, nullptr)),
                          Catch::Contains("is not a socket"));
        std::ifstream file(path);
        std::string text;
        file >> text;
        CHECK(text == "precious");
    }
    SECTION("a directory is refused") {
        const std::string path = scratch.file("directory");
        std::filesystem::create_directory(path);
        CHECK_THROWS_AS(ControlServer(parse_control_address(path), ControlHandler({}, store, nullptr)),
                        chorus::ConfigError);
    }
    SECTION("a live server's socket is refused, a stale one replaced, the file is 0600") {
        const std::string path = scratch.file("control.sock");
        {
            ControlServer first(parse_control_address(path), ControlHandler({}, store, nullptr));
            struct stat status {};
            REQUIRE(::lstat(path.c_str(), &status) == 0);
            CHECK(S_ISSOCK(status.st_mode));
            CHECK((status.st_mode & 0777) == 0600);
            CHECK_THROWS_WITH(ControlServer(parse_control_address(path), ControlHandler({}, store, nullptr)),
                              Catch::Contains("another process serves"));
        }
        CHECK_FALSE(std::filesystem::exists(path));  // removed at stop
        // A stale socket: bound, never listened, its process gone.
        const int descriptor = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", path.c_str());
        REQUIRE(::bind(descriptor, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0);
        ::close(descriptor);
        REQUIRE(std::filesystem::is_socket(path));
        ControlServer second(parse_control_address(path), ControlHandler({}, store, nullptr));
        CHECK(second.endpoint() == "unix:" + path);
    }
}

TEST_CASE("control server and `chorus query`: a real exchange over UNIX and TCP", "[control]") {
    ScratchDirectory scratch;
    LiveStore store(2);
    const auto a = store.add_connection("unix:/tmp/ipi_q#0", "unix:/tmp/ipi_q");
    for (int k = 0; k < 50; ++k) {
        store.record(make_record(-1, {1.0 + 0.01 * k, 1.1 + 0.01 * k}), make_live(8.0, 0.07), a, nullptr);
    }
    ControlServer unix_server(parse_control_address(scratch.file("q.sock")),
                              ControlHandler({"toy", 100.0, std::nullopt}, store, nullptr));
    QuerySettings query;
    query.address = scratch.file("q.sock");
    query.request = "uncertainty";
    query.arguments = {"last=3"};
    query.json = true;
    std::ostringstream out;
    std::ostringstream err;
    REQUIRE(run_query(query, out, err) == 0);
    const Json response = Json::parse(out.str());
    CHECK(response["entries"].size() == 3);
    CHECK(response["entries"][2]["sigma_energy"] == 0.07);

    query.request = "reweight";
    query.arguments = {};
    query.json = false;
    out.str("");
    REQUIRE(run_query(query, out, err) == 0);
    CHECK(out.str().find("potential_energy") != std::string::npos);

    query.request = "bogus";
    CHECK(run_query(query, out, err) == 1);
    CHECK(err.str().find("unknown request 'bogus'") != std::string::npos);

    ControlServer tcp_server(parse_control_address("tcp:127.0.0.1:0"),
                             ControlHandler({"toy", 100.0, std::string("tok")}, store, nullptr));
    query.address = tcp_server.endpoint();
    query.request = "status";
    query.json = true;
    out.str("");
    CHECK(run_query(query, out, err) == 1);  // no token
    query.token = "tok";
    out.str("");
    REQUIRE(run_query(query, out, err) == 0);
    CHECK(Json::parse(out.str())["structures"] == 50);
    QuerySettings bad;
    bad.request = "status";
    bad.arguments = {"novalue"};
    CHECK_THROWS_AS(build_query_line(bad), chorus::ConfigError);
}

namespace {

// A raw client: connect, send, read one line.
class RawClient {
public:
    explicit RawClient(const std::string& path) : descriptor_(::socket(AF_UNIX, SOCK_STREAM, 0)) {
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", path.c_str());
        REQUIRE(::connect(descriptor_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0);
    }
    ~RawClient() { ::close(descriptor_); }
    void send(const std::string& text) {
        std::size_t done = 0;
        while (done < text.size()) {
            const ssize_t count = ::send(descriptor_, text.data() + done, text.size() - done, MSG_NOSIGNAL);
            if (count <= 0) {
                return;  // the server closed: fine for the over-long line
            }
            done += static_cast<std::size_t>(count);
        }
    }
    // The next line, or "" at EOF.
    std::string line() {
        std::string text;
        char c = 0;
        while (::recv(descriptor_, &c, 1, 0) == 1) {
            if (c == '\n') {
                return text;
            }
            text += c;
        }
        return text;
    }

private:
    int descriptor_;
};

}  // namespace

TEST_CASE("control server: bad lines keep the connection, an over-long line closes it", "[control]") {
    ScratchDirectory scratch;
    LiveStore store(2);
    store.add_connection("a#0", "a");
    ControlServer server(parse_control_address(scratch.file("c.sock")),
                         ControlHandler({"toy", std::nullopt, std::nullopt}, store, nullptr));
    RawClient client(scratch.file("c.sock"));
    client.send("this is not json\n{\"request\": \"nope\"}\n{\"request\": \"status\", \"id\": 3}\n");
    CHECK(Json::parse(client.line())["error"].get<std::string>().find("not valid JSON") != std::string::npos);
    CHECK(Json::parse(client.line())["error"].get<std::string>().find("unknown request") !=
          std::string::npos);
    const Json status = Json::parse(client.line());
    CHECK(status["ok"] == true);
    CHECK(status["id"] == 3);
    const Json reweight = Json::parse([&] {
        client.send("{\"request\": \"reweight\"}\n");
        return client.line();
    }());
    CHECK(reweight["error"].get<std::string>().find("no temperature") != std::string::npos);

    client.send(std::string(max_control_request_bytes + 100, 'x'));
    const Json too_long = Json::parse(client.line());
    CHECK(too_long["error"].get<std::string>().find("longer than 65536 bytes") != std::string::npos);
    CHECK(client.line().empty());  // closed
}
