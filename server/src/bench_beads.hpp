#pragma once
// Many beads through one `chorus serve` (issue 8): the in-process i-PI stand-in drives P beads of one
// structure as i-PI does, either over P connections (one bead each: every connection gets its
// POSDATA, then every answer is collected) or over one connection in batched mode (INIT with
// batch_size:P, one POSDATA of P structures). Also the serve session every benchmark round trip
// runs against, started on its own thread.
#include <memory>
#include <thread>
#include <vector>

#include <Eigen/Core>

#include "address.hpp"
#include "bench_structure.hpp"
#include "bench_timing.hpp"
#include "chorus/engine/model.hpp"
#include "chorus/protocol/messages.hpp"
#include "ipi_test_server.hpp"
#include "settings.hpp"

namespace chorus::server {

// A UNIX socket path for a stand-in that no other benchmark or test of this process uses.
std::string bench_socket_path();

// `chorus serve` on its own thread with the settings a benchmark needs: the structure's species
// (the wire carries none) and periodicity, one connection per address, warnings only.
class BenchServeThread {
public:
    BenchServeThread(const engine::Model& model, const BenchStructure& structure,
                     std::vector<Address> addresses, ExtrasMode extras, int threads);
    BenchServeThread(const BenchServeThread&) = delete;
    BenchServeThread& operator=(const BenchServeThread&) = delete;
    ~BenchServeThread();  // joins (serve gives up within seconds once the stand-ins are gone)

    // Waits for serve to end (send EXIT on every connection first); throws Error unless it exited 0.
    void join();

private:
    ServeSettings settings_;
    int exit_code_ = -1;
    std::thread thread_;
};

class BeadDriver {
public:
    enum class Mode {
        connections,  // one connection per bead
        batched,      // one connection, INIT batch_size:beads
    };

    // Starts serve for `model` and connects it to the stand-in(s); INIT gives each connection its
    // bead index (0 for the batch).
    BeadDriver(const engine::Model& model, const BenchStructure& structure, int beads, Mode mode,
               ExtrasMode extras, int threads);
    BeadDriver(const BeadDriver&) = delete;
    BeadDriver& operator=(const BeadDriver&) = delete;
    ~BeadDriver();  // finish(), errors swallowed

    // EXIT to every connection, then waits for serve; throws Error unless serve exited 0.
    void finish();

    int beads() const { return beads_; }

    // One MD step: a STATUS probe on every connection (answered READY), every bead's positions (Å,
    // as BenchStructure) sent, every answer received. Returns the answers in bead order. Throws
    // ProtocolError when serve answers out of turn.
    std::vector<protocol::ForceResult> step(const std::vector<Eigen::Matrix3Xd>& positions);

private:
    int beads_;
    Mode mode_;
    BenchStructure structure_;
    // Declared first so destroyed last: the stand-ins close before serve is joined (a constructor
    // that throws half-way must not wait for a serve session that still has its connections).
    std::unique_ptr<BenchServeThread> serve_;
    std::vector<std::unique_ptr<IpiTestServer>> servers_;
    bool finished_ = false;
};

// Structures per second through `driver`, as time per structure: each timed step (after `warm_up`
// untimed ones) is one entry, its wall and process CPU time divided by the beads. Step s gives bead
// b frames[(s · beads + b) mod frames.size()].
Timings time_bead_steps(BeadDriver& driver, const std::vector<Eigen::Matrix3Xd>& frames, int steps,
                        std::string name, int warm_up = 3);

}  // namespace chorus::server
