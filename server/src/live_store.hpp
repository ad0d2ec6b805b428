#pragma once
// What the control API (`chorus serve --control`) reports about a running daemon, collected on the
// evaluation path and read by the control server's thread.
//
// The evaluation path must never wait for a query: every update takes the one mutex for O(1) work
// (a ring-buffer slot, a histogram bucket, an append to a preallocated chunk) and the readers copy
// O(1)-sized state under it (ring buffers, chunk pointers) and do everything else outside. The
// committee-log hook goes through record() so that the live series and the log hold the records in
// the same order: `chorus reweight` on the log then sees exactly the frames of the live `reweight`.
#include <array>
#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "committee_log.hpp"

namespace chorus::server {

// What an evaluation adds to its committee-log record for live queries.
struct LiveEvaluation {
    double volume = 0.0;  // Å³; NaN when the structure is not periodic
    double max_force_sigma =
        0.0;  // eV/Å, largest per-component member spread (ddof 1); NaN without member forces
    double sigma_energy = 0.0;  // eV, ddof 1
    double evaluation_seconds = 0.0;
    // --dipole-model: dipole_scalars() of the committee-mean dipole (μ_x, μ_y, μ_z in e·Å, |μ|² in
    // (e·Å)²); NaN without a dipole model. Fixed size: the store keeps O(1) per evaluation.
    std::array<double, dipole_scalar_count> dipole_scalars = nan_dipole_scalars();

    static constexpr std::array<double, dipole_scalar_count> nan_dipole_scalars() {
        return {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN(),
                std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN()};
    }
};

// One evaluation as `uncertainty` reports it.
struct UncertaintyEntry {
    std::chrono::system_clock::time_point time;
    std::uint32_t connection = 0;  // index into LiveSnapshot::connections
    std::int32_t bead = -1;
    std::size_t atoms = 0;
    double energy = 0.0;            // eV, committee mean
    double sigma_energy = 0.0;      // eV
    double max_atomic_sigma = 0.0;  // eV, NaN when unknown
    double max_force_sigma = 0.0;   // eV/Å, NaN when unknown
    double volume = 0.0;            // Å³, NaN when not periodic
};

// Cumulative latency histogram (Prometheus style: counts of samples <= each bound, then +Inf).
inline constexpr std::array<double, 14> latency_bucket_bounds = {
    1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 1e-1, 1.0, 10.0};

struct LatencyHistogram {
    std::array<std::uint64_t, latency_bucket_bounds.size() + 1> counts{};  // per bucket, not cumulative
    std::uint64_t count = 0;
    double sum_seconds = 0.0;
};

struct LatencyPercentiles {
    std::size_t samples = 0;  // of the recent window the percentiles come from
    double p50 = 0.0;         // seconds
    double p90 = 0.0;
    double p99 = 0.0;
};

struct ConnectionState {
    std::string label;    // "address#index"
    std::string address;  // the i-PI address: connections to one address form a group
    bool connected = false;
    std::int32_t last_bead = -1;
    std::vector<std::int32_t> beads;  // distinct bead ids served, sorted (at most 64 kept)
    std::uint64_t structures = 0;
    std::uint64_t round_trips = 0;
};

struct LiveSnapshot {
    std::chrono::steady_clock::duration uptime{};
    std::vector<ConnectionState> connections;
    std::uint64_t structures = 0;   // evaluated
    std::uint64_t round_trips = 0;  // answers sent
    LatencyHistogram evaluation_histogram;
    LatencyHistogram round_trip_histogram;
    LatencyPercentiles evaluation;
    LatencyPercentiles round_trip;
    std::vector<UncertaintyEntry> recent;  // oldest first, at most the `last` asked for
};

// Every record kept for `reweight`, copied out of the store.
struct ReweightInput {
    std::size_t members = 0;
    // records × (members + 2 [+ 4]): member energies (eV), then volume (Å³, NaN if not periodic)
    // and σ_E (eV), then, when `dipole`, the mean dipole's μ_x, μ_y, μ_z (e·Å) and |μ|² ((e·Å)²)
    Eigen::MatrixXd values;
    bool dipole = false;
    std::vector<std::int32_t> beads;
    std::vector<std::uint32_t> groups;     // index into `group_names`
    std::vector<std::string> group_names;  // i-PI addresses
    bool truncated = false;                // the store was full: later records are not included
};

class LiveStore {
public:
    struct Options {
        std::size_t recent_capacity = 1024;       // uncertainty entries kept
        std::size_t latency_window = 4096;        // samples behind the percentiles
        std::size_t series_capacity = 4'194'304;  // records kept for reweight (then: truncated)
        std::size_t series_chunk = 4096;          // records per preallocated chunk
        bool dipole = false;  // --dipole-model: the series keeps the mean dipole's scalars too
    };

    LiveStore(std::size_t members, Options options);
    explicit LiveStore(std::size_t members) : LiveStore(members, Options{}) {}

    LiveStore(const LiveStore&) = delete;
    LiveStore& operator=(const LiveStore&) = delete;
    ~LiveStore();

    // Before the sessions start (not thread safe against concurrent records): one slot per
    // connection; returns its index.
    std::uint32_t add_connection(std::string label, std::string address);

    void set_connected(std::uint32_t connection, bool connected);
    void add_round_trip(std::uint32_t connection, double seconds);

    // One evaluated structure. `forward`, when set, gets the record under the same lock, so that
    // the committee log and the live series have the same order. Thread safe; never does I/O.
    void record(CommitteeLogRecord&& record, const LiveEvaluation& live, std::uint32_t connection,
                CommitteeLog* forward);

    std::size_t members() const { return members_; }
    LiveSnapshot snapshot(std::size_t last) const;
    ReweightInput reweight_input() const;

private:
    struct Chunk {
        std::vector<double> values;  // series_chunk × series_width(), row-major
        std::vector<std::int32_t> beads;
        std::vector<std::uint32_t> groups;
    };

    void append_locked(const CommitteeLogRecord& record, const LiveEvaluation& live,
                       const UncertaintyEntry& entry, std::uint32_t connection);
    void add_latency(LatencyHistogram& histogram, std::vector<double>& window, std::size_t& next,
                     double seconds);

    std::size_t series_width() const { return members_ + 2 + (options_.dipole ? dipole_scalar_count : 0); }

    const std::size_t members_;
    const Options options_;
    const std::chrono::steady_clock::time_point start_;

    mutable std::mutex mutex_;
    std::vector<ConnectionState> connections_;
    std::vector<std::uint32_t> connection_group_;
    std::vector<std::string> group_names_;
    std::uint64_t structures_ = 0;
    std::uint64_t round_trips_ = 0;
    std::vector<UncertaintyEntry> recent_;  // ring
    std::size_t recent_next_ = 0;
    LatencyHistogram evaluation_histogram_;
    LatencyHistogram round_trip_histogram_;
    std::vector<double> evaluation_window_;  // ring
    std::size_t evaluation_next_ = 0;
    std::vector<double> round_trip_window_;  // ring
    std::size_t round_trip_next_ = 0;
    std::vector<std::unique_ptr<Chunk>> chunks_;
    std::size_t series_count_ = 0;
    bool series_truncated_ = false;
};

// Percentiles (nearest rank) of `samples`; zeros when empty.
LatencyPercentiles latency_percentiles(std::vector<double> samples);

}  // namespace chorus::server
