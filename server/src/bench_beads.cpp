#include "bench_beads.hpp"

#include <unistd.h>
#include <atomic>
#include <chrono>
#include <exception>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "chorus/error.hpp"
#include "serve.hpp"
#include "wire_conversion.hpp"

namespace chorus::server {
namespace {

using Clock = std::chrono::steady_clock;

// Serve retries this long for a stand-in that is gone, then gives up: a failed benchmark ends.
constexpr double serve_retry_seconds = 10.0;

}  // namespace

std::string bench_socket_path() {
    static std::atomic<int> next{0};
    return fmt::format("/tmp/ipi_chorus-bench-{}-{}", ::getpid(), next++);
}

BenchServeThread::BenchServeThread(const engine::Model& model, const BenchStructure& structure,
                                   std::vector<Address> addresses, ExtrasMode extras, int threads) {
    settings_.addresses = std::move(addresses);
    settings_.extras = extras;
    settings_.threads = threads;
    // The wire carries no species: the whole per-atom list is the pattern, repeated once.
    settings_.species_pattern = structure.atomic_numbers;
    settings_.periodicity = structure.periodic ? Periodicity::yes : Periodicity::no;
    settings_.retry_for_seconds = serve_retry_seconds;
    settings_.log_level = spdlog::level::warn;
    thread_ = std::thread([this, &model] {
        // An exception escaping a thread would terminate the benchmark without a word.
        try {
            exit_code_ = run_serve(settings_, model, false);
        } catch (const std::exception& error) {
            spdlog::error("the benchmark's serve session failed: {}", error.what());
            exit_code_ = 2;
        }
    });
}

BenchServeThread::~BenchServeThread() {
    if (thread_.joinable()) {
        thread_.join();
    }
}

void BenchServeThread::join() {
    if (thread_.joinable()) {
        thread_.join();
    }
    if (exit_code_ != 0) {
        throw Error(fmt::format("the serve session of the benchmark ended with exit code {}", exit_code_));
    }
}

BeadDriver::BeadDriver(const engine::Model& model, const BenchStructure& structure, int beads, Mode mode,
                       ExtrasMode extras, int threads)
    : beads_(beads), mode_(mode), structure_(structure) {
    if (beads < 1) {
        throw ConfigError(fmt::format("{} beads: give 1 or more", beads));
    }
    const int connections = mode == Mode::connections ? beads : 1;
    std::vector<Address> addresses;
    for (int index = 0; index < connections; ++index) {
        // One listening socket per connection: serve opens one session per address either way, and
        // the blocking stand-in then knows which bead each connection carries.
        servers_.push_back(IpiTestServer::listen_unix(bench_socket_path()));
        addresses.push_back(servers_.back()->address());
    }
    serve_ = std::make_unique<BenchServeThread>(model, structure, std::move(addresses), extras, threads);
    const std::string parameters = mode == Mode::batched ? fmt::format("batch_size:{}", beads) : "";
    for (int index = 0; index < connections; ++index) {
        IpiTestServer& server = *servers_[static_cast<std::size_t>(index)];
        server.accept();
        server.status();
        server.send_init(index, parameters);
        server.status();
    }
}

BeadDriver::~BeadDriver() {
    try {
        finish();
    } catch (const std::exception& error) {
        spdlog::error("{}", error.what());
    }
    // Closed before serve_ is joined: serve then sees its connections drop and gives up.
    servers_.clear();
    serve_.reset();
}

void BeadDriver::finish() {
    if (finished_) {
        return;
    }
    finished_ = true;
    for (auto& server : servers_) {
        server->send_exit();
    }
    serve_->join();
}

std::vector<protocol::ForceResult> BeadDriver::step(const std::vector<Eigen::Matrix3Xd>& positions) {
    if (positions.size() != static_cast<std::size_t>(beads_)) {
        throw ConfigError(fmt::format("{} bead positions for {} beads", positions.size(), beads_));
    }
    // i-PI polls every connection before it hands out a structure; sent all at once so that the
    // probes of one connection do not wait for the answers of another.
    for (auto& server : servers_) {
        server->send_status();
    }
    for (auto& server : servers_) {
        const auto reply = server->receive();
        const auto* status = std::get_if<protocol::StatusReply>(&reply);
        if (status == nullptr || status->state != protocol::Header::ready) {
            throw ProtocolError("the serve session under benchmark did not answer STATUS with READY");
        }
    }
    protocol::PosDataMessage message;
    message.atoms = static_cast<std::int32_t>(structure_.positions.cols());
    const auto cell = cell_to_wire(structure_.cell);
    std::vector<protocol::ForceResult> answers;
    answers.reserve(positions.size());
    if (mode_ == Mode::batched) {
        for (const auto& bead : positions) {
            message.structures.push_back({cell, positions_to_wire(bead)});
        }
        servers_.front()->send_request(message, true);
        auto reply = servers_.front()->receive_forces();
        if (reply.results.size() != positions.size()) {
            throw ProtocolError(fmt::format("a batch of {} structures was answered with {} results",
                                            positions.size(), reply.results.size()));
        }
        return std::move(reply.results);
    }
    message.structures.resize(1);
    message.structures[0].cell = cell;
    for (std::size_t bead = 0; bead < positions.size(); ++bead) {
        message.structures[0].positions = positions_to_wire(positions[bead]);
        servers_[bead]->send_request(message);
    }
    for (auto& server : servers_) {
        auto reply = server->receive_forces();
        if (reply.results.size() != 1) {
            throw ProtocolError(
                fmt::format("a single structure was answered with {} results", reply.results.size()));
        }
        answers.push_back(std::move(reply.results.front()));
    }
    return answers;
}

Timings time_bead_steps(BeadDriver& driver, const std::vector<Eigen::Matrix3Xd>& frames, int steps,
                        std::string name, int warm_up) {
    const auto beads = static_cast<std::size_t>(driver.beads());
    std::vector<Eigen::Matrix3Xd> positions(beads);
    auto fill = [&](int step) {
        for (std::size_t bead = 0; bead < beads; ++bead) {
            positions[bead] = frames[(static_cast<std::size_t>(step) * beads + bead) % frames.size()];
        }
    };
    for (int step = 0; step < warm_up; ++step) {
        fill(step);
        driver.step(positions);
    }
    Timings timings;
    timings.name = std::move(name);
    for (int step = 0; step < steps; ++step) {
        fill(step);
        const auto start = Clock::now();
        const double cpu_start = process_cpu_microseconds();
        driver.step(positions);
        const double cpu = process_cpu_microseconds() - cpu_start;
        const double wall = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
        timings.microseconds.push_back(wall / static_cast<double>(beads));
        timings.cpu_microseconds.push_back(cpu / static_cast<double>(beads));
    }
    return timings;
}

}  // namespace chorus::server
