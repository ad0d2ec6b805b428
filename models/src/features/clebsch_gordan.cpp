#include "chorus/models/features/clebsch_gordan.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <string>

#include "chorus/error.hpp"
#include "chorus/models/features/spherical_harmonics.hpp"

namespace chorus::models::features {
namespace {

using Complex = std::complex<long double>;

long double factorial(int n) {
    long double result = 1.0L;
    for (int k = 2; k <= n; ++k) {
        result *= k;
    }
    return result;
}

// How many real indices (±m) one complex index m feeds: U^l_{μm} ≠ 0 only for μ = ±m.
int signs(int m) { return m == 0 ? 1 : 2; }

// Below this a real-basis coefficient is a cancellation residue of exact zero.
constexpr double structural_zero = 1e-14;

// Entry U^l_{μ m} of the complex → real change of basis (header comment), m and μ in −l…l.
Complex real_from_complex(int mu, int m) {
    const long double inv_sqrt2 = 1.0L / std::sqrt(2.0L);
    const long double parity = (std::abs(m) % 2 == 0) ? 1.0L : -1.0L;  // (−1)^m
    if (mu == 0) {
        return m == 0 ? Complex(1.0L) : Complex(0.0L);
    }
    if (mu > 0) {
        if (m == mu) {
            return {parity * inv_sqrt2, 0.0L};
        }
        if (m == -mu) {
            return {inv_sqrt2, 0.0L};
        }
        return 0.0L;
    }
    if (m == mu) {  // μ = −|m| < 0, the sin-like row
        return {0.0L, inv_sqrt2};
    }
    if (m == -mu) {
        return {0.0L, -parity * inv_sqrt2};
    }
    return 0.0L;
}

std::string triple_text(int l1, int l2, int lambda) {
    return "(l1, l2, λ) = (" + std::to_string(l1) + ", " + std::to_string(l2) + ", " +
           std::to_string(lambda) + ")";
}

}  // namespace

double complex_clebsch_gordan(int l1, int m1, int l2, int m2, int l, int m) {
    if (m != m1 + m2 || l < std::abs(l1 - l2) || l > l1 + l2 || std::abs(m1) > l1 || std::abs(m2) > l2 ||
        std::abs(m) > l) {
        return 0.0;
    }
    // Racah's formula. Long double keeps the alternating sum accurate well beyond the l ≈ 12 we need.
    const long double prefactor =
        std::sqrt((2.0L * l + 1.0L) * factorial(l + l1 - l2) * factorial(l - l1 + l2) *
                  factorial(l1 + l2 - l) / factorial(l1 + l2 + l + 1)) *
        std::sqrt(factorial(l + m) * factorial(l - m) * factorial(l1 - m1) * factorial(l1 + m1) *
                  factorial(l2 - m2) * factorial(l2 + m2));
    const int k_min = std::max({0, l2 - l - m1, l1 - l + m2});
    const int k_max = std::min({l1 + l2 - l, l1 - m1, l2 + m2});
    long double sum = 0.0L;
    for (int k = k_min; k <= k_max; ++k) {
        const long double term =
            1.0L / (factorial(k) * factorial(l1 + l2 - l - k) * factorial(l1 - m1 - k) *
                    factorial(l2 + m2 - k) * factorial(l - l2 + m1 + k) * factorial(l - l1 - m2 + k));
        sum += (k % 2 == 0) ? term : -term;
    }
    return static_cast<double>(prefactor * sum);
}

ClebschGordan::ClebschGordan(int l_max, int lambda_max)
    : l_max_(l_max), lambda_max_(lambda_max < 0 ? 2 * l_max : lambda_max) {
    if (l_max < 0 || l_max > max_supported_l) {
        throw ConfigError("Clebsch–Gordan: l_max = " + std::to_string(l_max) + " is outside [0, " +
                          std::to_string(max_supported_l) + "]");
    }
    lambda_max_ = std::min(lambda_max_, 2 * l_max_);
    const auto triples = static_cast<std::size_t>((l_max_ + 1) * (l_max_ + 1) * (lambda_max_ + 1));
    offsets_.assign(triples + 1, 0);

    std::vector<Complex> real;  // dense (μ, m1, m2) scratch of one triple, reused
    for (int l1 = 0; l1 <= l_max_; ++l1) {
        for (int l2 = 0; l2 <= l_max_; ++l2) {
            for (int lambda = 0; lambda <= lambda_max_; ++lambda) {
                const std::size_t index = triple_index(l1, l2, lambda);
                offsets_[index] = coefficients_.size();
                if (lambda < std::abs(l1 - l2) || lambda > l1 + l2) {
                    continue;
                }
                const int d1 = 2 * l1 + 1, d2 = 2 * l2 + 1, d = 2 * lambda + 1;
                real.assign(static_cast<std::size_t>(d * d1 * d2), Complex(0.0L));
                // Each U row has at most two entries, at ±m: walk the non-zero complex
                // coefficients and scatter them into the ≤ 8 real (μ, m1, m2) they feed.
                for (int p1 = -l1; p1 <= l1; ++p1) {
                    for (int p2 = -l2; p2 <= l2; ++p2) {
                        const int big_m = p1 + p2;
                        if (std::abs(big_m) > lambda) {
                            continue;
                        }
                        const long double complex_value =
                            complex_clebsch_gordan(l1, p1, l2, p2, lambda, big_m);
                        if (complex_value == 0.0L) {
                            continue;
                        }
                        for (int s_mu = 0; s_mu < signs(big_m); ++s_mu) {
                            const int mu = s_mu == 0 ? big_m : -big_m;
                            for (int s1 = 0; s1 < signs(p1); ++s1) {
                                const int m1 = s1 == 0 ? p1 : -p1;
                                for (int s2 = 0; s2 < signs(p2); ++s2) {
                                    const int m2 = s2 == 0 ? p2 : -p2;
                                    const Complex u = real_from_complex(mu, big_m) *
                                                      std::conj(real_from_complex(m1, p1)) *
                                                      std::conj(real_from_complex(m2, p2));
                                    real[static_cast<std::size_t>(((mu + lambda) * d1 + m1 + l1) * d2 + m2 +
                                                                  l2)] += u * complex_value;
                                }
                            }
                        }
                    }
                }
                const bool imaginary = stores_imaginary_part(l1, l2, lambda);
                for (int mu = 0; mu < d; ++mu) {
                    for (int m1 = 0; m1 < d1; ++m1) {
                        for (int m2 = 0; m2 < d2; ++m2) {
                            const Complex c = real[static_cast<std::size_t>((mu * d1 + m1) * d2 + m2)];
                            const double kept = static_cast<double>(imaginary ? c.imag() : c.real());
                            const double dropped = static_cast<double>(imaginary ? c.real() : c.imag());
                            if (std::abs(dropped) > 1e-12) {
                                throw Error(
                                    "Clebsch–Gordan: coefficient of " + triple_text(l1, l2, lambda) +
                                    " is not purely real/imaginary; the complex→real transform is wrong");
                            }
                            if (std::abs(kept) > structural_zero) {
                                coefficients_.push_back({static_cast<std::uint16_t>(m1),
                                                         static_cast<std::uint16_t>(m2),
                                                         static_cast<std::uint16_t>(mu), kept});
                            }
                        }
                    }
                }
            }
        }
    }
    offsets_[triples] = coefficients_.size();
}

std::size_t ClebschGordan::triple_index(int l1, int l2, int lambda) const {
    return static_cast<std::size_t>((l1 * (l_max_ + 1) + l2) * (lambda_max_ + 1) + lambda);
}

void ClebschGordan::check_triple(int l1, int l2, int lambda) const {
    if (l1 < 0 || l2 < 0 || lambda < 0 || l1 > l_max_ || l2 > l_max_ || lambda > lambda_max_) {
        throw InputError("Clebsch–Gordan: " + triple_text(l1, l2, lambda) +
                         " is outside the table (l_max = " + std::to_string(l_max_) + ", λ_max = " +
                         std::to_string(lambda_max_) + "); build the table with larger orders");
    }
}

std::span<const CouplingCoefficient> ClebschGordan::coefficients(int l1, int l2, int lambda) const {
    check_triple(l1, l2, lambda);
    const std::size_t index = triple_index(l1, l2, lambda);
    return {coefficients_.data() + offsets_[index], coefficients_.data() + offsets_[index + 1]};
}

void ClebschGordan::couple(int l1, int l2, int lambda, std::span<const double> a, std::span<const double> b,
                           std::span<double> out) const {
    const auto entries = coefficients(l1, l2, lambda);
    if (a.size() != static_cast<std::size_t>(2 * l1 + 1) ||
        b.size() != static_cast<std::size_t>(2 * l2 + 1) ||
        out.size() != static_cast<std::size_t>(2 * lambda + 1)) {
        throw InputError("Clebsch–Gordan: blocks of sizes " + std::to_string(a.size()) + ", " +
                         std::to_string(b.size()) + " → " + std::to_string(out.size()) + " do not fit " +
                         triple_text(l1, l2, lambda) + "; they must have 2l+1 entries each");
    }
    std::fill(out.begin(), out.end(), 0.0);
    for (const auto& c : entries) {
        out[c.mu] += c.value * a[c.m1] * b[c.m2];
    }
}

EquivariantBlock ClebschGordan::couple(int l1, int l2, int lambda, const EquivariantBlock& a,
                                       const EquivariantBlock& b) const {
    const auto entries = coefficients(l1, l2, lambda);
    if (a.rows() != 2 * l1 + 1 || b.rows() != 2 * l2 + 1) {
        throw InputError("Clebsch–Gordan: blocks with " + std::to_string(a.rows()) + " and " +
                         std::to_string(b.rows()) + " rows do not fit " + triple_text(l1, l2, lambda) +
                         "; rows must be 2l+1");
    }
    const Eigen::Index p = a.cols();
    const Eigen::Index q = b.cols();
    EquivariantBlock out = EquivariantBlock::Zero(2 * lambda + 1, p * q);
    for (const auto& c : entries) {
        // out(μ, i·q + j) += C · a(m1, i) · b(m2, j): a scaled outer product, row by row.
        for (Eigen::Index i = 0; i < p; ++i) {
            out.row(c.mu).segment(i * q, q) += (c.value * a(c.m1, i)) * b.row(c.m2);
        }
    }
    return out;
}

}  // namespace chorus::models::features
