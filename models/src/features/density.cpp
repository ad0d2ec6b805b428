#include "chorus/models/features/density.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "chorus/error.hpp"

namespace chorus::models::features {
namespace {

void check_size(std::size_t have, std::size_t need, const char* what) {
    if (have < need) {
        throw InputError("density expansion: the " + std::string(what) + " buffer holds " +
                         std::to_string(have) + " values but " + std::to_string(need) + " are needed");
    }
}

}  // namespace

DensityExpansion::DensityExpansion(const SplinedRadialBasis& radial, int species)
    : radial_(&radial), harmonics_(radial.max_angular()), species_(species) {
    if (species < 1) {
        throw ConfigError("density expansion: " + std::to_string(species) + " species; need at least one");
    }
    for (int l = 0; l <= radial.max_angular(); ++l) {
        block_offsets_.push_back(species_size_);
        species_size_ += static_cast<std::size_t>(radial.n_max(l) * (2 * l + 1));
    }
}

DensityWorkspace DensityExpansion::workspace() const {
    return {std::vector<double>(harmonics_.size()), std::vector<double>(3 * harmonics_.size()),
            std::vector<double>(radial_->size()), std::vector<double>(radial_->size())};
}

void DensityExpansion::compute(std::span<const std::array<double, 3>> neighbours,
                               std::span<const int> species, std::span<double> density,
                               DensityWorkspace& workspace) const {
    accumulate<false>(neighbours, species, density, {}, workspace);
}

void DensityExpansion::compute_with_gradients(std::span<const std::array<double, 3>> neighbours,
                                              std::span<const int> species, std::span<double> density,
                                              std::span<double> gradients,
                                              DensityWorkspace& workspace) const {
    check_size(gradients.size(), neighbours.size() * 3 * species_size_, "gradients");
    accumulate<true>(neighbours, species, density, gradients, workspace);
}

template <bool WithGradients>
void DensityExpansion::accumulate(std::span<const std::array<double, 3>> neighbours,
                                  std::span<const int> species, std::span<double> density,
                                  std::span<double> gradients, DensityWorkspace& workspace) const {
    if (species.size() != neighbours.size()) {
        throw InputError("density expansion: " + std::to_string(neighbours.size()) +
                         " neighbour vectors but " + std::to_string(species.size()) +
                         " species; pass one species per neighbour");
    }
    check_size(density.size(), size(), "density");
    check_size(workspace.harmonics.size(), harmonics_.size(), "workspace harmonics");
    check_size(workspace.radial.size(), radial_->size(), "workspace radial");
    std::fill_n(density.begin(), size(), 0.0);

    const std::size_t lm_count = harmonics_.size();
    const double* const y = workspace.harmonics.data();
    const double* const dy = workspace.harmonic_gradients.data();
    const double* const g = workspace.radial.data();
    const double* const dg = workspace.radial_derivatives.data();
    const int l_max = harmonics_.l_max();

    for (std::size_t j = 0; j < neighbours.size(); ++j) {
        const auto& r = neighbours[j];
        const int a = species[j];
        if (a < 0 || a >= species_) {
            throw InputError("density expansion: neighbour " + std::to_string(j) + " has species index " +
                             std::to_string(a) + ", outside [0, " + std::to_string(species_) +
                             "); map atomic numbers to the model's species first");
        }
        const double distance = std::sqrt(r[0] * r[0] + r[1] * r[1] + r[2] * r[2]);
        if (!(distance > 0.0)) {
            throw InputError("density expansion: neighbour " + std::to_string(j) +
                             " sits on the centre (r = 0); two atoms overlap");
        }
        double* gradient_block = nullptr;
        if constexpr (WithGradients) {
            gradient_block = gradients.data() + j * 3 * species_size_;
            std::fill_n(gradient_block, 3 * species_size_, 0.0);
        }
        if (distance >= radial_->cutoff()) {
            continue;
        }
        radial_->compute(distance, workspace.radial, workspace.radial_derivatives);
        if constexpr (WithGradients) {
            harmonics_.compute_with_gradients(r, workspace.harmonics, workspace.harmonic_gradients);
        } else {
            harmonics_.compute(r, workspace.harmonics);
        }

        double* const c = density.data() + static_cast<std::size_t>(a) * species_size_;
        const std::array<double, 3> direction{r[0] / distance, r[1] / distance, r[2] / distance};
        for (int l = 0; l <= l_max; ++l) {
            const int width = 2 * l + 1;
            const double* const y_l = y + lm_index(l, -l);
            const std::size_t radial_offset = radial_->offset(l);
            for (int n = 0; n < radial_->n_max(l); ++n) {
                const double g_nl = g[radial_offset + static_cast<std::size_t>(n)];
                const std::size_t row = block_offset(l) + static_cast<std::size_t>(n * width);
                double* const c_nl = c + row;
                for (int m = 0; m < width; ++m) {
                    c_nl[m] += g_nl * y_l[m];
                }
                if constexpr (WithGradients) {
                    // ∂(g Y)/∂r_d = g'(r) r̂_d Y + g ∂Y/∂r_d
                    const double dg_nl = dg[radial_offset + static_cast<std::size_t>(n)];
                    for (int d = 0; d < 3; ++d) {
                        const double radial_part = dg_nl * direction[static_cast<std::size_t>(d)];
                        const double* const dy_l =
                            dy + static_cast<std::size_t>(d) * lm_count + lm_index(l, -l);
                        double* const out =
                            gradient_block + static_cast<std::size_t>(d) * species_size_ + row;
                        for (int m = 0; m < width; ++m) {
                            out[m] = radial_part * y_l[m] + g_nl * dy_l[m];
                        }
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
PowerSpectrum::PowerSpectrum(const DensityExpansion& expansion) : expansion_(&expansion) {
    for (int l = 0; l <= expansion.l_max(); ++l) {
        block_offsets_.push_back(pair_size_);
        pair_size_ += static_cast<std::size_t>(expansion.n_max(l) * expansion.n_max(l));
    }
}

std::size_t PowerSpectrum::pairs() const {
    const auto s = static_cast<std::size_t>(expansion_->species());
    return s * (s + 1) / 2;
}

std::size_t PowerSpectrum::pair_index(int a, int b) const {
    // rows a = 0 … of the upper triangle, row a holding species − a pairs
    const auto s = static_cast<std::size_t>(expansion_->species());
    const auto ua = static_cast<std::size_t>(a);
    return ua * (2 * s - ua + 1) / 2 + static_cast<std::size_t>(b - a);
}

void PowerSpectrum::compute(std::span<const double> density, std::span<double> features) const {
    check_size(density.size(), expansion_->size(), "density");
    check_size(features.size(), size(), "power spectrum");
    const int species = expansion_->species();
    const std::size_t stride = expansion_->species_size();
    for (int a = 0; a < species; ++a) {
        for (int b = a; b < species; ++b) {
            double* const p = features.data() + pair_index(a, b) * pair_size_;
            const double* const c_a = density.data() + static_cast<std::size_t>(a) * stride;
            const double* const c_b = density.data() + static_cast<std::size_t>(b) * stride;
            for (int l = 0; l <= expansion_->l_max(); ++l) {
                const int width = 2 * l + 1;
                const int n_max = expansion_->n_max(l);
                const double* const block_a = c_a + expansion_->block_offset(l);
                const double* const block_b = c_b + expansion_->block_offset(l);
                double* const p_l = p + block_offset(l);
                for (int n = 0; n < n_max; ++n) {
                    for (int k = 0; k < n_max; ++k) {
                        double sum = 0.0;
                        for (int m = 0; m < width; ++m) {
                            sum += block_a[n * width + m] * block_b[k * width + m];
                        }
                        p_l[n * n_max + k] = sum;
                    }
                }
            }
        }
    }
}

}  // namespace chorus::models::features
