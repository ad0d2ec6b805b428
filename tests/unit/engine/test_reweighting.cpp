// Reweighting to committee members against known answers: a 1-D harmonic oscillator sampled
// exactly from the Boltzmann distribution of the mean spring k̄, with members of spring k_i, has
// ⟨x²⟩_i = 1/(β k_i); CEA gives ⟨x²⟩(1 − ε_i) for k_i = k̄(1 + ε_i), which agrees with the exact
// 1/(1 + ε_i) to first order and differs by ε_i² ⟨x²⟩ at second order. And against i-PI's own
// tool on stored golden data (tests/data/reweight/README.md).
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "chorus/engine/reweighting.hpp"
#include "chorus/error.hpp"
#include "test_support.hpp"

namespace {

using namespace chorus::engine;

struct Oscillator {
    Eigen::MatrixXd potentials;   // frames × M: k_i x² / 2
    Eigen::MatrixXd observables;  // frames × 1: x²
};

// β = 1; x drawn from the Gaussian of the mean potential, variance 1/k̄.
Oscillator sample_oscillator(const std::vector<double>& springs, Eigen::Index frames, std::uint64_t seed) {
    double mean_spring = 0.0;
    for (const double k : springs) {
        mean_spring += k / static_cast<double>(springs.size());
    }
    std::mt19937_64 engine(seed);
    std::normal_distribution<double> gaussian(0.0, 1.0 / std::sqrt(mean_spring));
    Oscillator sample{Eigen::MatrixXd(frames, static_cast<Eigen::Index>(springs.size())),
                      Eigen::MatrixXd(frames, 1)};
    for (Eigen::Index t = 0; t < frames; ++t) {
        const double x = gaussian(engine);
        for (std::size_t i = 0; i < springs.size(); ++i) {
            sample.potentials(t, static_cast<Eigen::Index>(i)) = 0.5 * springs[i] * x * x;
        }
        sample.observables(t, 0) = x * x;
    }
    return sample;
}

// Delta-method standard error of the self-normalised estimate Σ a w / Σ w of member i.
double exact_estimate_error(const Eigen::MatrixXd& deviations, const Eigen::VectorXd& a, Eigen::Index member,
                            double estimate) {
    const Eigen::ArrayXd w = (-deviations.col(member)).array().exp();
    const double n = static_cast<double>(a.size());
    const double mean_w = w.mean();
    const double numerator = (w.square() * (a.array() - estimate).square()).mean();
    return std::sqrt(numerator / n) / mean_w;
}

// np.loadtxt for the golden files: '#' starts a comment, rows of whitespace-separated numbers.
Eigen::MatrixXd load_table(const std::string& name) {
    std::ifstream file(chorus::test::data_path("reweight/" + name));
    REQUIRE(file.good());
    std::vector<std::vector<double>> rows;
    std::string line;
    while (std::getline(file, line)) {
        line = line.substr(0, line.find('#'));
        std::istringstream fields(line);
        std::vector<double> row;
        double value = 0.0;
        while (fields >> value) {
            row.push_back(value);
        }
        if (!row.empty()) {
            rows.push_back(row);
        }
    }
    REQUIRE(!rows.empty());
    Eigen::MatrixXd table(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(rows[0].size()));
    for (std::size_t r = 0; r < rows.size(); ++r) {
        REQUIRE(rows[r].size() == rows[0].size());
        for (std::size_t c = 0; c < rows[r].size(); ++c) {
            table(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) = rows[r][c];
        }
    }
    return table;
}

// The thermal energy the golden files were made with (make_reference.py: KT), Hartree.
constexpr double golden_kt = 9.5004e-4;

// |got − expected| ≤ rtol · max|expected| over the row: the precision of a row of averages refers
// to its scale, not to a member average that happens to be near zero.
void check_row(const Eigen::RowVectorXd& got, const Eigen::RowVectorXd& expected, double rtol,
               const std::string& what) {
    INFO(what << "\n  got      " << got << "\n  expected " << expected);
    REQUIRE(got.size() == expected.size());
    CHECK((got - expected).cwiseAbs().maxCoeff() <= rtol * expected.cwiseAbs().maxCoeff());
}

// i-PI's rows: mean over members, standard deviation ddof 0, then the members.
void check_against_ipi(const ReweightedAverages& ours, const Eigen::MatrixXd& reference, double rtol) {
    const Eigen::Index members = ours.members.cols();
    REQUIRE(reference.rows() == ours.members.rows());
    REQUIRE(reference.cols() == members + 2);
    // chorus's spread has ddof 1, i-PI's ddof 0: σ_1 = σ_0 · sqrt(M / (M − 1)).
    const double ddof_factor = std::sqrt(static_cast<double>(members) / static_cast<double>(members - 1));
    for (Eigen::Index k = 0; k < reference.rows(); ++k) {
        Eigen::RowVectorXd row(members + 2);
        row << ours.member_mean[k], ours.committee_spread[k] / ddof_factor, ours.members.row(k);
        check_row(row, reference.row(k), rtol, "observable " + std::to_string(k));
    }
}

}  // namespace

TEST_CASE("exact reweighting recovers <x²>_i = 1/(β k_i) of a harmonic oscillator", "[reweighting]") {
    const std::vector<double> springs = {0.7, 0.9, 1.1,
                                         1.3};  // every k_i > k̄/2 = 0.5: finite weight variance
    const auto sample = sample_oscillator(springs, 400'000, 1);
    const Eigen::MatrixXd dv = potential_deviations(sample.potentials);
    const auto result = reweight_exact(dv, sample.observables, 1.0);
    for (Eigen::Index i = 0; i < 4; ++i) {
        const double expected = 1.0 / springs[static_cast<std::size_t>(i)];
        const double error = exact_estimate_error(dv, sample.observables.col(0), i, result.members(0, i));
        INFO("member " << i << ": " << result.members(0, i) << " ± " << error << ", exact " << expected);
        CHECK(std::abs(result.members(0, i) - expected) < 4.0 * error);
        CHECK(error < 0.01 * expected);  // so that the check above says something
    }
    CHECK(result.sampled[0] == Approx(1.0).epsilon(0.01));  // 1/k̄
    CHECK(result.committee_spread[0] > 0.2);
}

TEST_CASE("CEA equals exact reweighting to first order in the spring differences", "[reweighting]") {
    // k_i = k̄(1 + ε_i); the second-order difference exact − CEA is ε_i² ⟨x²⟩ (the third cumulant
    // of x², 8/k̄³, times (ε/2)²·k̄²/2), so dividing by it leaves 1 up to sampling noise.
    const std::vector<double> epsilons = {-0.02, -0.01, 0.01, 0.02};
    std::vector<double> springs;
    for (const double e : epsilons) {
        springs.push_back(1.0 + e);
    }
    const auto sample = sample_oscillator(springs, 1'000'000, 2);
    const Eigen::MatrixXd dv = potential_deviations(sample.potentials);
    const auto exact = reweight_exact(dv, sample.observables, 1.0);
    const auto cea = reweight_cumulant(dv, sample.observables, 1.0);
    const double x2 = sample.observables.mean();
    for (Eigen::Index i = 0; i < 4; ++i) {
        const double e = epsilons[static_cast<std::size_t>(i)];
        // First order: both move by −ε⟨x²⟩ from ⟨x²⟩ (CEA up to the sample's cumulants).
        CHECK((cea.members(0, i) - x2) / (e * x2) == Approx(-1.0).margin(0.02));
        const double second_order = (exact.members(0, i) - cea.members(0, i)) / (e * e * x2);
        INFO("member " << i << ": (exact − CEA) / (ε² <x²>) = " << second_order);
        CHECK(second_order == Approx(1.0).margin(0.1));
    }
}

TEST_CASE("CEA deviates from exact reweighting for large spring differences as predicted", "[reweighting]") {
    // k = k̄(1 ∓ 0.4): exact 1/(1 ∓ 0.4) = 1.667, 0.714; CEA (1 ± 0.4) = 0.6, 1.4 (times 1/k̄ = 1).
    const auto sample = sample_oscillator({0.6, 1.4}, 1'000'000, 3);
    const Eigen::MatrixXd dv = potential_deviations(sample.potentials);
    const auto exact = reweight_exact(dv, sample.observables, 1.0);
    const auto cea = reweight_cumulant(dv, sample.observables, 1.0);
    CHECK(exact.members(0, 0) == Approx(1.0 / 0.6).epsilon(0.02));
    CHECK(exact.members(0, 1) == Approx(1.0 / 1.4).epsilon(0.02));
    CHECK(cea.members(0, 0) == Approx(1.4).epsilon(0.01));
    CHECK(cea.members(0, 1) == Approx(0.6).epsilon(0.01));
}

TEST_CASE("effective sample size: all frames for agreeing members, the analytic fraction otherwise",
          "[reweighting]") {
    const auto same = sample_oscillator({1.0, 1.0, 1.0}, 1000, 4);
    const Eigen::VectorXd all = effective_sample_sizes(potential_deviations(same.potentials), 1.0);
    CHECK(all.isApprox(Eigen::VectorXd::Constant(3, 1000.0), 1e-12));

    // For k_i = k̄(1 + ε): E[w] = (1 + ε)^{−1/2}, E[w²] = (1 + 2ε)^{−1/2}, so
    // ESS / frames → sqrt(1 + 2ε) / (1 + ε).
    const auto sample = sample_oscillator({0.7, 1.3}, 400'000, 5);
    const Eigen::VectorXd ess = effective_sample_sizes(potential_deviations(sample.potentials), 1.0);
    for (Eigen::Index i = 0; i < 2; ++i) {
        const double e = i == 0 ? -0.3 : 0.3;
        CHECK(ess[i] / 400'000.0 == Approx(std::sqrt(1.0 + 2.0 * e) / (1.0 + e)).epsilon(0.02));
    }
}

TEST_CASE("exact reweighting survives β ΔV far beyond the range of exp()", "[reweighting]") {
    Eigen::MatrixXd dv(3, 2);
    dv << -1000.0, 1000.0, -999.0, 999.0, 2000.0, -2000.0;
    Eigen::MatrixXd a(3, 1);
    a << 1.0, 2.0, 3.0;
    const auto result = reweight_exact(dv, a, 1.0);
    CHECK(result.members.allFinite());
    // Member 0: weights ∝ e^{0}, e^{−1}, e^{−3000}.
    CHECK(result.members(0, 0) ==
          Approx((1.0 + 2.0 * std::exp(-1.0)) / (1.0 + std::exp(-1.0))).epsilon(1e-14));
    CHECK(result.members(0, 1) == Approx(3.0).epsilon(1e-14));
    const Eigen::VectorXd ess = effective_sample_sizes(dv, 1.0);
    CHECK(ess[1] == Approx(1.0).epsilon(1e-14));
}

TEST_CASE("potential deviations: from the member mean, or from a given sampling potential", "[reweighting]") {
    Eigen::MatrixXd v(2, 3);
    v << -1100.0, -1100.003, -1099.997, 5.0, 6.0, 10.0;
    const Eigen::MatrixXd dv = potential_deviations(v);
    CHECK(dv.rowwise().sum().cwiseAbs().maxCoeff() < 1e-12);
    CHECK(dv(0, 1) == Approx(-0.003).epsilon(1e-9));
    CHECK(dv(1, 2) == Approx(3.0).epsilon(1e-15));
    const Eigen::MatrixXd given = potential_deviations(v, Eigen::Vector2d(-1100.0, 6.0));
    CHECK(given(1, 0) == -1.0);
    CHECK(given(0, 0) == 0.0);
    CHECK_THROWS_AS(potential_deviations(v, Eigen::Vector3d::Zero()), chorus::InputError);
}

TEST_CASE("bead averaging: consecutive records and per-bead matrices agree with the formula",
          "[reweighting]") {
    // V_i(frame f, bead k) = 10 f + k + 100 i, P = 4: the bead average is 10 f + 1.5 + 100 i.
    constexpr int beads = 4;
    constexpr int frames = 3;
    Eigen::MatrixXd records(frames * beads, 2);
    std::vector<Eigen::MatrixXd> per_bead(beads, Eigen::MatrixXd(frames, 2));
    for (int f = 0; f < frames; ++f) {
        for (int k = 0; k < beads; ++k) {
            for (int i = 0; i < 2; ++i) {
                records(f * beads + k, i) = 10.0 * f + k + 100.0 * i;
                per_bead[static_cast<std::size_t>(k)](f, i) = records(f * beads + k, i);
            }
        }
    }
    const Eigen::MatrixXd averaged = bead_average(records, beads);
    REQUIRE(averaged.rows() == frames);
    for (int f = 0; f < frames; ++f) {
        for (int i = 0; i < 2; ++i) {
            CHECK(averaged(f, i) == 10.0 * f + 1.5 + 100.0 * i);
        }
    }
    CHECK(bead_average(std::span<const Eigen::MatrixXd>(per_bead)) == averaged);
    // ΔV of the bead average is the bead average of ΔV (science.md §6): the order does not matter.
    CHECK(potential_deviations(averaged).isApprox(bead_average(potential_deviations(records), beads), 1e-14));
    CHECK_THROWS_AS(bead_average(records, 5), chorus::InputError);
    CHECK_THROWS_AS(bead_average(records, 0), chorus::InputError);
}

TEST_CASE("CEA and exact reweighting agree with i-PI's tool on its golden outputs", "[reweighting][golden]") {
    const Eigen::MatrixXd potentials = load_table("potentials.dat");  // Hartree, like golden_kt
    const Eigen::MatrixXd observables = load_table("observables.dat");
    const Eigen::MatrixXd dv = potential_deviations(potentials);
    check_against_ipi(reweight_cumulant(dv, observables, 1.0 / golden_kt), load_table("cea.ref"), 1e-10);
    // i-PI exponentiates in float128 without a shift, chorus in double after log-sum-exp.
    check_against_ipi(reweight_exact(dv, observables, 1.0 / golden_kt), load_table("direct.ref"), 1e-8);
}

TEST_CASE("the observable-committee decomposition follows Eqs. 26-28 (i-PI's, argument order fixed)",
          "[reweighting][golden]") {
    const Eigen::MatrixXd potentials = load_table("potentials.dat");
    const Eigen::MatrixXd models = load_table("observables_multi.dat");
    const auto reweighted = reweight_cumulant(potential_deviations(potentials), models, 1.0 / golden_kt);
    const auto ours = observable_committee_uncertainty(reweighted);
    const Eigen::MatrixXd fixed = load_table("multi.ref");  // mean, total, σ_a, σ_aV
    const Eigen::MatrixXd shipped = load_table("multi_ipi_swapped.ref");
    CHECK(ours.mean == Approx(fixed(0, 0)).epsilon(1e-12));
    CHECK(ours.total == Approx(fixed(0, 1)).epsilon(1e-10));
    CHECK(ours.sigma_a == Approx(fixed(0, 2)).epsilon(1e-12));
    CHECK(ours.sigma_av == Approx(fixed(0, 3)).epsilon(1e-10));
    // The swapped arguments change σ_aV (and so the total), not the mean or σ_a.
    CHECK(ours.mean == Approx(shipped(0, 0)).epsilon(1e-12));
    CHECK(ours.sigma_a == Approx(shipped(0, 2)).epsilon(1e-12));
    CHECK(std::abs(ours.sigma_av - shipped(0, 3)) > 0.1 * ours.sigma_av);

    // Eq. 26 is the ddof-1 variance of all N_a·M reweighted averages about their mean.
    const double n = static_cast<double>(reweighted.members.size());
    const double all = (reweighted.members.array() - reweighted.members.mean()).square().sum() / (n - 1.0);
    CHECK(ours.total * ours.total == Approx(all).epsilon(1e-10));
}

TEST_CASE("reweighting rejects inconsistent input with an InputError", "[reweighting]") {
    const Eigen::MatrixXd dv = Eigen::MatrixXd::Zero(5, 3);
    CHECK_THROWS_AS(reweight_cumulant(dv, Eigen::MatrixXd::Zero(4, 1), 1.0), chorus::InputError);
    CHECK_THROWS_AS(reweight_exact(dv, Eigen::MatrixXd::Zero(5, 1), 0.0), chorus::InputError);
    CHECK_THROWS_AS(reweight_exact(Eigen::MatrixXd::Zero(5, 1), Eigen::MatrixXd::Zero(5, 1), 1.0),
                    chorus::InputError);
    Eigen::MatrixXd bad = Eigen::MatrixXd::Zero(5, 1);
    bad(2, 0) = std::numeric_limits<double>::infinity();
    CHECK_THROWS_AS(reweight_cumulant(dv, bad, 1.0), chorus::InputError);
    const auto single_model = reweight_cumulant(dv, Eigen::MatrixXd::Zero(5, 1), 1.0);
    CHECK_THROWS_AS(observable_committee_uncertainty(single_model), chorus::InputError);
}
