#include "committee_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "chorus/engine/committee_result.hpp"
#include "chorus/error.hpp"
#include "chorus/models/sha256.hpp"

#ifndef CHORUS_VERSION
#define CHORUS_VERSION "unknown"
#endif

namespace chorus::server {
namespace {

// While writes keep failing, one error line per this interval (with the count since the last).
constexpr std::chrono::seconds failure_report_interval{30};

// Connection labels are one column: no whitespace inside.
std::string without_spaces(std::string text) {
    for (char& c : text) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            c = '_';
        }
    }
    return text;
}

// The file may end inside a line when a previous run was killed mid-write: the new header must
// start on a line of its own. (Read separately: the log itself is opened write-only.)
bool ends_without_newline(const std::string& path) {
    std::ifstream file(path, std::ios::binary | std::ios::ate);
    if (!file || file.tellg() <= 0) {
        return false;
    }
    file.seekg(-1, std::ios::end);
    char last = '\n';
    return file.get(last) && last != '\n';
}

}  // namespace

std::string format_utc_time(std::chrono::system_clock::time_point time) {
    const auto since_epoch = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch());
    const std::time_t seconds = static_cast<std::time_t>(since_epoch.count() / 1000);
    const auto milliseconds = static_cast<int>(since_epoch.count() % 1000);
    std::tm utc{};
    ::gmtime_r(&seconds, &utc);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900, utc.tm_mon + 1,
                       utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, milliseconds);
}

std::string format_committee_log_header(const CommitteeLogHeader& header,
                                        std::chrono::system_clock::time_point start) {
    std::string text = fmt::format("# chorus-committee-log {}\n", committee_log_format_version);
    text += header.dipole_members > 0 ? "# units: energies eV, dipoles e*angstrom, time ISO-8601 UTC\n"
                                      : "# units: energies eV, time ISO-8601 UTC\n";
    text += fmt::format("# model: {}\n", header.model_description);
    text += fmt::format("# members: {}\n", header.members);
    if (header.dipole_members > 0) {
        text += fmt::format("# dipole_members: {}\n", header.dipole_members);
    }
    if (header.temperature_kelvin) {
        text += fmt::format("# temperature_K: {}\n", *header.temperature_kelvin);
    }
    text += fmt::format("# started: {}\n", format_utc_time(start));
    text += fmt::format("# chorus: {}\n", CHORUS_VERSION);
    text += "# columns: time connection bead counter atoms energy_mean";
    for (std::size_t k = 1; k <= header.members; ++k) {
        text += fmt::format(" energy_{}", k);
    }
    text += " sigma_energy max_atomic_sigma";
    if (header.dipole_members > 0) {
        text += " dipole_mean_x dipole_mean_y dipole_mean_z";
        for (std::size_t k = 1; k <= header.dipole_members; ++k) {
            text += fmt::format(" dipole_{0}_x dipole_{0}_y dipole_{0}_z", k);
        }
    }
    text += "\n";
    return text;
}

std::string format_committee_log_record(const CommitteeLogRecord& record, std::uint64_t counter) {
    std::string line =
        fmt::format("{} {} {} {} {} {}", format_utc_time(record.time), without_spaces(record.connection),
                    record.bead, counter, record.atoms, record.energy);
    auto out = std::back_inserter(line);
    for (const double energy : record.member_energies) {
        fmt::format_to(out, " {}", energy);
    }
    fmt::format_to(out, " {} {}", engine::member_spread(record.member_energies), record.max_atomic_sigma);
    for (const double component : record.dipoles) {
        fmt::format_to(out, " {}", component);
    }
    line += '\n';
    return line;
}

std::string format_committee_log_reload(std::chrono::system_clock::time_point time,
                                        const std::string& model) {
    // One line whatever the description holds.
    std::string text = model;
    for (char& c : text) {
        if (c == '\n' || c == '\r') {
            c = ' ';
        }
    }
    return fmt::format("# reload: {} model {}\n", format_utc_time(time), text);
}

std::string reload_identity(const std::string& model_path, const std::string& description) {
    if (model_path.empty()) {
        return description;
    }
    try {
        return fmt::format("sha256 {} {}", models::sha256_file_hex(model_path), description);
    } catch (const Error&) {
        return description;  // the marker matters more than the hash
    }
}

CommitteeLog::CommitteeLog(std::string path, const CommitteeLogHeader& header, Options options)
    : path_(std::move(path)), options_(options) {
    descriptor_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (descriptor_ < 0) {
        throw IoError(
            fmt::format("cannot open the committee log '{}' for appending: {}; check that its directory "
                        "exists and is writable",
                        path_, std::strerror(errno)));
    }
    std::string text = format_committee_log_header(header, std::chrono::system_clock::now());
    if (ends_without_newline(path_)) {
        text.insert(0, "\n");
    }
    write_text(text);
    writer_ = std::thread([this] { run_writer(); });
}

CommitteeLog::~CommitteeLog() { close(); }

void CommitteeLog::record(CommitteeLogRecord&& record) {
    std::lock_guard lock(mutex_);
    if (stopping_ || pending_.size() >= options_.queue_capacity) {
        ++statistics_.dropped_queue_full;
        return;
    }
    pending_.push_back({std::move(record), next_counter_++, {}});
}

void CommitteeLog::note_reload(const std::string& model) {
    std::string line = format_committee_log_reload(std::chrono::system_clock::now(), model);
    std::lock_guard lock(mutex_);
    if (stopping_) {
        return;
    }
    // Not bounded by the queue's capacity: reloads are rare and the marker matters for reading.
    pending_.push_back({CommitteeLogRecord{}, 0, std::move(line)});
}

void CommitteeLog::close() {
    {
        std::lock_guard lock(mutex_);
        if (stopping_) {
            return;
        }
        stopping_ = true;
    }
    wake_.notify_one();
    writer_.join();
    ::close(descriptor_);
    descriptor_ = -1;
    const Statistics totals = statistics();
    const std::uint64_t dropped = totals.dropped_queue_full + totals.dropped_write_failed;
    if (dropped > 0) {
        spdlog::error(
            "committee log '{}': {} record{} written, {} dropped ({} because the queue was full, {} because "
            "writes failed)",
            path_, totals.written, totals.written == 1 ? "" : "s", dropped, totals.dropped_queue_full,
            totals.dropped_write_failed);
    } else {
        spdlog::info("committee log '{}': {} record{} written", path_, totals.written,
                     totals.written == 1 ? "" : "s");
    }
}

CommitteeLog::Statistics CommitteeLog::statistics() const {
    std::lock_guard lock(mutex_);
    return statistics_;
}

void CommitteeLog::run_writer() {
    std::vector<Queued> batch;
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait_for(lock, options_.flush_interval, [this] { return stopping_; });
        batch.swap(pending_);
        const bool last = stopping_;
        lock.unlock();
        if (!batch.empty()) {
            write_batch(batch);
            batch.clear();
        }
        lock.lock();
        if (last && pending_.empty()) {
            return;
        }
    }
}

void CommitteeLog::write_batch(const std::vector<Queued>& batch) {
    std::string text;
    std::size_t records = 0;
    for (const Queued& queued : batch) {
        if (!queued.comment.empty()) {
            text += queued.comment;
            continue;
        }
        text += format_committee_log_record(queued.record, queued.counter);
        ++records;
    }
    const bool written = write_text(text);
    std::lock_guard lock(mutex_);
    (written ? statistics_.written : statistics_.dropped_write_failed) += records;
}

bool CommitteeLog::write_text(const std::string& text) {
    // After a write that stopped inside a line, the next text starts on a fresh line, so only the
    // cut record is lost, not the one glued to it.
    const std::string& complete = mid_line_ ? "\n" + text : text;
    std::size_t done = 0;
    while (done < complete.size()) {
        const ssize_t count = ::write(descriptor_, complete.data() + done, complete.size() - done);
        if (count < 0) {
            if (errno == EINTR) {
                continue;
            }
            mid_line_ = mid_line_ || (done > 0 && complete[done - 1] != '\n');
            report_failure(errno);
            return false;
        }
        done += static_cast<std::size_t>(count);
    }
    mid_line_ = false;
    if (failing_) {
        failing_ = false;
        spdlog::info("committee log '{}': writing again", path_);
    }
    return true;
}

void CommitteeLog::report_failure(int error_number) {
    const auto now = std::chrono::steady_clock::now();
    ++failures_since_report_;
    failing_ = true;
    if (last_failure_report_ && now - *last_failure_report_ < failure_report_interval) {
        return;
    }
    spdlog::error(
        "committee log '{}': write failed ({}); forces are still answered, but records are dropped until "
        "writing works again ({} failed write{} since the last report; free disk space or check the path)",
        path_, std::strerror(error_number), failures_since_report_, failures_since_report_ == 1 ? "" : "s");
    last_failure_report_ = now;
    failures_since_report_ = 0;
}

}  // namespace chorus::server
