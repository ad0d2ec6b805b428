#pragma once
// `chorus serve --committee-log FILE`: one text line per evaluated structure with every member's
// energy, for offline reweighting (`chorus reweight --committee-log`) and for looking at the
// committee's uncertainty along a run.
//
// The file is append-only: each start appends a header block (lines starting with '#') and then
// records; nothing is ever rewritten. Records are handed over through a bounded in-memory queue to
// one writer thread, so a slow or full disk never delays a force answer: when the queue is full or
// a write fails, records are dropped and counted (one rate-limited error line while it lasts, the
// count at close). The writer flushes every `flush_interval` (well under a second), so a killed
// process loses at most that much.
//
// Format version 1, space-separated, one record per line:
//   time connection bead counter atoms energy_mean energy_1 … energy_M sigma_energy max_atomic_sigma
// time: ISO-8601 UTC with milliseconds; connection: address#index (no spaces); bead: the i-PI
// replica index, −1 when beads are not tracked; counter: 0, 1, … within one header block (one
// process run), in file order; energies in eV, shortest round-trip decimal form; sigma_energy:
// the member spread with ddof 1; max_atomic_sigma: the largest per-atom member spread (ddof 1),
// `nan` when the model has no per-atom energies.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace chorus::server {

inline constexpr int committee_log_format_version = 1;

struct CommitteeLogHeader {
    std::string model_description;
    std::size_t members = 0;
    std::optional<double> temperature_kelvin;  // --temperature, when given
};

struct CommitteeLogRecord {
    std::chrono::system_clock::time_point time;
    std::string connection;  // address#index
    std::int32_t bead = -1;
    std::size_t atoms = 0;
    double energy = 0.0;                  // committee mean, eV (what was sent to the peer)
    std::vector<double> member_energies;  // eV
    double max_atomic_sigma = 0.0;        // eV; NaN when unknown
};

// The header block and one record line, exactly as written (each ends with '\n').
std::string format_committee_log_header(const CommitteeLogHeader& header,
                                        std::chrono::system_clock::time_point start);
std::string format_committee_log_record(const CommitteeLogRecord& record, std::uint64_t counter);
// "2024-05-01T12:00:00.123Z"
std::string format_utc_time(std::chrono::system_clock::time_point time);

class CommitteeLog {
public:
    struct Options {
        std::size_t queue_capacity = 1 << 16;  // records waiting for the writer; more are dropped
        std::chrono::milliseconds flush_interval{250};
    };

    struct Statistics {
        std::uint64_t written = 0;
        std::uint64_t dropped_queue_full = 0;
        std::uint64_t dropped_write_failed = 0;
    };

    // Opens `path` for appending (creating it) and writes the header block. Throws IoError when
    // the file cannot be opened; a failing header write is reported like any failing write.
    CommitteeLog(std::string path, const CommitteeLogHeader& header, Options options);
    CommitteeLog(std::string path, const CommitteeLogHeader& header)
        : CommitteeLog(std::move(path), header, Options{}) {}
    ~CommitteeLog();

    CommitteeLog(const CommitteeLog&) = delete;
    CommitteeLog& operator=(const CommitteeLog&) = delete;

    // Queues one record; never waits for I/O (the lock guards a vector swap). Thread safe.
    void record(CommitteeLogRecord&& record);

    // Writes everything queued, stops the writer and closes the file; logs the dropped count.
    // Idempotent; records arriving afterwards are dropped.
    void close();

    Statistics statistics() const;
    const std::string& path() const { return path_; }

private:
    struct Queued {
        CommitteeLogRecord record;
        std::uint64_t counter;
    };

    void run_writer();
    void write_batch(const std::vector<Queued>& batch);
    // false after a failed write (reported, rate limited)
    bool write_text(const std::string& text);
    void report_failure(int error_number);

    std::string path_;
    Options options_;
    int descriptor_ = -1;

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::vector<Queued> pending_;
    std::uint64_t next_counter_ = 0;
    bool stopping_ = false;
    Statistics statistics_;

    // writer thread only
    bool failing_ = false;
    bool mid_line_ = false;  // a failed write left a partial line in the file
    std::optional<std::chrono::steady_clock::time_point> last_failure_report_;
    std::uint64_t failures_since_report_ = 0;
    std::thread writer_;
};

}  // namespace chorus::server
