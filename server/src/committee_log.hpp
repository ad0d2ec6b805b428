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
//
// With `chorus serve --dipole-model` (header key `# dipole_members: M_d`, and the units line names
// the dipoles), every record ends with the dipole committee in e·Å:
//   … max_atomic_sigma dipole_mean_x dipole_mean_y dipole_mean_z dipole_1_x dipole_1_y dipole_1_z …
//     dipole_{M_d}_z
// the committee mean, then every member (calibrated). Without a dipole model nothing of this is
// written: such logs are the same bytes as before dipoles existed.
//
// A control-API `reload` that swapped the model adds one comment line between records:
//   # reload: <time> model <what identifies the new model>
// Readers skip it like any comment; `chorus reweight` warns that the model changed mid-log.
#include <array>
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
    std::size_t dipole_members = 0;            // --dipole-model: its committee size; 0 without one
};

// The scalars of a dipole that the committee log offers as observables: μ_x, μ_y, μ_z (e·Å) and
// |μ|² ((e·Å)²). One function, so that the live store and the log's reader compute the same
// doubles from the same dipole.
inline constexpr std::size_t dipole_scalar_count = 4;
inline std::array<double, dipole_scalar_count> dipole_scalars(double x, double y, double z) {
    return {x, y, z, x * x + y * y + z * z};
}
inline constexpr std::array<const char*, dipole_scalar_count> dipole_scalar_names = {"mu_x", "mu_y", "mu_z",
                                                                                     "mu2"};

struct CommitteeLogRecord {
    std::chrono::system_clock::time_point time;
    std::string connection;  // address#index
    std::int32_t bead = -1;
    std::size_t atoms = 0;
    double energy = 0.0;                  // committee mean, eV (what was sent to the peer)
    std::vector<double> member_energies;  // eV
    double max_atomic_sigma = 0.0;        // eV; NaN when unknown
    // With a dipole model: 3·(1 + M_d) numbers in e·Å, the committee mean (x, y, z), then member
    // 1's, 2's, …; empty without one.
    std::vector<double> dipoles;
};

// The header block and one record line, exactly as written (each ends with '\n').
std::string format_committee_log_header(const CommitteeLogHeader& header,
                                        std::chrono::system_clock::time_point start);
std::string format_committee_log_record(const CommitteeLogRecord& record, std::uint64_t counter);
// "# reload: <time> model <model>\n"
std::string format_committee_log_reload(std::chrono::system_clock::time_point time, const std::string& model);
// What identifies a reloaded model in that line: "sha256 <hex of the file> <description>", or the
// description alone when there is no file to hash (or it cannot be read any more).
std::string reload_identity(const std::string& model_path, const std::string& description);
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

    // Queues the `# reload:` comment line, in order with the records. Thread safe.
    void note_reload(const std::string& model);

    // Writes everything queued, stops the writer and closes the file; logs the dropped count.
    // Idempotent; records arriving afterwards are dropped.
    void close();

    Statistics statistics() const;
    const std::string& path() const { return path_; }

private:
    struct Queued {
        CommitteeLogRecord record;
        std::uint64_t counter;
        std::string comment;  // non-empty: a comment line written instead of the record
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
