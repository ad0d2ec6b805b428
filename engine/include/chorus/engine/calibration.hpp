#pragma once
// How well a committee's spread predicts its errors, and the maximum-likelihood rescaling α of
// that spread (science.md §5; Musil et al., JCTC 15, 906 (2019)).
//
// Inputs are flat lists of scalar samples: one residual r = y_ref − ȳ and one committee spread σ
// per sample (a force component, or an energy per structure). Units are whatever the caller's
// samples are in (eV/Å for force components, eV for energies); every statistic below is in those
// units, except the negative log-likelihood, which is in nats and depends on them through log σ.
//
// Samples with σ = 0 (all members agree exactly, e.g. a symmetry-constrained force component)
// carry no information about calibration and would make r²/σ² and log σ infinite: they are
// skipped everywhere and counted in `zero_spread_count`.
#include <cstddef>
#include <span>
#include <vector>

namespace chorus::engine {

// One point of the error-vs-σ calibration curve: the samples whose σ falls in one quantile bin.
// A calibrated committee has rms_error ≈ rms_sigma in every bin.
struct CalibrationBin {
    std::size_t count = 0;
    double sigma_min = 0.0;  // σ range covered by the bin
    double sigma_max = 0.0;
    double rms_sigma = 0.0;
    double rms_error = 0.0;
};

struct UncertaintyStatistics {
    std::size_t count = 0;              // samples with σ > 0; every statistic below uses only these
    std::size_t zero_spread_count = 0;  // samples skipped because σ = 0
    double rmse = 0.0;                  // √⟨r²⟩
    double mean_sigma = 0.0;            // ⟨σ⟩
    double rms_sigma = 0.0;             // √⟨σ²⟩; equals rmse on average for a calibrated committee
    // Mean Gaussian negative log-likelihood per sample, ⟨½ log(2πσ²) + r²/(2σ²)⟩, in nats.
    double mean_negative_log_likelihood = 0.0;
    double within_one_sigma = 0.0;  // fraction of samples with |r| ≤ σ  (Gaussian ideal 0.683)
    double within_two_sigma = 0.0;  // fraction of samples with |r| ≤ 2σ (Gaussian ideal 0.954)
    // Samples sorted by σ and split into equally populated bins, smallest σ first.
    std::vector<CalibrationBin> curve;
};

// Statistics of residuals r against predicted uncertainties σ (same length, σ ≥ 0, all finite).
// With no sample of nonzero σ, `count` is 0 and every statistic is 0. `bins` is the number of
// quantile bins of the calibration curve (fewer when there are fewer samples).
// Throws InputError for mismatched lengths, non-finite values or negative σ.
UncertaintyStatistics uncertainty_statistics(std::span<const double> residuals,
                                             std::span<const double> sigmas, std::size_t bins = 10);

// The α used instead when the maximum-likelihood α² is not positive. Any small positive value
// keeps σ > 0 (finite likelihoods, a working weighted baseline); 0.01 makes the clamp visible in
// every number it touches rather than pretending to be a fit. The caller must warn.
inline constexpr double clamped_calibration_alpha = 0.01;

struct CalibrationReport {
    std::size_t members = 0;
    double mean_squared_z = 0.0;   // ⟨r²/σ²⟩ over samples with σ > 0, before calibration
    double alpha_squared = 0.0;    // the raw maximum-likelihood value, possibly ≤ 0
    double alpha = 1.0;            // √alpha_squared, or clamped_calibration_alpha when clamped
    bool clamped = false;          // α² ≤ 0: the spread is far larger than the errors; warn
    UncertaintyStatistics before;  // with the uncalibrated spreads σ
    UncertaintyStatistics after;   // with α σ
};

// Maximum-likelihood calibration of a committee of M members on validation samples:
//   α² = −1/M + (M−3)/(M−1) · ⟨r²/σ²⟩,
// where σ is the uncalibrated member spread with ddof 1. The formula treats the members as M
// draws from the predictive distribution, so it needs M > 3 (E[1/σ²] diverges otherwise).
// Throws InputError for M ≤ 3, for inputs uncertainty_statistics rejects, and when no sample has
// σ > 0.
CalibrationReport calibrate_alpha(std::span<const double> residuals, std::span<const double> member_spreads,
                                  std::size_t members, std::size_t bins = 10);

}  // namespace chorus::engine
