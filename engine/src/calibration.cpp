#include "chorus/engine/calibration.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <sstream>
#include <string>

#include "chorus/error.hpp"

namespace chorus::engine {

namespace {

struct Sample {
    double residual;
    double sigma;
};

std::string describe_value(double value) {
    std::ostringstream text;
    text.precision(17);
    text << value;
    return text.str();
}

// The samples with σ > 0, after checking every input; counts the σ = 0 ones.
std::vector<Sample> usable_samples(std::span<const double> residuals, std::span<const double> sigmas,
                                   std::size_t& zero_spread_count) {
    if (residuals.size() != sigmas.size()) {
        throw InputError("uncertainty statistics need one σ per residual, got " +
                         std::to_string(residuals.size()) + " residuals and " +
                         std::to_string(sigmas.size()) + " σ values; pass matching lists");
    }
    std::vector<Sample> samples;
    samples.reserve(residuals.size());
    zero_spread_count = 0;
    for (std::size_t i = 0; i < residuals.size(); ++i) {
        if (!std::isfinite(residuals[i])) {
            throw InputError("residual " + std::to_string(i) + " is " + describe_value(residuals[i]) +
                             "; remove non-finite predictions or references before calibrating");
        }
        if (!std::isfinite(sigmas[i]) || sigmas[i] < 0.0) {
            throw InputError("σ of sample " + std::to_string(i) + " is " + describe_value(sigmas[i]) +
                             "; a committee spread must be finite and non-negative");
        }
        if (sigmas[i] == 0.0) {
            ++zero_spread_count;
            continue;
        }
        samples.push_back({residuals[i], sigmas[i]});
    }
    return samples;
}

std::vector<CalibrationBin> calibration_curve(std::vector<Sample> samples, std::size_t bins) {
    const std::size_t n = samples.size();
    bins = std::min(bins, n);
    std::vector<CalibrationBin> curve;
    if (bins == 0) {
        return curve;
    }
    std::sort(samples.begin(), samples.end(),
              [](const Sample& a, const Sample& b) { return a.sigma < b.sigma; });
    curve.reserve(bins);
    for (std::size_t b = 0; b < bins; ++b) {
        const std::size_t begin = b * n / bins;
        const std::size_t end = (b + 1) * n / bins;
        CalibrationBin bin;
        bin.count = end - begin;
        bin.sigma_min = samples[begin].sigma;
        bin.sigma_max = samples[end - 1].sigma;
        double sigma_squared = 0.0;
        double error_squared = 0.0;
        for (std::size_t i = begin; i < end; ++i) {
            sigma_squared += samples[i].sigma * samples[i].sigma;
            error_squared += samples[i].residual * samples[i].residual;
        }
        bin.rms_sigma = std::sqrt(sigma_squared / static_cast<double>(bin.count));
        bin.rms_error = std::sqrt(error_squared / static_cast<double>(bin.count));
        curve.push_back(bin);
    }
    return curve;
}

UncertaintyStatistics statistics_of(const std::vector<Sample>& samples, std::size_t zero_spread_count,
                                    std::size_t bins) {
    UncertaintyStatistics stats;
    stats.count = samples.size();
    stats.zero_spread_count = zero_spread_count;
    if (samples.empty()) {
        return stats;
    }
    const double log_two_pi = std::log(2.0 * std::numbers::pi);
    double error_squared = 0.0;
    double sigma_sum = 0.0;
    double sigma_squared = 0.0;
    double nll = 0.0;
    std::size_t within_one = 0;
    std::size_t within_two = 0;
    for (const Sample& s : samples) {
        const double r2 = s.residual * s.residual;
        const double s2 = s.sigma * s.sigma;
        error_squared += r2;
        sigma_sum += s.sigma;
        sigma_squared += s2;
        nll += 0.5 * (log_two_pi + std::log(s2)) + r2 / (2.0 * s2);
        const double error = std::abs(s.residual);
        within_one += error <= s.sigma ? 1 : 0;
        within_two += error <= 2.0 * s.sigma ? 1 : 0;
    }
    const auto n = static_cast<double>(samples.size());
    stats.rmse = std::sqrt(error_squared / n);
    stats.mean_sigma = sigma_sum / n;
    stats.rms_sigma = std::sqrt(sigma_squared / n);
    stats.mean_negative_log_likelihood = nll / n;
    stats.within_one_sigma = static_cast<double>(within_one) / n;
    stats.within_two_sigma = static_cast<double>(within_two) / n;
    stats.curve = calibration_curve(samples, bins);
    return stats;
}

}  // namespace

UncertaintyStatistics uncertainty_statistics(std::span<const double> residuals,
                                             std::span<const double> sigmas, std::size_t bins) {
    std::size_t zero_spread_count = 0;
    const std::vector<Sample> samples = usable_samples(residuals, sigmas, zero_spread_count);
    return statistics_of(samples, zero_spread_count, bins);
}

CalibrationReport calibrate_alpha(std::span<const double> residuals, std::span<const double> member_spreads,
                                  std::size_t members, std::size_t bins) {
    if (members <= 3) {
        throw InputError(
            "maximum-likelihood calibration needs a committee of more than 3 members "
            "(its α² has a factor M − 3), got M = " +
            std::to_string(members) + "; train at least 4 members");
    }
    std::size_t zero_spread_count = 0;
    std::vector<Sample> samples = usable_samples(residuals, member_spreads, zero_spread_count);
    if (samples.empty()) {
        throw InputError("cannot calibrate on " + std::to_string(residuals.size()) +
                         " samples: none has a nonzero committee spread; use validation samples "
                         "on which the members disagree");
    }

    CalibrationReport report;
    report.members = members;
    double z_squared = 0.0;
    for (const Sample& s : samples) {
        z_squared += (s.residual / s.sigma) * (s.residual / s.sigma);
    }
    report.mean_squared_z = z_squared / static_cast<double>(samples.size());
    const auto m = static_cast<double>(members);
    report.alpha_squared = -1.0 / m + (m - 3.0) / (m - 1.0) * report.mean_squared_z;
    report.clamped = !(report.alpha_squared > 0.0);
    report.alpha = report.clamped ? clamped_calibration_alpha : std::sqrt(report.alpha_squared);

    report.before = statistics_of(samples, zero_spread_count, bins);
    for (Sample& s : samples) {
        s.sigma *= report.alpha;
    }
    report.after = statistics_of(samples, zero_spread_count, bins);
    return report;
}

}  // namespace chorus::engine
