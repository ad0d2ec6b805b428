// Cost of the equivariant features on liquid water (issue 4's benchmark): 192 atoms (the first
// frame of liquid-water-qtip4pf.xyz) and its 2×2×2 replica, r_c = 5 Å, n_max = 8, l_max = 6, two
// species, ONE thread. Reported as time per atom (the "per_atom" counter).
//   a  ν = 2 features only                              compute()
//   b  ν = 2 + adjoint forces and virial, random linear  compute_linear()
//   c  b with ν = 3 added (n_max = 4, l_max = 4)
//   d  ν = 2 + [1←1] (n_max = 3, l_max = 2), adjoint included
//   e  the shipped water committee (M = 8): mean forces + virial + member energies
//   f  e with every member's forces and virials (the one-pass committee adjoint)
//   g  λ-SOAP λ = 1 blocks at the dipole model's truncation (r_c 4 Å, n_max 6, l_max 3)
//   h  g + their adjoint for a random linear functional (backward_equivariant: forces, virial)
// Run: chorus_bench_features [--benchmark_filter=...]; CHORUS_WATER_XYZ overrides the data file,
// CHORUS_WATER_MODEL the model file. CHORUS_BENCH_ITERATIONS=N fixes the iteration count, so that
// `valgrind --tool=callgrind --toggle-collect='chorus::engine::Model::evaluate*'` counts a known
// number of calls (instruction counts are repeatable on a shared machine; wall time is not).
#include <benchmark/benchmark.h>
#include <tbb/global_control.h>

#include <cstdlib>
#include <filesystem>
#include <random>

#include "chorus/engine/model.hpp"
#include "chorus/models/extxyz.hpp"
#include "chorus/models/features/feature_calculator.hpp"
#include "chorus/models/model_file.hpp"

namespace {

namespace features = chorus::models::features;
using chorus::engine::System;

System water_frame() {
    const char* override_path = std::getenv("CHORUS_WATER_XYZ");
    const std::filesystem::path path = override_path != nullptr ? override_path : CHORUS_WATER_XYZ;
    chorus::models::ExtxyzReader reader(path);
    auto frame = reader.next();
    if (!frame) {
        throw std::runtime_error("no frame in " + path.string());
    }
    return frame->system;
}

System replicate(const System& system, int times) {
    const auto n = static_cast<Eigen::Index>(system.size());
    Eigen::Matrix3Xd positions(3, n * times * times * times);
    std::vector<int> z;
    Eigen::Index copy = 0;
    for (int a = 0; a < times; ++a) {
        for (int b = 0; b < times; ++b) {
            for (int c = 0; c < times; ++c, ++copy) {
                positions.middleCols(copy * n, n) =
                    system.positions().colwise() + system.cell() * Eigen::Vector3d(a, b, c);
                z.insert(z.end(), system.atomic_numbers().begin(), system.atomic_numbers().end());
            }
        }
    }
    return System(z, positions, times * system.cell(), true);
}

const System& water(int replicas) {
    static const System single = water_frame();
    static const System eight = replicate(single, 2);
    return replicas == 1 ? single : eight;
}

features::FeatureSettings base_settings() {
    features::FeatureSettings s;
    s.cutoff = 5.0;
    s.cutoff_width = 0.5;
    s.species = {1, 8};
    s.nu2 = features::OrderTruncation{8, 6};
    return s;
}

enum class Case { features_only, nu2, nu2_nu3, nu2_message_passing };

features::FeatureSettings settings_for(Case c) {
    auto s = base_settings();
    if (c == Case::nu2_nu3) {
        s.nu3 = features::OrderTruncation{4, 4};
    }
    if (c == Case::nu2_message_passing) {
        s.message_passing = features::OrderTruncation{3, 2};
    }
    return s;
}

void run(benchmark::State& state, Case c) {
    const tbb::global_control one_thread(tbb::global_control::max_allowed_parallelism, 1);
    const System& system = water(static_cast<int>(state.range(0)));
    const features::FeatureCalculator calculator(settings_for(c));
    auto workspace = calculator.workspace();
    std::mt19937_64 engine(1);
    std::uniform_real_distribution<double> uniform(-1.0, 1.0);
    Eigen::MatrixXd weights(2, static_cast<Eigen::Index>(calculator.size()));
    for (Eigen::Index k = 0; k < weights.size(); ++k) {
        weights.data()[k] = uniform(engine);
    }
    features::FeatureMatrix x;
    Eigen::Matrix3Xd forces;
    Eigen::Matrix3d virial;
    for (auto _ : state) {
        if (c == Case::features_only) {
            calculator.compute(system, workspace, x);
            benchmark::DoNotOptimize(x.data());
        } else {
            benchmark::DoNotOptimize(calculator.compute_linear(system, workspace, weights, forces, virial));
        }
    }
    state.counters["atoms"] = static_cast<double>(system.size());
    state.counters["features"] = static_cast<double>(calculator.size());
    state.counters["per_atom"] =
        benchmark::Counter(static_cast<double>(system.size()),
                           benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void run_committee(benchmark::State& state, const chorus::engine::ComputeRequest& request) {
    const tbb::global_control one_thread(tbb::global_control::max_allowed_parallelism, 1);
    const char* override_path = std::getenv("CHORUS_WATER_MODEL");
    const auto model =
        chorus::models::load_model(override_path != nullptr ? override_path : CHORUS_WATER_MODEL);
    System system = water(static_cast<int>(state.range(0)));
    // A trajectory-like sequence: every call moves the atoms a little (as MD does), so that the
    // neighbour list's reuse is exercised as it is in production.
    const Eigen::Matrix3Xd start = system.positions();
    std::mt19937_64 engine(3);
    std::uniform_real_distribution<double> step(-0.01, 0.01);
    chorus::engine::CommitteeResult result;
    for (auto _ : state) {
        state.PauseTiming();
        const Eigen::Matrix3Xd moved = start.unaryExpr([&](double x) { return x + step(engine); });
        system.update(moved, system.cell(), true);
        state.ResumeTiming();
        model->evaluate(system, request, result);
        benchmark::DoNotOptimize(result.forces.data());
    }
    state.counters["atoms"] = static_cast<double>(system.size());
    state.counters["members"] = static_cast<double>(model->committee_size());
    state.counters["per_atom"] =
        benchmark::Counter(static_cast<double>(system.size()),
                           benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void BM_e_committee_mean_forces(benchmark::State& state) {
    run_committee(state, {.forces = true, .virial = true});
}
void BM_f_committee_member_forces(benchmark::State& state) {
    run_committee(state, {.forces = true, .virial = true, .member_forces = true, .member_virials = true});
}

void run_lambda_soap(benchmark::State& state, bool with_gradients) {
    const tbb::global_control one_thread(tbb::global_control::max_allowed_parallelism, 1);
    const System& system = water(static_cast<int>(state.range(0)));
    features::FeatureSettings settings;
    settings.cutoff = 4.0;
    settings.cutoff_width = 0.5;
    settings.species = {1, 8};
    settings.lambda_soap = features::OrderTruncation{6, 3};
    settings.lambda_soap_lambdas = {1};
    const features::FeatureCalculator calculator(settings);
    auto workspace = calculator.workspace();
    features::FeatureMatrix blocks;
    calculator.compute_equivariant(system, workspace, 1, blocks);
    std::mt19937_64 engine(2);
    std::uniform_real_distribution<double> uniform(-1.0, 1.0);
    const features::FeatureMatrix gradient =
        features::FeatureMatrix::NullaryExpr(blocks.rows(), blocks.cols(), [&] { return uniform(engine); });
    Eigen::Matrix3Xd forces;
    Eigen::Matrix3d virial;
    for (auto _ : state) {
        calculator.compute_equivariant(system, workspace, 1, blocks);
        if (with_gradients) {
            calculator.backward_equivariant(system, workspace, 1, gradient, forces, virial);
            benchmark::DoNotOptimize(forces.data());
        }
        benchmark::DoNotOptimize(blocks.data());
    }
    state.counters["atoms"] = static_cast<double>(system.size());
    state.counters["features"] = static_cast<double>(blocks.cols());
    state.counters["per_atom"] =
        benchmark::Counter(static_cast<double>(system.size()),
                           benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void BM_g_lambda_soap(benchmark::State& state) { run_lambda_soap(state, false); }
void BM_h_lambda_soap_gradients(benchmark::State& state) { run_lambda_soap(state, true); }

// CHORUS_BENCH_ITERATIONS fixes the iteration count (for callgrind).
void iterations_from_environment(benchmark::internal::Benchmark* benchmark) {
    if (const char* iterations = std::getenv("CHORUS_BENCH_ITERATIONS")) {
        benchmark->Iterations(std::atoll(iterations));
    }
}

void BM_a_nu2_features(benchmark::State& state) { run(state, Case::features_only); }
void BM_b_nu2_forces_virial(benchmark::State& state) { run(state, Case::nu2); }
void BM_c_nu2_nu3_forces_virial(benchmark::State& state) { run(state, Case::nu2_nu3); }
void BM_d_message_passing_forces_virial(benchmark::State& state) { run(state, Case::nu2_message_passing); }

}  // namespace

BENCHMARK(BM_a_nu2_features)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_b_nu2_forces_virial)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_c_nu2_nu3_forces_virial)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_d_message_passing_forces_virial)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_e_committee_mean_forces)
    ->Arg(1)
    ->Arg(2)
    ->Apply(iterations_from_environment)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_f_committee_member_forces)
    ->Arg(1)
    ->Arg(2)
    ->Apply(iterations_from_environment)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_g_lambda_soap)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_h_lambda_soap_gradients)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);
