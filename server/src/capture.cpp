#include "capture.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <system_error>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "chorus/error.hpp"

namespace chorus::server {
namespace {

constexpr std::size_t max_queued = 64;
constexpr std::chrono::seconds rate_window{60};

}  // namespace

Capture::Capture(std::filesystem::path directory) : directory_(std::move(directory)) {
    std::error_code error;
    if (!std::filesystem::is_directory(directory_, error)) {
        throw ConfigError(fmt::format("--capture-dir '{}' is not an existing directory; create it first",
                                      directory_.string()));
    }
    status_.directory = directory_.string();
    writer_ = std::thread([this] { run_writer(); });
}

Capture::~Capture() { close(); }

void Capture::configure(const CaptureRequest& request) {
    std::lock_guard lock(mutex_);
    status_.enabled = request.enable;
    if (request.enable) {
        status_.threshold = request.threshold;
        status_.quantity = request.quantity;
        status_.per_minute = request.per_minute;
    }
    accepted_.clear();
    enabled_.store(request.enable, std::memory_order_relaxed);
}

CaptureQuantity Capture::quantity() const {
    std::lock_guard lock(mutex_);
    return status_.quantity;
}

bool Capture::wants(double value, std::chrono::steady_clock::time_point now) {
    std::lock_guard lock(mutex_);
    if (!status_.enabled || !(value > status_.threshold)) {
        return false;
    }
    ++status_.over_threshold;
    while (!accepted_.empty() && now - accepted_.front() >= rate_window) {
        accepted_.pop_front();
    }
    if (accepted_.size() >= static_cast<std::size_t>(status_.per_minute)) {
        ++status_.rate_limited;
        return false;
    }
    accepted_.push_back(now);
    return true;
}

void Capture::submit(models::Frame&& frame) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ || queue_.size() >= max_queued) {
            ++status_.dropped;
            return;
        }
        queue_.push_back(std::move(frame));
    }
    wake_.notify_one();
}

CaptureStatus Capture::status() const {
    std::lock_guard lock(mutex_);
    return status_;
}

void Capture::close() {
    {
        std::lock_guard lock(mutex_);
        if (stopping_) {
            return;
        }
        stopping_ = true;
    }
    wake_.notify_one();
    writer_.join();
}

void Capture::run_writer() {
    std::vector<models::Frame> batch;
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        batch.swap(queue_);
        const bool last = stopping_;
        const std::uint64_t first = next_number_;
        next_number_ += batch.size();
        lock.unlock();
        for (std::size_t k = 0; k < batch.size(); ++k) {
            write(batch[k], first + k);
        }
        batch.clear();
        lock.lock();
        if (last && queue_.empty()) {
            return;
        }
    }
}

void Capture::write(const models::Frame& frame, std::uint64_t number) {
    // Written under a temporary name and renamed, so a reader never sees half a file.
    const std::string name = fmt::format("capture-{}-{:06}.xyz", ::getpid(), number);
    const auto final_path = directory_ / name;
    const auto partial_path = directory_ / ("." + name + ".partial");
    bool ok = false;
    try {
        std::ofstream file(partial_path);
        models::write_extxyz(file, frame);
        file.close();
        ok = static_cast<bool>(file);
        if (ok) {
            std::filesystem::rename(partial_path, final_path);
        }
    } catch (const std::exception& error) {
        spdlog::error("capture: cannot write '{}': {}", final_path.string(), error.what());
        ok = false;
    }
    if (ok) {
        spdlog::info("capture: wrote '{}'", final_path.string());
    } else {
        std::error_code ignored;
        std::filesystem::remove(partial_path, ignored);
    }
    std::lock_guard lock(mutex_);
    (ok ? status_.written : status_.dropped) += 1;
}

}  // namespace chorus::server
