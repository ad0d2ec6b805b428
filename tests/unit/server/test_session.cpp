// In-process end-to-end tests: a blocking C++ stand-in for i-PI (IpiTestServer) on a UNIX socket
// (and once on TCP) talks to a real Session, whose answers are checked against the model evaluated
// directly.
#include <catch2/catch.hpp>

#include <unistd.h>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>
#include <oneapi/tbb/task_arena.h>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <nlohmann/json.hpp>

#include "argon_box.hpp"
#include "chorus/engine/units.hpp"
#include "chorus/models/lennard_jones.hpp"
#include "evaluation_arena.hpp"
#include "ipi_test_server.hpp"
#include "session.hpp"
#include "toy_committee.hpp"
#include "wire_conversion.hpp"

using namespace chorus::server;
using chorus::engine::CommitteeResult;
using chorus::engine::System;
using chorus::protocol::Header;
using chorus::protocol::PosDataMessage;
using chorus::server::test::ToyCommittee;

namespace {

std::string socket_path() {
    static std::atomic<int> counter = 0;
    return "/tmp/chorus-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".sock";
}

// A Session running on its own io_context thread, as in `chorus serve`, with an arena of `threads`
// slots laid out as serve lays them out (EvaluationArena).
class RunningSession {
public:
    RunningSession(SessionSettings settings, const chorus::engine::Model& model, int threads = 1)
        : arena_(threads, settings.evaluate_inline),
          session_(io_context_.get_executor(), std::move(settings), model, arena_.arena()) {
        outcome_ = promise_.get_future();
        asio::co_spawn(io_context_, session_.run(), [this](std::exception_ptr error, SessionOutcome outcome) {
            if (error) {
                promise_.set_exception(error);
            } else {
                promise_.set_value(outcome);
            }
        });
        thread_ = std::thread([this] { io_context_.run(); });
        io_thread_ = thread_.get_id();
    }
    RunningSession(const RunningSession&) = delete;
    RunningSession& operator=(const RunningSession&) = delete;
    ~RunningSession() {
        if (thread_.joinable()) {
            stop();
            thread_.join();
        }
    }

    void stop() {
        asio::post(io_context_, [this] { session_.stop(); });
    }
    SessionOutcome outcome() {
        thread_.join();
        return outcome_.get();
    }
    std::thread::id io_thread() const { return io_thread_; }

private:
    asio::io_context io_context_{1};
    EvaluationArena arena_;
    Session session_;
    std::promise<SessionOutcome> promise_;
    std::future<SessionOutcome> outcome_;
    std::thread thread_;
    std::thread::id io_thread_;
};

// Wraps a model and records which threads take part in its evaluations: each evaluation runs a
// parallel loop whose iterations wait (up to 20 s) until `wanted` distinct threads have joined,
// so an arena that cannot put that many threads on the work shows up as fewer threads, not as a
// race. The result is the inner model's.
class ThreadRecordingModel final : public chorus::engine::Model {
public:
    ThreadRecordingModel(const chorus::engine::Model& inner, std::size_t wanted)
        : inner_(inner), wanted_(wanted) {}

    std::string_view kind() const override { return inner_.kind(); }
    std::string description() const override { return inner_.description(); }
    std::span<const int> species() const override { return inner_.species(); }
    double cutoff() const override { return inner_.cutoff(); }
    std::size_t committee_size() const override { return inner_.committee_size(); }
    double calibration_alpha() const override { return inner_.calibration_alpha(); }

    std::set<std::thread::id> threads() const {
        const std::lock_guard lock(mutex_);
        return threads_;
    }

protected:
    void compute(const System& system, const chorus::engine::ComputeRequest& request,
                 CommitteeResult& result) const override {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        tbb::parallel_for(
            tbb::blocked_range<std::size_t>(0, wanted_, 1),
            [&](const tbb::blocked_range<std::size_t>&) {
                for (;;) {
                    {
                        const std::lock_guard lock(mutex_);
                        threads_.insert(std::this_thread::get_id());
                        if (threads_.size() >= wanted_) {
                            return;
                        }
                    }
                    if (std::chrono::steady_clock::now() > deadline) {
                        return;
                    }
                    std::this_thread::yield();
                }
            },
            tbb::simple_partitioner());
        inner_.evaluate(system, request, result);
    }

private:
    const chorus::engine::Model& inner_;
    std::size_t wanted_;
    mutable std::mutex mutex_;
    mutable std::set<std::thread::id> threads_;
};

SessionSettings settings_for(const Address& address) {
    SessionSettings settings;
    settings.address = address;
    settings.retry_for = Backoff::Duration(10.0);
    return settings;
}

// Four atoms in Å, not periodic (zero cell, as ASE sends for molecules).
Eigen::Matrix3Xd molecule(double shift = 0.0) {
    Eigen::Matrix3Xd positions(3, 4);
    positions << 0.0, 1.1, -0.3, 0.4,  //
        0.0, 0.2, 1.0, -0.8,           //
        0.0, -0.1, 0.5, 0.9;
    positions.row(0).array() += shift;
    positions(1, 2) += shift * shift;
    return positions;
}

PosDataMessage posdata(const std::vector<Eigen::Matrix3Xd>& structures, const Eigen::Matrix3d& cell) {
    PosDataMessage message;
    message.atoms = static_cast<std::int32_t>(structures.front().cols());
    for (const auto& positions : structures) {
        chorus::protocol::WireStructure structure;
        structure.cell = cell_to_wire(cell);
        structure.positions = positions_to_wire(positions);
        message.structures.push_back(std::move(structure));
    }
    return message;
}

// The answer must be the model's own result, converted to atomic units.
void check_answer(const chorus::protocol::ForceResult& answer, const chorus::engine::Model& model,
                  const Eigen::Matrix3Xd& positions, std::int32_t bead, bool full_extras = true,
                  const Eigen::Matrix3d& cell = Eigen::Matrix3d::Zero()) {
    System system(std::vector<int>(static_cast<std::size_t>(positions.cols()), 0), positions, cell,
                  !cell.isZero(0.0));
    CommitteeResult direct;
    chorus::engine::ComputeRequest request;
    request.member_forces = request.member_virials = true;
    model.evaluate(system, request, direct);

    CHECK(energy_from_wire(answer.energy) == Approx(direct.energy).epsilon(1e-13));
    REQUIRE(answer.forces.size() == static_cast<std::size_t>(3 * positions.cols()));
    CHECK((forces_from_wire(answer.forces) - direct.forces).norm() < 1e-12 * (1.0 + direct.forces.norm()));
    CHECK((virial_from_wire(answer.virial) - direct.virial).norm() < 1e-12 * (1.0 + direct.virial.norm()));

    if (!full_extras) {
        CHECK(answer.extras.empty());
        return;
    }
    const auto extras = nlohmann::json::parse(answer.extras);
    CHECK(extras["chorus_bead"].get<int>() == bead);
    CHECK(extras["chorus_alpha"].get<double>() == model.calibration_alpha());
    REQUIRE(extras["committee_pot"].size() == model.committee_size());
    REQUIRE(extras["committee_force"].size() == model.committee_size());
    for (std::size_t k = 0; k < model.committee_size(); ++k) {
        CHECK(energy_from_wire(extras["committee_pot"][k].get<double>()) ==
              Approx(direct.member_energies[static_cast<Eigen::Index>(k)]).epsilon(1e-13));
        const auto member_forces = forces_from_wire(extras["committee_force"][k].get<std::vector<double>>());
        CHECK((member_forces - direct.member_forces[k]).norm() <
              1e-12 * (1.0 + direct.member_forces[k].norm()));
    }
    CHECK(energy_from_wire(extras["committee_uncertainty"].get<double>()) ==
          Approx(direct.energy_spread()).epsilon(1e-12));
}

}  // namespace

TEST_CASE("a session answers i-PI 3's back-to-back POSDATA+GETFORCE and ends on EXIT", "[server][session]") {
    const ToyCommittee model({1.0, 1.5, 2.5}, 2.0);
    auto server = IpiTestServer::listen_unix(socket_path());
    auto settings = settings_for(server->address());
    settings.evaluate_inline = GENERATE(false, true);
    RunningSession session(settings, model);

    server->accept();
    CHECK(server->status() == Header::need_init);
    server->send_init(3, "");
    CHECK(server->status() == Header::ready);
    for (int step = 0; step < 3; ++step) {
        const auto positions = molecule(0.1 * step);
        const auto answer = server->compute(posdata({positions}, Eigen::Matrix3d::Zero()));
        CHECK(answer.atoms == 4);
        REQUIRE(answer.results.size() == 1);
        check_answer(answer.results[0], model, positions, 3);
        CHECK(server->status() == Header::ready);
    }

    // The analytic energy of the mean member: ½ c̄ Σ_{i<j} |r_ij|², through the whole pipeline.
    const auto positions = molecule();
    double unit_energy = 0.0;
    for (int i = 0; i < 4; ++i) {
        for (int j = i + 1; j < 4; ++j) {
            unit_energy += 0.5 * (positions.col(j) - positions.col(i)).squaredNorm();
        }
    }
    const auto answer = server->compute(posdata({positions}, Eigen::Matrix3d::Zero()));
    CHECK(answer.results[0].energy ==
          Approx(chorus::units::ev_to_hartree((1.0 + 1.5 + 2.5) / 3.0 * unit_energy)).epsilon(1e-13));

    server->send_exit();
    CHECK(session.outcome() == SessionOutcome::exited);
    CHECK(server->client_closed());
}

TEST_CASE("a session answers ASE's order, with STATUS between POSDATA and GETFORCE", "[server][session]") {
    const ToyCommittee model({1.0, 3.0});
    auto server = IpiTestServer::listen_unix(socket_path());
    auto settings = settings_for(server->address());
    settings.evaluation.extras = ExtrasMode::none;
    settings.evaluate_inline = GENERATE(false, true);
    RunningSession session(settings, model);

    server->accept();
    CHECK(server->status() == Header::need_init);
    server->send_init(0, "");
    CHECK(server->status() == Header::ready);
    const auto positions = molecule(0.3);
    server->send_posdata(posdata({positions}, Eigen::Matrix3d::Zero()));
    CHECK(server->status() == Header::have_data);
    server->send_getforce();
    const auto reply = server->receive();
    const auto* answer = std::get_if<chorus::protocol::ForceReadyMessage>(&reply);
    REQUIRE(answer != nullptr);
    check_answer(answer->results[0], model, positions, 0, false);
    CHECK(server->status() == Header::ready);
    server->send_exit();
    CHECK(session.outcome() == SessionOutcome::exited);
}

TEST_CASE("batched requests get one answer per structure", "[server][session]") {
    const ToyCommittee model({0.5, 1.0, 2.0, 4.0});
    auto server = IpiTestServer::listen_unix(socket_path());
    RunningSession session(settings_for(server->address()), model);

    server->accept();
    server->status();
    server->send_init(5, "batch_size:3");
    const std::vector<Eigen::Matrix3Xd> structures = {molecule(0.0), molecule(0.7), molecule(-1.2)};
    const auto answer = server->compute(posdata(structures, Eigen::Matrix3d::Zero()), true);
    REQUIRE(answer.results.size() == 3);
    for (std::size_t b = 0; b < 3; ++b) {
        check_answer(answer.results[b], model, structures[b], 5);
    }
    server->send_exit();
    CHECK(session.outcome() == SessionOutcome::exited);
}

TEST_CASE("--track-beads asks for INIT before every request", "[server][session]") {
    const ToyCommittee model({1.0, 2.0});
    auto server = IpiTestServer::listen_unix(socket_path());
    auto settings = settings_for(server->address());
    settings.track_beads = true;
    RunningSession session(settings, model);

    server->accept();
    for (const std::int32_t bead : {4, 1, 7}) {
        CHECK(server->status() == Header::need_init);
        server->send_init(bead, "");
        CHECK(server->status() == Header::ready);
        const auto positions = molecule(0.1 * bead);
        const auto answer = server->compute(posdata({positions}, Eigen::Matrix3d::Zero()));
        check_answer(answer.results[0], model, positions, bead);
    }
    CHECK(server->status() == Header::need_init);
    server->send_exit();
    CHECK(session.outcome() == SessionOutcome::exited);
}

TEST_CASE("after a protocol error the session closes that connection and reconnects", "[server][session]") {
    const ToyCommittee model({1.0, 2.0});
    auto server = IpiTestServer::listen_unix(socket_path());
    RunningSession session(settings_for(server->address()), model);

    server->accept();
    const std::string garbage = "NONSENSE    ";
    server->send_bytes(std::as_bytes(std::span(garbage.data(), garbage.size())));
    CHECK(server->client_closed());

    server->accept();  // the session comes back after its backoff
    CHECK(server->status() == Header::need_init);
    server->send_init(0, "");
    const auto positions = molecule();
    check_answer(server->compute(posdata({positions}, Eigen::Matrix3d::Zero())).results[0], model, positions,
                 0);
    server->send_exit();
    CHECK(session.outcome() == SessionOutcome::exited);
}

TEST_CASE("bad input (atoms not a multiple of --species) drops the connection only", "[server][session]") {
    const ToyCommittee model({1.0, 2.0}, 1.0, {1, 8});
    auto server = IpiTestServer::listen_unix(socket_path());
    auto settings = settings_for(server->address());
    settings.evaluation.species_pattern = {8, 1, 1};
    settings.evaluate_inline = GENERATE(false, true);  // the error comes out of arena.execute too
    RunningSession session(settings, model);

    server->accept();
    server->status();
    server->send_init(0, "");
    server->send_posdata(posdata({molecule()}, Eigen::Matrix3d::Zero()));  // 4 atoms, pattern of 3
    server->send_getforce();
    CHECK(server->client_closed());

    server->accept();
    server->status();
    server->send_init(0, "");
    Eigen::Matrix3Xd water(3, 3);
    water << 0.0, 0.96, -0.24, 0.0, 0.0, 0.93, 0.0, 0.0, 0.0;
    const auto answer = server->compute(posdata({water}, Eigen::Matrix3d::Zero()));
    REQUIRE(answer.results.size() == 1);
    server->send_exit();
    CHECK(session.outcome() == SessionOutcome::exited);
}

TEST_CASE("with --persist the session reconnects after EXIT until stopped", "[server][session]") {
    const ToyCommittee model({1.0, 2.0});
    auto server = IpiTestServer::listen_unix(socket_path());
    auto settings = settings_for(server->address());
    settings.persist = true;
    RunningSession session(settings, model);

    for (int run = 0; run < 2; ++run) {
        server->accept();
        CHECK(server->status() == Header::need_init);
        server->send_exit();
        CHECK(server->client_closed());
    }
    server->accept();
    session.stop();
    CHECK(session.outcome() == SessionOutcome::stopped);
    CHECK(server->client_closed());
}

TEST_CASE("a session gives up after --retry-for when nobody listens", "[server][session]") {
    const ToyCommittee model({1.0});
    Address nowhere;
    nowhere.transport = Transport::unix_socket;
    nowhere.path = socket_path();
    auto settings = settings_for(nowhere);
    settings.retry_for = Backoff::Duration(0.3);
    RunningSession session(settings, model);
    CHECK(session.outcome() == SessionOutcome::gave_up);
}

TEST_CASE("a session stopped while waiting to connect ends at once", "[server][session]") {
    const ToyCommittee model({1.0});
    Address nowhere;
    nowhere.transport = Transport::unix_socket;
    nowhere.path = socket_path();
    auto settings = settings_for(nowhere);
    settings.retry_for.reset();  // forever
    RunningSession session(settings, model);
    session.stop();
    CHECK(session.outcome() == SessionOutcome::stopped);
}

TEST_CASE("a session works over TCP, periodic cell included", "[server][session]") {
    const ToyCommittee model({1.0, 2.0, 3.0});
    auto server = IpiTestServer::listen_tcp_loopback();
    RunningSession session(settings_for(server->address()), model);

    server->accept();
    server->status();
    server->send_init(2, "");
    const auto positions = molecule(0.2);
    // The toy model ignores the cell, so the answer must equal the non-periodic one.
    const auto answer = server->compute(posdata({positions}, Eigen::Matrix3d::Identity() * 15.0));
    check_answer(answer.results[0], model, positions, 2);
    server->send_exit();
    CHECK(session.outcome() == SessionOutcome::exited);
}

TEST_CASE("a Lennard-Jones argon committee through a session matches the model evaluated directly",
          "[server][session]") {
    const chorus::models::LennardJonesCommittee model({{0.0104, 3.40}, {0.0100, 3.42}, {0.0108, 3.38}}, 8.5,
                                                      1.5);
    auto server = IpiTestServer::listen_unix(socket_path());
    RunningSession session(settings_for(server->address()), model);

    server->accept();
    server->status();
    server->send_init(1, "");
    for (const std::uint32_t seed : {1u, 2u}) {
        const ArgonBox box = make_argon_box(108, 0.2, seed);
        const auto answer = server->compute(posdata({box.positions}, box.cell));
        REQUIRE(answer.results.size() == 1);
        check_answer(answer.results[0], model, box.positions, 1, true, box.cell);
        // A liquid-like configuration: bound, with non-zero forces.
        CHECK(answer.results[0].energy < 0.0);
        CHECK(std::abs(answer.results[0].forces[0]) > 0.0);
    }
    server->send_exit();
    CHECK(session.outcome() == SessionOutcome::exited);
}

TEST_CASE("evaluations use every thread of the arena, inline on the I/O thread or handed off",
          "[server][session]") {
    const bool evaluate_inline = GENERATE(false, true);
    CAPTURE(evaluate_inline);
    const ToyCommittee toy({1.0, 2.0});
    const ThreadRecordingModel model(toy, 2);
    auto server = IpiTestServer::listen_unix(socket_path());
    auto settings = settings_for(server->address());
    settings.evaluate_inline = evaluate_inline;
    RunningSession session(settings, model, 2);

    server->accept();
    server->status();
    server->send_init(0, "");
    const auto positions = molecule(0.4);
    const auto answer = server->compute(posdata({positions}, Eigen::Matrix3d::Zero()));
    REQUIRE(answer.results.size() == 1);
    check_answer(answer.results[0], toy, positions, 0);
    server->send_exit();
    CHECK(session.outcome() == SessionOutcome::exited);

    // Both slots of a two-thread arena worked (TBB's default layout gave handed-off work one), and
    // the I/O thread was one of them exactly when it evaluates inline.
    const auto threads = model.threads();
    CHECK(threads.size() == 2);
    CHECK(threads.contains(session.io_thread()) == evaluate_inline);
}
