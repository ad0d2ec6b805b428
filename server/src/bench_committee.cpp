#include "bench_committee.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench_beads.hpp"
#include "bench_structure.hpp"
#include "bench_timing.hpp"
#include "chorus/error.hpp"
#include "chorus/models/linear_committee.hpp"
#include "chorus/models/model_file.hpp"
#include "json_file.hpp"
#include "serve.hpp"

namespace chorus::server {
namespace {

using models::LinearCommittee;
using models::LinearCommitteeParameters;

// The previous algorithm for member forces, kept as the same-run baseline of the one-pass path:
// features by compute(), then one backward() per member over every pair again.
class PerMemberPassCommittee final : public engine::Model {
public:
    explicit PerMemberPassCommittee(const LinearCommittee& committee)
        : committee_(committee), calculator_(committee.parameters().features) {}

    std::string_view kind() const override { return "linear-committee (per-member passes)"; }
    std::string description() const override { return committee_.description() + ", per-member passes"; }
    std::span<const int> species() const override { return committee_.species(); }
    double cutoff() const override { return committee_.cutoff(); }
    std::size_t committee_size() const override { return committee_.committee_size(); }

protected:
    void compute(const engine::System& system, const engine::ComputeRequest& request,
                 engine::CommitteeResult& result) const override {
        const auto& p = committee_.parameters();
        const std::size_t members = committee_size();
        result.reset(members, system.size(), request);
        calculator_.compute(system, workspace_, features_);
        gradient_.resize(features_.rows(), features_.cols());
        for (std::size_t k = 0; k < members; ++k) {
            double energy = 0.0;
            for (Eigen::Index i = 0; i < features_.rows(); ++i) {
                const int channel = p.features.channel(system.atomic_numbers()[static_cast<std::size_t>(i)]);
                gradient_.row(i) = p.weights[k].row(channel);
                energy += gradient_.row(i).dot(features_.row(i)) +
                          p.baselines(channel, static_cast<Eigen::Index>(k));
            }
            result.member_energies[static_cast<Eigen::Index>(k)] = energy;
            calculator_.backward(system, workspace_, gradient_, forces_, virial_);
            if (request.member_forces) {
                result.member_forces[k] = forces_;
            }
            if (request.member_virials) {
                result.member_virials[k] = virial_;
            }
        }
        result.set_mean_from_members();
    }

private:
    const LinearCommittee& committee_;
    models::features::FeatureCalculator calculator_;
    // One caller at a time (the benchmark is the only one).
    mutable models::features::FeatureWorkspace workspace_ = calculator_.workspace();
    mutable models::features::FeatureMatrix features_, gradient_;
    mutable Eigen::Matrix3Xd forces_;
    mutable Eigen::Matrix3d virial_;
};

// Answers zeros at once, in the committee's shape: round trips with it cost only the protocol
// (conversion, encoding, extras, the sockets and the thread hand-offs), free of the cache misses a
// real evaluation on another thread adds to the difference "round trip − evaluation".
class ZeroCommittee final : public engine::Model {
public:
    explicit ZeroCommittee(const engine::Model& shape) : shape_(shape) {}

    std::string_view kind() const override { return "zero committee"; }
    std::string description() const override { return "zeros in the shape of " + shape_.description(); }
    std::span<const int> species() const override { return shape_.species(); }
    double cutoff() const override { return shape_.cutoff(); }
    std::size_t committee_size() const override { return shape_.committee_size(); }

protected:
    void compute(const engine::System& system, const engine::ComputeRequest& request,
                 engine::CommitteeResult& result) const override {
        result.reset(committee_size(), system.size(), request);
        result.member_energies.setZero();
        for (auto& forces : result.member_forces) {
            forces.setZero();
        }
        for (auto& virial : result.member_virials) {
            virial.setZero();
        }
        result.set_mean_from_members();
    }

private:
    const engine::Model& shape_;
};

// A committee of `members` members: the model's own, cycled (M = 1 takes the first; M = 32 repeats
// the eight). The cost does not depend on the weights' values.
std::unique_ptr<LinearCommittee> with_members(const LinearCommittee& committee, std::size_t members) {
    LinearCommitteeParameters p = committee.parameters();
    const std::size_t own = p.weights.size();
    std::vector<Eigen::MatrixXd> weights;
    Eigen::MatrixXd baselines(p.baselines.rows(), static_cast<Eigen::Index>(members));
    for (std::size_t k = 0; k < members; ++k) {
        weights.push_back(p.weights[k % own]);
        baselines.col(static_cast<Eigen::Index>(k)) = p.baselines.col(static_cast<Eigen::Index>(k % own));
    }
    p.weights = std::move(weights);
    p.baselines = std::move(baselines);
    return std::make_unique<LinearCommittee>(std::move(p));
}

// Resident set size of this process in bytes (Linux /proc; 0 where unavailable).
double resident_bytes() {
    std::ifstream status("/proc/self/status");
    std::string key;
    while (status >> key) {
        if (key == "VmRSS:") {
            double kilobytes = 0.0;
            status >> kilobytes;
            return kilobytes * 1024.0;
        }
        status.ignore(1 << 12, '\n');
    }
    return 0.0;
}

struct Row {
    Row(std::string name, int committee, long count, int thread_count = 1)
        : what(std::move(name)), members(committee), atoms(count), threads(thread_count) {}

    std::string what;
    int members = 0;
    long atoms = 0;
    int threads = 1;
    double median_us = 0.0;
    double median_cpu_us = 0.0;  // 0 for round trips
    std::string baseline;        // the row it is compared with, empty for a baseline itself
    double ratio = 0.0;          // median per atom / the baseline's median per atom
    double cpu_ratio = 0.0;      // the same in CPU time (0 when either has none)
    double bytes_per_atom = -1.0;
    bool round_trip = false;   // the overhead columns
    double overhead_us = 0.0;  // round trips: median of (round trip − serve's own evaluation of it)
    double floor_us = 0.0;     // the socket floor for the same bytes and compute time (socket_floor.hpp)

    double per_atom() const { return median_us / static_cast<double>(atoms); }
    double cpu_per_atom() const { return median_cpu_us / static_cast<double>(atoms); }
};

const engine::ComputeRequest mean_forces{.forces = true, .virial = true};
const engine::ComputeRequest member_forces{
    .forces = true, .virial = true, .member_forces = true, .member_virials = true};

// Beads of the many-beads rows: a path-integral run of 64 beads, one connection each.
constexpr int bench_beads = 64;

int calls_for(const RoundtripBenchSettings& settings, long base_atoms, long atoms) {
    return std::max(3, static_cast<int>(static_cast<double>(settings.calls) *
                                        static_cast<double>(base_atoms) / static_cast<double>(atoms)));
}

const Row& row_named(const std::vector<Row>& rows, std::string_view prefix) {
    const auto row =
        std::find_if(rows.begin(), rows.end(), [&](const Row& r) { return r.what.starts_with(prefix); });
    if (row == rows.end()) {
        throw Error(fmt::format("the committee table has no row '{}'", prefix));
    }
    return *row;
}

// The many-beads and protocol targets of issue 8 read off the table, as sentences (and in the JSON):
// throughput is the inverse of the cost per structure, so a fraction is 1 / ratio.
void print_targets(const std::vector<Row>& rows, nlohmann::json& report) {
    const Row& separate = row_named(rows, fmt::format("beads: {} connections", bench_beads));
    const Row& batched = row_named(rows, fmt::format("beads: {} batched", bench_beads));
    const Row& parallel = row_named(rows, "beads, ");
    const Row& unix_trip = row_named(rows, "round trip UNIX, energies");
    const Row& tcp_trip = row_named(rows, "round trip TCP, energies");
    const Row& unix_protocol = row_named(rows, "protocol: round trip UNIX");
    const Row& tcp_protocol = row_named(rows, "protocol: round trip TCP");
    // Wall only: the single connection's I/O thread polls its socket and evaluates, and Linux updates
    // such a thread's CPU time at scheduler ticks, so that row's CPU figure is meaningless.
    std::printf("%d connections: %.0f %% of the single connection's throughput (wall) (target ≥ 90 %%)\n",
                bench_beads, 100.0 / separate.ratio);
    std::printf(
        "batch_size %d on 1 connection: %.0f %% of the %d connections' throughput (wall), %.0f %% per "
        "CPU second\n",
        bench_beads, 100.0 / batched.ratio, bench_beads, 100.0 / batched.cpu_ratio);
    std::printf("%d connections on %d evaluation threads: %.2f× the throughput of 1 thread (wall)\n",
                bench_beads, parallel.threads, 1.0 / parallel.ratio);
    std::printf(
        "protocol overhead at %ld atoms, median of (round trip − serve's evaluation of it): UNIX %.1f µs "
        "(bare-socket floor %.1f, chorus's own %.1f), TCP %.1f µs (floor %.1f) (target ≤ 30 µs over UNIX)\n",
        unix_trip.atoms, unix_trip.overhead_us, unix_trip.floor_us,
        unix_trip.overhead_us - unix_trip.floor_us, tcp_trip.overhead_us, tcp_trip.floor_us);
    std::printf(
        "protocol alone (zero model, same messages): UNIX %.1f µs (floor %.1f), TCP %.1f µs (floor %.1f)\n",
        unix_protocol.overhead_us, unix_protocol.floor_us, tcp_protocol.overhead_us, tcp_protocol.floor_us);
    report["targets"] = {{"beads", bench_beads},
                         {"connections_throughput_fraction", 1.0 / separate.ratio},
                         {"batched_throughput_fraction_of_connections", 1.0 / batched.ratio},
                         {"batched_cpu_throughput_fraction_of_connections", 1.0 / batched.cpu_ratio},
                         {"connections_threads", parallel.threads},
                         {"connections_threads_speedup", 1.0 / parallel.ratio},
                         {"protocol_overhead_unix_us", unix_trip.overhead_us},
                         {"protocol_overhead_unix_floor_us", unix_trip.floor_us},
                         {"protocol_overhead_tcp_us", tcp_trip.overhead_us},
                         {"protocol_overhead_tcp_floor_us", tcp_trip.floor_us},
                         {"protocol_alone_unix_us", unix_protocol.overhead_us},
                         {"protocol_alone_unix_floor_us", unix_protocol.floor_us},
                         {"protocol_alone_tcp_us", tcp_protocol.overhead_us},
                         {"protocol_alone_tcp_floor_us", tcp_protocol.floor_us}};
}

}  // namespace

int run_committee_bench(const RoundtripBenchSettings& settings) {
    if (!settings.model_path || !settings.structure_path) {
        throw ConfigError(
            "--committee-table needs --model (a linear-committee file) and --structure (an extxyz file)");
    }
    if (settings.threads < 1) {
        throw ConfigError(
            fmt::format("--threads {} is not a thread count; give 1 or more", settings.threads));
    }
    const auto loaded = models::load_model(*settings.model_path);
    const auto* committee = dynamic_cast<const LinearCommittee*>(loaded.get());
    if (committee == nullptr) {
        throw ConfigError(fmt::format("--committee-table times linear committees, but {} is a {} model",
                                      *settings.model_path, loaded->kind()));
    }
    const BenchStructure base = replicate(read_bench_structure(*settings.structure_path), settings.replicate);
    const long base_atoms = base.positions.cols();
    const auto frames = trajectory(base, settings.calls);
    const int warm_up = std::min(bench_warm_up_calls, settings.calls);
    const std::size_t own_members = committee->committee_size();
    std::vector<Row> rows;
    auto add = [&](Row row, const Timings& timings, const std::string& baseline = "") {
        row.median_us = timings.percentile(0.5);
        row.median_cpu_us = timings.cpu_percentile(0.5);
        row.baseline = baseline;
        if (!baseline.empty()) {
            const auto reference =
                std::find_if(rows.begin(), rows.end(), [&](const Row& r) { return r.what == baseline; });
            row.ratio = row.per_atom() / reference->per_atom();
            row.cpu_ratio = row.median_cpu_us > 0.0 && reference->median_cpu_us > 0.0
                                ? row.cpu_per_atom() / reference->cpu_per_atom()
                                : 0.0;
        }
        if (!timings.overhead_microseconds.empty()) {
            row.overhead_us = percentile_of(timings.overhead_microseconds, 0.5);
        }
        rows.push_back(row);
        std::fprintf(stderr, "  timed: %s\n", row.what.c_str());
    };

    // Committee size.
    const std::string m1 = "mean forces + energies, M=1";
    std::vector<std::unique_ptr<LinearCommittee>> sized;
    for (const std::size_t members : {std::size_t{1}, own_members, std::size_t{32}}) {
        sized.push_back(with_members(*committee, members));
        const std::string name = fmt::format("mean forces + energies, M={}", members);
        add({name, static_cast<int>(members), base_atoms},
            time_model(*sized.back(), base, frames, mean_forces, name, 1, warm_up), members == 1 ? "" : m1);
    }
    // Member forces and virials: one pass against one pass per member.
    for (std::size_t index : {std::size_t{1}, std::size_t{2}}) {
        const auto& model = *sized[index];
        const auto members = static_cast<int>(model.committee_size());
        const std::string mean = fmt::format("mean forces + energies, M={}", members);
        const std::string name = fmt::format("member forces+virials, M={}", members);
        add({name, members, base_atoms}, time_model(model, base, frames, member_forces, name, 1, warm_up),
            mean);
        const PerMemberPassCommittee per_member(model);
        const std::string old = fmt::format("  per-member passes, M={}", members);
        add({old, members, base_atoms}, time_model(per_member, base, frames, member_forces, old, 1, warm_up),
            mean);
    }
    // The socket round trip with the model as given; its excess over serve's own evaluation of each
    // request is the protocol's cost (target: ≤ 30 µs over UNIX), shown beside the floor that a bare
    // socket exchanging the same bytes after the same compute time has on this machine.
    auto round_trip = [&](Row row, const engine::Model& model, ExtrasMode extras, bool over_tcp,
                          const std::string& baseline) {
        row.round_trip = true;
        const Timings timings = time_round_trips(model, base, frames, extras, 1, over_tcp);
        row.floor_us = median_socket_floor_us(timings, over_tcp, settings.calls);
        add(row, timings, baseline);
    };
    {
        const auto members = static_cast<int>(own_members);
        const std::string mean = fmt::format("mean forces + energies, M={}", members);
        round_trip({fmt::format("round trip UNIX, energies, M={}", members), members, base_atoms}, *committee,
                   ExtrasMode::energies, false, mean);
        round_trip({fmt::format("round trip TCP, energies, M={}", members), members, base_atoms}, *committee,
                   ExtrasMode::energies, true, mean);
        round_trip({fmt::format("round trip UNIX, full, M={}", members), members, base_atoms}, *committee,
                   ExtrasMode::full, false, fmt::format("member forces+virials, M={}", members));
    }
    // The protocol alone: the same messages and extras answered by a model that costs nothing.
    {
        const ZeroCommittee zeros(*committee);
        const auto members = static_cast<int>(own_members);
        const std::string evaluation = "protocol: zero model";
        add({evaluation, members, base_atoms},
            time_model(zeros, base, frames, mean_forces, evaluation, 1, warm_up));
        for (const bool over_tcp : {false, true}) {
            const std::string name =
                fmt::format("protocol: round trip {}, energies", over_tcp ? "TCP" : "UNIX");
            round_trip({name, members, base_atoms}, zeros, ExtrasMode::energies, over_tcp, evaluation);
        }
    }
    // Many beads through one process, one evaluation thread (per core): 64 connections against one
    // (target ≥ 90 % of its throughput), and i-PI's batched mode against the 64 connections. Each
    // row's time is per structure (a step's time over its beads); all rows evaluate the same number
    // of structures.
    {
        const auto members = static_cast<int>(own_members);
        const std::string single = "beads: 1 connection";
        const std::string separate = fmt::format("beads: {} connections", bench_beads);
        const std::string batched = fmt::format("beads: {} batched, 1 connection", bench_beads);
        const int steps = std::max(3, settings.calls / bench_beads);
        using Mode = BeadDriver::Mode;
        auto time_beads = [&](int beads, Mode mode, int bead_steps, const std::string& name,
                              int threads = 1) {
            BeadDriver driver(*committee, base, beads, mode, ExtrasMode::energies, threads);
            Timings timings = time_bead_steps(driver, frames, bead_steps, name);
            driver.finish();
            return timings;
        };
        add({single, members, base_atoms}, time_beads(1, Mode::connections, steps * bench_beads, single));
        add({separate, members, base_atoms}, time_beads(bench_beads, Mode::connections, steps, separate),
            single);
        add({batched, members, base_atoms}, time_beads(bench_beads, Mode::batched, steps, batched), separate);
        // The same beads on two evaluation threads: `chorus serve --threads 2` with many connections.
        const int threads = std::max(2, settings.threads);
        const std::string parallel = fmt::format("beads, {} threads: {} connections", threads, bench_beads);
        add({parallel, members, base_atoms, threads},
            time_beads(bench_beads, Mode::connections, steps, parallel, threads), separate);
    }
    // Threads, on the 2×2×2 supercell.
    {
        const BenchStructure cell = supercell(base, 2, settings.shuffle);
        const long atoms = cell.positions.cols();
        const int calls = calls_for(settings, base_atoms, atoms);
        const auto cell_frames = trajectory(cell, calls);
        const std::string one = fmt::format("mean forces, {} atoms, 1 thread", atoms);
        add({one, static_cast<int>(own_members), atoms, 1},
            time_model(*committee, cell, cell_frames, mean_forces, one, 1, std::min(warm_up, calls)));
        const int threads = std::max(2, settings.threads);
        const std::string many = fmt::format("mean forces, {} atoms, {} threads", atoms, threads);
        Row row{many, static_cast<int>(own_members), atoms, threads};
        add(row,
            time_model(*committee, cell, cell_frames, mean_forces, many, threads, std::min(warm_up, calls)),
            one);
    }
    // Size: cost and memory per atom, replicated n×n×n up to --max-atoms (100 000 by default).
    const long max_atoms = settings.max_atoms;
    const std::string smallest = fmt::format("size: {} atoms", base_atoms);
    for (int copies = 1; static_cast<long>(copies) * copies * copies * base_atoms <= max_atoms; ++copies) {
        if (copies == 5 || copies == 7) {
            continue;  // keeps the run short; 1, 2, 3, 4, 6, 8 cover three decades
        }
        const BenchStructure cell = supercell(base, copies, settings.shuffle);
        const long atoms = cell.positions.cols();
        const int calls = calls_for(settings, base_atoms, atoms);
        const auto cell_frames = trajectory(cell, calls);
        const auto model = with_members(*committee, own_members);  // a fresh scratch pool per size
        const double before = resident_bytes();
        const std::string name = fmt::format("size: {} atoms", atoms);
        Row row{name, static_cast<int>(own_members), atoms, 1};
        const Timings timings = time_model(*model, cell, cell_frames, mean_forces, name, 1, 1);
        row.bytes_per_atom = (resident_bytes() - before) / static_cast<double>(atoms);
        add(row, timings, copies == 1 ? "" : smallest);
    }

    std::printf(
        "model: %s\nstructure: %s (%ld atoms%s), %d calls on it (fewer on larger cells); medians; ratios per "
        "atom to the row named last, in wall and CPU time; over µs: median over calls of the round trip "
        "minus serve's own evaluation of it; floor µs: the same bytes each way over a bare socket, answered "
        "after serve's median evaluation time; kB/at: resident-set growth per atom\n",
        committee->description().c_str(), settings.structure_path->c_str(), base_atoms,
        settings.shuffle ? "; supercells of the size and thread rows with their atoms shuffled" : "",
        settings.calls);
    std::printf("%-38s %7s %3s %11s %8s %8s %6s %6s %7s %7s %6s  %s\n", "what", "atoms", "thr", "median µs",
                "µs/atom", "CPU µs/a", "ratio", "CPU r.", "over µs", "floor", "kB/at", "ratio to");
    nlohmann::json report = {{"model", committee->description()},
                             {"structure", *settings.structure_path},
                             {"calls", settings.calls},
                             {"shuffled", settings.shuffle},
                             {"rows", nlohmann::json::array()}};
    auto optional = [](bool present, double value, const char* format) {
        return present ? fmt::format(fmt::runtime(format), value) : std::string();
    };
    for (const Row& row : rows) {
        std::printf("%-38s %7ld %3d %11.1f %8.3f %8s %6s %6s %7s %7s %6s  %s\n", row.what.c_str(), row.atoms,
                    row.threads, row.median_us, row.per_atom(),
                    optional(row.median_cpu_us > 0.0, row.cpu_per_atom(), "{:.3f}").c_str(),
                    optional(!row.baseline.empty(), row.ratio, "{:.2f}").c_str(),
                    optional(row.cpu_ratio > 0.0, row.cpu_ratio, "{:.2f}").c_str(),
                    optional(row.round_trip, row.overhead_us, "{:.1f}").c_str(),
                    optional(row.round_trip, row.floor_us, "{:.1f}").c_str(),
                    optional(row.bytes_per_atom >= 0.0, row.bytes_per_atom / 1024.0, "{:.1f}").c_str(),
                    row.baseline.c_str());
        nlohmann::json entry = {{"what", row.what},           {"members", row.members},
                                {"atoms", row.atoms},         {"threads", row.threads},
                                {"median_us", row.median_us}, {"median_us_per_atom", row.per_atom()}};
        if (row.median_cpu_us > 0.0) {
            entry["median_cpu_us"] = row.median_cpu_us;
            entry["median_cpu_us_per_atom"] = row.cpu_per_atom();
        }
        if (!row.baseline.empty()) {
            entry["baseline"] = row.baseline;
            entry["ratio_per_atom"] = row.ratio;
            if (row.cpu_ratio > 0.0) {
                entry["cpu_ratio_per_atom"] = row.cpu_ratio;
            }
        }
        if (row.bytes_per_atom >= 0) {
            entry["resident_bytes_per_atom"] = row.bytes_per_atom;
        }
        if (row.round_trip) {
            entry["overhead_over_serve_evaluation_us"] = row.overhead_us;
            entry["socket_floor_us"] = row.floor_us;
        }
        report["rows"].push_back(entry);
    }
    print_targets(rows, report);
    if (settings.json_path) {
        write_json_file(*settings.json_path, report, 2, "the benchmark report");
    }
    return 0;
}

}  // namespace chorus::server
