#include "live_store.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace chorus::server {
namespace {

constexpr std::size_t max_beads_listed = 64;

// Newest `count` entries of a ring whose next write goes to `next`, oldest first.
template <typename Value>
std::vector<Value> newest_of_ring(const std::vector<Value>& ring, std::size_t next, std::size_t count) {
    count = std::min(count, ring.size());
    std::vector<Value> result;
    result.reserve(count);
    // While the ring is filling, next == size(): the newest entries are the last ones.
    const std::size_t size = ring.size();
    for (std::size_t k = 0; k < count; ++k) {
        result.push_back(ring[(next + size - count + k) % size]);
    }
    return result;
}

template <typename Value>
void push_to_ring(std::vector<Value>& ring, std::size_t& next, std::size_t capacity, Value value) {
    if (capacity == 0) {
        return;
    }
    if (ring.size() < capacity) {
        ring.push_back(std::move(value));
        next = ring.size() % capacity;
        return;
    }
    ring[next] = std::move(value);
    next = (next + 1) % capacity;
}

}  // namespace

LatencyPercentiles latency_percentiles(std::vector<double> samples) {
    LatencyPercentiles result;
    result.samples = samples.size();
    if (samples.empty()) {
        return result;
    }
    std::sort(samples.begin(), samples.end());
    const auto rank = [&](double fraction) {
        const auto index =
            static_cast<std::size_t>(std::ceil(fraction * static_cast<double>(samples.size())));
        return samples[std::clamp<std::size_t>(index, 1, samples.size()) - 1];
    };
    result.p50 = rank(0.50);
    result.p90 = rank(0.90);
    result.p99 = rank(0.99);
    return result;
}

LiveStore::LiveStore(std::size_t members, Options options)
    : members_(members), options_(options), start_(std::chrono::steady_clock::now()) {
    recent_.reserve(options_.recent_capacity);
    evaluation_window_.reserve(options_.latency_window);
    round_trip_window_.reserve(options_.latency_window);
}

LiveStore::~LiveStore() = default;

std::uint32_t LiveStore::add_connection(std::string label, std::string address) {
    std::lock_guard lock(mutex_);
    const auto group = std::find(group_names_.begin(), group_names_.end(), address);
    connection_group_.push_back(static_cast<std::uint32_t>(group - group_names_.begin()));
    if (group == group_names_.end()) {
        group_names_.push_back(address);
    }
    ConnectionState state;
    state.label = std::move(label);
    state.address = std::move(address);
    connections_.push_back(std::move(state));
    return static_cast<std::uint32_t>(connections_.size() - 1);
}

void LiveStore::set_connected(std::uint32_t connection, bool connected) {
    std::lock_guard lock(mutex_);
    connections_.at(connection).connected = connected;
}

void LiveStore::add_latency(LatencyHistogram& histogram, std::vector<double>& window, std::size_t& next,
                            double seconds) {
    const auto bucket = static_cast<std::size_t>(
        std::lower_bound(latency_bucket_bounds.begin(), latency_bucket_bounds.end(), seconds) -
        latency_bucket_bounds.begin());
    ++histogram.counts[bucket];
    ++histogram.count;
    histogram.sum_seconds += seconds;
    push_to_ring(window, next, options_.latency_window, seconds);
}

void LiveStore::add_round_trip(std::uint32_t connection, double seconds) {
    std::lock_guard lock(mutex_);
    ++round_trips_;
    ++connections_.at(connection).round_trips;
    add_latency(round_trip_histogram_, round_trip_window_, round_trip_next_, seconds);
}

void LiveStore::record(CommitteeLogRecord&& record, const LiveEvaluation& live, std::uint32_t connection,
                       CommitteeLog* forward) {
    UncertaintyEntry entry;
    entry.time = record.time;
    entry.connection = connection;
    entry.bead = record.bead;
    entry.atoms = record.atoms;
    entry.energy = record.energy;
    entry.sigma_energy = live.sigma_energy;
    entry.max_atomic_sigma = record.max_atomic_sigma;
    entry.max_force_sigma = live.max_force_sigma;
    entry.volume = live.volume;

    // A new chunk is allocated outside the lock (once per series_chunk records): the first pass finds
    // that one is needed, the second appends with it (another thread may have added it meanwhile).
    const std::size_t width = series_width();
    std::unique_ptr<Chunk> spare;
    for (;;) {
        std::unique_lock lock(mutex_);
        const bool needs_chunk = series_count_ < options_.series_capacity &&
                                 series_count_ / options_.series_chunk == chunks_.size();
        if (needs_chunk && !spare) {
            lock.unlock();
            spare = std::make_unique<Chunk>();
            spare->values.resize(options_.series_chunk * width);
            spare->beads.resize(options_.series_chunk);
            spare->groups.resize(options_.series_chunk);
            continue;
        }
        if (needs_chunk) {
            chunks_.push_back(std::move(spare));
        }
        append_locked(record, live, entry, connection);
        if (forward != nullptr) {
            forward->record(std::move(record));
        }
        return;
    }
}

void LiveStore::append_locked(const CommitteeLogRecord& record, const LiveEvaluation& live,
                              const UncertaintyEntry& entry, std::uint32_t connection) {
    ++structures_;
    auto& state = connections_.at(connection);
    ++state.structures;
    state.last_bead = record.bead;
    if (record.bead >= 0 && state.beads.size() < max_beads_listed &&
        !std::binary_search(state.beads.begin(), state.beads.end(), record.bead)) {
        state.beads.insert(std::upper_bound(state.beads.begin(), state.beads.end(), record.bead),
                           record.bead);
    }
    add_latency(evaluation_histogram_, evaluation_window_, evaluation_next_, live.evaluation_seconds);
    push_to_ring(recent_, recent_next_, options_.recent_capacity, entry);

    if (series_count_ >= options_.series_capacity) {
        series_truncated_ = true;
        return;
    }
    if (record.member_energies.size() != members_) {
        return;  // not a committee of this model's size: cannot be reweighted with the others
    }
    const std::size_t width = series_width();
    Chunk& chunk = *chunks_[series_count_ / options_.series_chunk];
    const std::size_t row = series_count_ % options_.series_chunk;
    std::copy(record.member_energies.begin(), record.member_energies.end(),
              chunk.values.begin() + static_cast<std::ptrdiff_t>(row * width));
    chunk.values[row * width + members_] = live.volume;
    chunk.values[row * width + members_ + 1] = live.sigma_energy;
    if (options_.dipole) {
        std::copy(live.dipole_scalars.begin(), live.dipole_scalars.end(),
                  chunk.values.begin() + static_cast<std::ptrdiff_t>(row * width + members_ + 2));
    }
    chunk.beads[row] = record.bead;
    chunk.groups[row] = connection_group_.at(connection);
    ++series_count_;
}

LiveSnapshot LiveStore::snapshot(std::size_t last) const {
    LiveSnapshot result;
    std::vector<double> evaluation_window;
    std::vector<double> round_trip_window;
    {
        std::lock_guard lock(mutex_);
        result.uptime = std::chrono::steady_clock::now() - start_;
        result.connections = connections_;
        result.structures = structures_;
        result.round_trips = round_trips_;
        result.evaluation_histogram = evaluation_histogram_;
        result.round_trip_histogram = round_trip_histogram_;
        result.recent = newest_of_ring(recent_, recent_next_, last);
        evaluation_window = evaluation_window_;
        round_trip_window = round_trip_window_;
    }
    result.evaluation = latency_percentiles(std::move(evaluation_window));
    result.round_trip = latency_percentiles(std::move(round_trip_window));
    return result;
}

ReweightInput LiveStore::reweight_input() const {
    std::vector<const Chunk*> chunks;
    std::size_t count = 0;
    ReweightInput input;
    input.members = members_;
    input.dipole = options_.dipole;
    {
        std::lock_guard lock(mutex_);
        count = series_count_;
        for (const auto& chunk : chunks_) {
            chunks.push_back(chunk.get());
        }
        input.group_names = group_names_;
        input.truncated = series_truncated_;
    }
    // Rows below `count` are complete and never written again: read them without the lock.
    const std::size_t width = series_width();
    input.values.resize(static_cast<Eigen::Index>(count), static_cast<Eigen::Index>(width));
    input.beads.resize(count);
    input.groups.resize(count);
    for (std::size_t r = 0; r < count; ++r) {
        const Chunk& chunk = *chunks[r / options_.series_chunk];
        const std::size_t row = r % options_.series_chunk;
        for (std::size_t c = 0; c < width; ++c) {
            input.values(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) =
                chunk.values[row * width + c];
        }
        input.beads[r] = chunk.beads[row];
        input.groups[r] = chunk.groups[row];
    }
    return input;
}

}  // namespace chorus::server
