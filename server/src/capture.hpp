#pragma once
// Active learning from a running simulation: the control API's `capture` request makes the daemon
// write every structure whose uncertainty exceeds a threshold, with the committee's predictions and
// spreads, as one extxyz file each into `serve --capture-dir` (the request never names a path).
//
// The evaluation path asks wants() (one atomic load when capturing is off; a mutex held for O(1)
// when on) and hands the frame to submit(); a writer thread does the file I/O. At most
// `per_minute` structures are accepted in any 60 s window; a full queue drops and counts.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "chorus/models/extxyz.hpp"
#include "control_request.hpp"

namespace chorus::server {

struct CaptureStatus {
    bool enabled = false;
    double threshold = 0.0;
    CaptureQuantity quantity = CaptureQuantity::sigma_energy_per_atom;
    int per_minute = 0;
    std::uint64_t written = 0;
    std::uint64_t over_threshold = 0;  // structures that exceeded the threshold (written or not)
    std::uint64_t rate_limited = 0;    // exceeded, but the per-minute budget was spent
    std::uint64_t dropped = 0;         // queue full or write failed
    std::string directory;
};

class Capture {
public:
    // Creates nothing yet; files go into `directory`, which must exist (ConfigError otherwise).
    explicit Capture(std::filesystem::path directory);
    ~Capture();
    Capture(const Capture&) = delete;
    Capture& operator=(const Capture&) = delete;

    void configure(const CaptureRequest& request);

    // Fast check for the evaluation path: off → false without locking.
    bool enabled() const { return enabled_.load(std::memory_order_relaxed); }
    CaptureQuantity quantity() const;
    // True when `value` exceeds the threshold and the rate allows one more now (which it then
    // counts as taken).
    bool wants(double value, std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());
    // Queues a frame for writing (never blocks on I/O).
    void submit(models::Frame&& frame);

    CaptureStatus status() const;
    // Writes what is queued and stops the writer. Idempotent.
    void close();

private:
    void run_writer();
    void write(const models::Frame& frame, std::uint64_t number);

    std::filesystem::path directory_;
    std::atomic<bool> enabled_{false};
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    CaptureStatus status_;
    std::deque<std::chrono::steady_clock::time_point> accepted_;  // within the last minute
    std::vector<models::Frame> queue_;
    std::uint64_t next_number_ = 0;
    bool stopping_ = false;
    std::thread writer_;
};

}  // namespace chorus::server
