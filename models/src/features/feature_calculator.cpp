#include "chorus/models/features/feature_calculator.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <span>
#include <string>

#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include "bispectrum_linear.hpp"
#include "centre_terms.hpp"
#include "chorus/engine/elements.hpp"
#include "chorus/engine/neighbour_list.hpp"
#include "chorus/error.hpp"
#include "correlation_kernels.hpp"
#include "equivariant_adjoint.hpp"
#include "feature_layout.hpp"

namespace chorus::models::features {

using detail::FeatureLayout;
using detail::KernelContext;
using detail::PairTerms;

struct detail::FeatureTables {
    explicit FeatureTables(const FeatureSettings& s)
        : layout(s),
          basis(make_radial_functions(radial_basis_settings(s))),
          cutoff(s.cutoff, s.cutoff_width),
          radial(*basis, cutoff, s.spline_accuracy),
          harmonics(layout.l_max),
          cg(layout.l_max),
          context{layout, radial, cg} {
        if (s.lambda_soap) {
            for (int lambda = 0; lambda <= 2 * s.lambda_soap->l_max; ++lambda) {
                equivariant.push_back(layout.equivariant(s, lambda));
            }
        }
    }

    FeatureLayout layout;
    std::unique_ptr<RadialFunctions> basis;
    CosineCutoff cutoff;
    SplinedRadialBasis radial;
    SphericalHarmonics harmonics;
    ClebschGordan cg;
    KernelContext context;
    std::vector<std::vector<detail::EquivariantEntry>> equivariant;  // λ-SOAP columns, per λ
};

namespace detail {

// Per-thread scratch: the pair terms of the current centre and one centre's worth of everything.
// `terms` serves the local orders (component-major, vectorised over neighbours); the per-pair
// vectors below serve [1←1] and the design matrix.
struct ThreadScratch {
    CentreTerms terms;
    std::vector<double> harmonics, harmonic_gradients, radial, radial_derivatives;  // per neighbour
    std::vector<double> density, adjoint, features, local, tangent, bond_adjoint;
    Eigen::Matrix3Xd forces;
    Eigen::Matrix3d virial = Eigen::Matrix3d::Zero();
    double energy = 0.0;
    // Committee path (compute_linear_committee): per member k, the adjoint of the current centre
    // (k·density_size), its pair gradients (3k·stride) and the accumulators.
    std::vector<double> member_adjoints, member_pair_gradients;
    // ν = 3 (bispectrum_linear_adjoint): each member's dense weights and adjoint, and its scratch.
    std::vector<const double*> member_nu3_weights;
    std::vector<double*> member_adjoint_rows;
    std::vector<double> nu3_scratch;
    std::vector<Eigen::Matrix3Xd> member_forces;
    std::vector<Eigen::Matrix3d> member_virials;
    std::vector<double> member_energies;
    std::vector<double> channel_sums;  // S × F: Σ X(i) per species channel, when asked for
};

}  // namespace detail

using detail::ThreadScratch;

// Verlet skin of the workspace's neighbour list (Å): while no atom has moved more than half of it
// since the last full search, a call only re-measures the candidates (a few µs per hundred atoms
// instead of a cell search). 0.6 Å lets MD steps and most bead-to-bead jumps reuse the list and
// costs 1.4× the candidates ((5.6/5)³ at r_c = 5 Å) when a search does happen (e.g. NPT steps).
constexpr double neighbour_skin = 0.6;

struct detail::WorkspaceState {
    explicit WorkspaceState(double cutoff) : neighbours(cutoff, neighbour_skin) {}

    engine::NeighbourList neighbours;
    std::vector<int> channels;        // species channel of every atom
    std::vector<double> density;      // N × density_size
    std::vector<double> gradient;     // N × density_size, ∂E/∂c (with [1←1] only)
    std::vector<double> messages;     // N × message size ([1←1] only)
    std::vector<double> dmessages;    // N × message size, ∂E/∂M
    std::vector<double> weight_rows;  // S × F, row-major copy of linear weights
    std::vector<double> linear;       // S × linear_matrices_size: the ν = 2 weights as matrices
    std::vector<double> unit, zero;   // F each: design columns of [1←1]
    FeatureMatrix features;           // scratch for design and linear paths
    std::size_t atoms = 0;
    bool densities_ready = false;
    int equivariant_lambda = -1;  // λ of the last compute_equivariant, −1 after any other call
    tbb::enumerable_thread_specific<ThreadScratch> threads;
};

FeatureWorkspace::FeatureWorkspace(std::unique_ptr<detail::WorkspaceState> state)
    : state_(std::move(state)) {}
FeatureWorkspace::FeatureWorkspace(FeatureWorkspace&&) noexcept = default;
FeatureWorkspace& FeatureWorkspace::operator=(FeatureWorkspace&&) noexcept = default;
FeatureWorkspace::~FeatureWorkspace() = default;

namespace {

using State = detail::WorkspaceState;
using Tables = detail::FeatureTables;

template <typename T>
void grow(std::vector<T>& buffer, std::size_t size) {
    if (buffer.size() < size) {
        buffer.resize(size);
    }
}

// Y, ∇Y, g, g' of every neighbour of one centre, kept in the thread's scratch.
void evaluate_pairs(const Tables& t, std::span<const engine::Neighbour> neighbours, ThreadScratch& s,
                    bool gradients, std::size_t centre) {
    const std::size_t lm = t.harmonics.size();
    const std::size_t nr = t.radial.size();
    const std::size_t count = neighbours.size();
    grow(s.harmonics, count * lm);
    grow(s.radial, count * nr);
    grow(s.radial_derivatives, count * nr);
    if (gradients) {
        grow(s.harmonic_gradients, count * 3 * lm);
    }
    for (std::size_t j = 0; j < count; ++j) {
        const auto& neighbour = neighbours[j];
        if (!(neighbour.distance > 0.0)) {
            throw InputError("features: atoms " + std::to_string(centre) + " and " +
                             std::to_string(neighbour.index) +
                             " sit on top of each other (distance 0); fix the structure");
        }
        const std::array<double, 3> r{neighbour.vector[0], neighbour.vector[1], neighbour.vector[2]};
        const std::span<double> y(s.harmonics.data() + j * lm, lm);
        if (gradients) {
            t.harmonics.compute_with_gradients(r, y, {s.harmonic_gradients.data() + j * 3 * lm, 3 * lm});
        } else {
            t.harmonics.compute(r, y);
        }
        t.radial.compute(neighbour.distance, {s.radial.data() + j * nr, nr},
                         {s.radial_derivatives.data() + j * nr, nr});
    }
}

PairTerms pair_terms(const Tables& t, const ThreadScratch& s, const engine::Neighbour& neighbour,
                     std::size_t j, bool gradients) {
    const std::size_t lm = t.harmonics.size();
    const std::size_t nr = t.radial.size();
    const double inverse = 1.0 / neighbour.distance;
    return {s.harmonics.data() + j * lm,
            gradients ? s.harmonic_gradients.data() + j * 3 * lm : nullptr,
            s.radial.data() + j * nr,
            s.radial_derivatives.data() + j * nr,
            {neighbour.vector[0] * inverse, neighbour.vector[1] * inverse, neighbour.vector[2] * inverse},
            neighbour.distance};
}

// gradient = ∂E/∂r_ij: F_j −= it, F_i += it, W += r_ij ⊗ f_ij with f_ij = −gradient.
void scatter_pair(ThreadScratch& s, std::size_t i, const engine::Neighbour& neighbour,
                  const std::array<double, 3>& gradient) {
    const Eigen::Vector3d g(gradient[0], gradient[1], gradient[2]);
    s.forces.col(static_cast<Eigen::Index>(neighbour.index)) -= g;
    s.forces.col(static_cast<Eigen::Index>(i)) += g;
    s.virial.noalias() -= neighbour.vector * g.transpose();
}

// The pair gradients of one centre's slots (CentreTerms; gx[slot], gy = gx + stride, gz) into
// forces and virial, as scatter_pair.
void scatter_gradients(const detail::CentreTerms& terms, const double* gx, std::size_t i,
                       std::span<const engine::Neighbour> neighbours, Eigen::Matrix3Xd& forces,
                       Eigen::Matrix3d& virial_sum) {
    const double* const gy = gx + terms.stride;
    const double* const gz = gy + terms.stride;
    Eigen::Vector3d total = Eigen::Vector3d::Zero();
    Eigen::Matrix3d virial = Eigen::Matrix3d::Zero();
    for (std::size_t slot = 0; slot < terms.stride; ++slot) {
        const int source = terms.source[slot];
        if (source < 0) {
            continue;
        }
        const auto& neighbour = neighbours[static_cast<std::size_t>(source)];
        const Eigen::Vector3d g(gx[slot], gy[slot], gz[slot]);
        forces.col(static_cast<Eigen::Index>(neighbour.index)) -= g;
        total += g;
        virial.noalias() += neighbour.vector * g.transpose();
    }
    forces.col(static_cast<Eigen::Index>(i)) += total;
    virial_sum -= virial;
}

void scatter_centre(ThreadScratch& s, std::size_t i, std::span<const engine::Neighbour> neighbours) {
    scatter_gradients(s.terms, s.terms.pair_gradients.data(), i, neighbours, s.forces, s.virial);
}

void reset_member_accumulators(ThreadScratch& s, std::size_t members, std::size_t atoms) {
    s.member_forces.resize(members);
    s.member_virials.resize(members);
    for (std::size_t k = 0; k < members; ++k) {
        s.member_forces[k].setZero(3, static_cast<Eigen::Index>(atoms));
        s.member_virials[k].setZero();
    }
    s.member_energies.assign(members, 0.0);
}

// Sums the per-thread member accumulators into forces[k], virials[k] (and energies[k] when not
// null), skipping threads that took no part in this call (sized for another structure or committee).
void sum_member_accumulators(State& state, std::size_t members, std::size_t atoms,
                             std::span<Eigen::Matrix3Xd> forces, std::span<Eigen::Matrix3d> virials,
                             Eigen::VectorXd* energies) {
    for (std::size_t k = 0; k < members; ++k) {
        forces[k].setZero(3, static_cast<Eigen::Index>(atoms));
        virials[k].setZero();
    }
    for (auto& s : state.threads) {
        if (s.member_forces.size() != members ||
            s.member_forces.front().cols() != static_cast<Eigen::Index>(atoms)) {
            continue;
        }
        for (std::size_t k = 0; k < members; ++k) {
            forces[k] += s.member_forces[k];
            virials[k] += s.member_virials[k];
            if (energies != nullptr) {
                (*energies)[static_cast<Eigen::Index>(k)] += s.member_energies[k];
            }
        }
    }
}

// Per-thread channel sums (compute_linear*): zeroed at the start of a call for every thread that
// exists, and on first use for a thread new to the workspace.
void begin_channel_sums(State& state, std::size_t size) {
    for (auto& s : state.threads) {
        s.channel_sums.assign(size, 0.0);
    }
}

// The threads' sums (S × width each, row = channel) added up. With `invariant_sums` the rows hold
// accumulate_invariant_sums() accumulators, gathered here into feature order (S × F), followed by
// the sums of the ν = 3 features, in the dense layout of bispectrum_linear.hpp, when width exceeds
// invariant_sums_size.
void collect_channel_sums(State& state, const Tables& t, std::size_t width, bool invariant_sums,
                          Eigen::MatrixXd& sums) {
    const auto species = static_cast<Eigen::Index>(t.layout.species);
    FeatureMatrix total = FeatureMatrix::Zero(species, static_cast<Eigen::Index>(width));
    for (auto& s : state.threads) {
        if (s.channel_sums.size() == static_cast<std::size_t>(species) * width) {
            total += Eigen::Map<const FeatureMatrix>(s.channel_sums.data(), species,
                                                     static_cast<Eigen::Index>(width));
        }
    }
    if (!invariant_sums) {
        sums = total;
        return;
    }
    FeatureMatrix features = FeatureMatrix::Zero(species, static_cast<Eigen::Index>(t.layout.size));
    // Past the invariant sums, the ν = 3 features' own sums (compute_linear).
    const std::size_t invariant_width = detail::invariant_sums_size(t.layout);
    for (Eigen::Index channel = 0; channel < species; ++channel) {
        detail::invariant_sums_to_features(t.context, total.row(channel).data(),
                                           features.row(channel).data());
        if (width > invariant_width) {
            detail::bispectrum_dense_to_features(t.layout, total.row(channel).data() + invariant_width,
                                                 features.row(channel).data());
        }
    }
    sums = features;
}

void add_invariant_sums(const Tables& t, ThreadScratch& s, std::size_t size, std::size_t width,
                        std::size_t channel, const double* c) {
    if (s.channel_sums.size() != size) {
        s.channel_sums.assign(size, 0.0);
    }
    detail::accumulate_invariant_sums(t.context, c, s.channel_sums.data() + channel * width);
}

// Where a centre's ν = 3 features are summed (dense layout), after its channel's invariant sums
// (add_invariant_sums sizes the buffer first).
double* nu3_sums(ThreadScratch& s, std::size_t channel, std::size_t width, std::size_t invariant_width) {
    return s.channel_sums.data() + channel * width + invariant_width;
}

// Channel sums from a full feature matrix (the [1←1] paths, which form every X(i) anyway).
void channel_sums_of(const State& state, const FeatureMatrix& x, std::size_t species, Eigen::MatrixXd& sums) {
    sums.setZero(static_cast<Eigen::Index>(species), x.cols());
    for (std::size_t i = 0; i < state.atoms; ++i) {
        sums.row(state.channels[i]) += x.row(static_cast<Eigen::Index>(i));
    }
}

void reset_accumulators(State& state, std::size_t atoms) {
    for (auto& s : state.threads) {
        s.forces.setZero(3, static_cast<Eigen::Index>(atoms));
        s.virial.setZero();
        s.energy = 0.0;
    }
}

double collect_accumulators(State& state, Eigen::Matrix3Xd& forces, Eigen::Matrix3d& virial) {
    forces.setZero(3, static_cast<Eigen::Index>(state.atoms));
    virial.setZero();
    double energy = 0.0;
    for (auto& s : state.threads) {
        if (s.forces.cols() == forces.cols()) {
            forces += s.forces;
            virial += s.virial;
            energy += s.energy;
        }
    }
    return energy;
}

// First touch of a thread's scratch in this call: size it (allocates only when growing).
ThreadScratch& local_scratch(State& state, const Tables& t, std::size_t features) {
    ThreadScratch& s = state.threads.local();
    const std::size_t d = t.layout.density_size;
    grow(s.density, d);
    grow(s.adjoint, d);
    grow(s.tangent, d);
    grow(s.bond_adjoint, d);
    grow(s.features, features);
    grow(s.local, detail::local_scratch_size(t.layout));
    if (s.forces.cols() != static_cast<Eigen::Index>(state.atoms)) {
        s.forces.setZero(3, static_cast<Eigen::Index>(state.atoms));
        s.virial.setZero();
        s.energy = 0.0;
    }
    return s;
}

// Centres in the neighbour list's storage order (bin by bin): consecutive centres are close in
// space, so their neighbours' rows, densities and force columns are still in cache. Per-thread
// sums then add centres in that order, which is as deterministic as atom order.
template <typename Body>
void for_each_centre(const State& state, Body&& body) {
    const std::span<const int> order = state.neighbours.centre_order();
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, order.size()),
                      [&](const tbb::blocked_range<std::size_t>& range) {
                          for (std::size_t k = range.begin(); k != range.end(); ++k) {
                              body(static_cast<std::size_t>(order[k]));
                          }
                      });
}

}  // namespace

// ---------------------------------------------------------------------------------------------
FeatureCalculator::FeatureCalculator(FeatureSettings settings) : settings_(std::move(settings)) {
    settings_.validate();
    names_ = feature_names(settings_);
    tables_ = std::make_unique<detail::FeatureTables>(settings_);
}

FeatureCalculator::~FeatureCalculator() = default;

std::size_t FeatureCalculator::size() const { return tables_->layout.size; }
std::size_t FeatureCalculator::density_size() const { return tables_->layout.density_size; }

FeatureWorkspace FeatureCalculator::workspace() const {
    return FeatureWorkspace(std::make_unique<detail::WorkspaceState>(settings_.cutoff));
}

namespace {

// Neighbour list, species channels, buffer sizes. Throws InputError for unknown species.
void prepare(const FeatureCalculator& calculator, const engine::System& system, State& state,
             std::size_t density_size, std::size_t message_size) {
    const std::size_t n = system.size();
    state.channels.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        const int z = system.atomic_numbers()[i];
        const int channel = calculator.settings().channel(z);
        if (channel < 0) {
            std::string known;
            for (const int s : calculator.settings().species) {
                known += (known.empty() ? "" : ", ") + std::string(engine::element_symbol(s));
            }
            throw InputError("features: atom " + std::to_string(i) + " has atomic number " +
                             std::to_string(z) + ", which these features do not describe (species: " + known +
                             "); use a model trained for it");
        }
        state.channels[i] = channel;
    }
    state.neighbours.build(system);
    state.atoms = n;
    state.density.resize(n * density_size);
    if (message_size > 0) {
        state.messages.resize(n * message_size);
        state.dmessages.resize(n * message_size);
        state.gradient.resize(n * density_size);
    }
    state.densities_ready = false;
    state.equivariant_lambda = -1;
}

}  // namespace

namespace {

// The neighbour terms of centre i in the thread's CentreTerms (∇Y only when `gradients`).
void evaluate_centre(const Tables& t, const State& state, std::size_t i, ThreadScratch& s, bool gradients) {
    detail::evaluate_centre(t.layout, t.harmonics, t.radial, state.neighbours.neighbours(i),
                            state.channels.data(), gradients, i, s.terms);
}

// One centre's density from the terms evaluate_centre() left in the scratch.
void centre_density(const Tables& t, const ThreadScratch& s, double* c) {
    detail::centre_density(t.layout, t.radial, s.terms, c);
}

// Forces and virial of centre i's pairs from the adjoint ∂E/∂c(i) (terms with gradients).
void centre_backward(const Tables& t, const State& state, std::size_t i, ThreadScratch& s,
                     const double* adjoint) {
    detail::centre_pair_gradients(t.layout, t.radial, adjoint, s.terms);
    scatter_centre(s, i, state.neighbours.neighbours(i));
}

}  // namespace

void FeatureCalculator::compute(const engine::System& system, FeatureWorkspace& workspace,
                                FeatureMatrix& features) const {
    const Tables& t = *tables_;
    const auto& layout = t.layout;
    State& state = *workspace.state_;
    prepare(*this, system, state, layout.density_size, layout.mp_message_size);
    const std::size_t atoms = state.atoms;
    features.resize(static_cast<Eigen::Index>(atoms), static_cast<Eigen::Index>(layout.size));
    const bool messages = layout.mp_message_size > 0;

    for_each_centre(state, [&](std::size_t i) {
        ThreadScratch& s = local_scratch(state, t, layout.size);
        evaluate_centre(t, state, i, s, false);
        double* c = state.density.data() + i * layout.density_size;
        centre_density(t, s, c);
        detail::local_features(t.context, c, features.row(static_cast<Eigen::Index>(i)).data(),
                               s.local.data());
    });
    state.densities_ready = true;
    if (!messages) {
        return;
    }
    for_each_centre(state, [&](std::size_t i) {
        ThreadScratch& s = local_scratch(state, t, layout.size);
        const auto neighbours = state.neighbours.neighbours(i);
        evaluate_pairs(t, neighbours, s, false, i);
        double* message = state.messages.data() + i * layout.mp_message_size;
        std::fill_n(message, layout.mp_message_size, 0.0);
        for (std::size_t j = 0; j < neighbours.size(); ++j) {
            const auto index = static_cast<std::size_t>(neighbours[j].index);
            detail::accumulate_message(t.context, pair_terms(t, s, neighbours[j], j, false),
                                       state.channels[index],
                                       state.density.data() + index * layout.density_size, message);
        }
        detail::message_features(t.context, state.density.data() + i * layout.density_size, message,
                                 features.row(static_cast<Eigen::Index>(i)).data());
    });
}

namespace {

// The adjoint pass shared by backward(), compute_linear() with [1←1] and design(): `row(i)` is
// ∂E/∂X(i). Needs the densities (and messages) of a compute() on the same structure.
template <typename Row>
void adjoint_pass(const Tables& t, State& state, std::size_t feature_count, Row&& row,
                  Eigen::Matrix3Xd& forces, Eigen::Matrix3d& virial) {
    const auto& layout = t.layout;
    const std::size_t d = layout.density_size;
    reset_accumulators(state, state.atoms);
    if (layout.mp_message_size == 0) {
        for_each_centre(state, [&](std::size_t i) {
            ThreadScratch& s = local_scratch(state, t, feature_count);
            evaluate_centre(t, state, i, s, true);
            const double* c = state.density.data() + i * d;
            std::fill_n(s.adjoint.data(), d, 0.0);
            detail::local_backward(t.context, c, row(i), s.adjoint.data(), s.local.data());
            centre_backward(t, state, i, s, s.adjoint.data());
        });
        collect_accumulators(state, forces, virial);
        return;
    }

    const std::size_t message_size = layout.mp_message_size;
    // Phase A: local adjoints, ∂E/∂M(i), and the bond gradients of i's messages.
    for_each_centre(state, [&](std::size_t i) {
        ThreadScratch& s = local_scratch(state, t, feature_count);
        const auto neighbours = state.neighbours.neighbours(i);
        evaluate_pairs(t, neighbours, s, true, i);
        const double* c = state.density.data() + i * d;
        double* g = state.gradient.data() + i * d;
        double* dmessage = state.dmessages.data() + i * message_size;
        std::fill_n(g, d, 0.0);
        const double* dx = row(i);
        detail::local_backward(t.context, c, dx, g, s.local.data());
        detail::message_backward(t.context, c, state.messages.data() + i * message_size, dx, g, dmessage);
        for (std::size_t j = 0; j < neighbours.size(); ++j) {
            const auto& neighbour = neighbours[j];
            const auto index = static_cast<std::size_t>(neighbour.index);
            const auto gradient = detail::message_bond_gradient(
                t.context, pair_terms(t, s, neighbour, j, true), state.channels[index],
                state.density.data() + index * d, dmessage, s.bond_adjoint.data());
            scatter_pair(s, i, neighbour, gradient);
        }
    });
    // Phase B: every centre j gathers ∂E/∂c(j) from the messages it sends (j's neighbours i are
    // exactly the centres that list j, with r_ji = −r_ij), then turns it into pair gradients.
    for_each_centre(state, [&](std::size_t j) {
        ThreadScratch& s = local_scratch(state, t, feature_count);
        const auto neighbours = state.neighbours.neighbours(j);
        evaluate_pairs(t, neighbours, s, true, j);
        std::copy_n(state.gradient.data() + j * d, d, s.adjoint.data());
        const int e = state.channels[j];
        for (std::size_t k = 0; k < neighbours.size(); ++k) {
            const auto i = static_cast<std::size_t>(neighbours[k].index);
            detail::message_neighbour_adjoint(t.context, pair_terms(t, s, neighbours[k], k, true), true, e,
                                              state.dmessages.data() + i * message_size, s.adjoint.data());
        }
        for (std::size_t k = 0; k < neighbours.size(); ++k) {
            const auto& neighbour = neighbours[k];
            const int a = state.channels[static_cast<std::size_t>(neighbour.index)];
            const auto gradient = detail::pair_gradient(t.context, pair_terms(t, s, neighbour, k, true),
                                                        s.adjoint.data() + layout.density_row(a, 0),
                                                        layout.n_pad, layout.l_max);
            scatter_pair(s, j, neighbour, gradient);
        }
    });
    collect_accumulators(state, forces, virial);
}

void check_ready(const State& state, const engine::System& system) {
    if (!state.densities_ready || state.atoms != system.size()) {
        throw InputError(
            "features: backward() needs a compute() of the same structure on this workspace first (" +
            std::to_string(system.size()) + " atoms given, the workspace holds " +
            std::to_string(state.atoms) + ")");
    }
}

}  // namespace

void FeatureCalculator::backward(const engine::System& system, FeatureWorkspace& workspace,
                                 const FeatureMatrix& gradient, Eigen::Matrix3Xd& forces,
                                 Eigen::Matrix3d& virial) const {
    State& state = *workspace.state_;
    check_ready(state, system);
    if (gradient.rows() != static_cast<Eigen::Index>(state.atoms) ||
        gradient.cols() != static_cast<Eigen::Index>(size())) {
        throw InputError("features: ∂E/∂X is " + std::to_string(gradient.rows()) + " × " +
                         std::to_string(gradient.cols()) + " but the structure needs " +
                         std::to_string(state.atoms) + " × " + std::to_string(size()) +
                         " (atoms × features)");
    }
    adjoint_pass(
        *tables_, state, size(),
        [&](std::size_t i) { return gradient.row(static_cast<Eigen::Index>(i)).data(); }, forces, virial);
}

double FeatureCalculator::compute_linear(const engine::System& system, FeatureWorkspace& workspace,
                                         const Eigen::MatrixXd& weights, Eigen::Matrix3Xd& forces,
                                         Eigen::Matrix3d& virial, FeatureMatrix* features,
                                         Eigen::MatrixXd* channel_sums) const {
    const Tables& t = *tables_;
    const auto& layout = t.layout;
    State& state = *workspace.state_;
    const std::size_t f = size();
    if (weights.rows() != static_cast<Eigen::Index>(species()) ||
        weights.cols() != static_cast<Eigen::Index>(f)) {
        throw InputError("features: linear weights are " + std::to_string(weights.rows()) + " × " +
                         std::to_string(weights.cols()) + " but must be species × features = " +
                         std::to_string(species()) + " × " + std::to_string(f));
    }
    state.weight_rows.resize(species() * f);
    Eigen::Map<FeatureMatrix>(state.weight_rows.data(), weights.rows(), weights.cols()) = weights;
    auto weight_row = [&](std::size_t i) {
        return state.weight_rows.data() + static_cast<std::size_t>(state.channels[i]) * f;
    };

    if (layout.mp_message_size > 0) {
        FeatureMatrix& x = features != nullptr ? *features : state.features;
        compute(system, workspace, x);
        double energy = 0.0;
        for (std::size_t i = 0; i < state.atoms; ++i) {
            energy += Eigen::Map<const Eigen::VectorXd>(weight_row(i), static_cast<Eigen::Index>(f))
                          .dot(x.row(static_cast<Eigen::Index>(i)).transpose());
        }
        if (channel_sums != nullptr) {
            channel_sums_of(state, x, species(), *channel_sums);
        }
        adjoint_pass(t, state, f, weight_row, forces, virial);
        return energy;
    }

    // Local orders only: one fused pass per centre, pair terms computed once. Each centre's density
    // lives in its thread's scratch, not in a per-atom array: nothing reads it after the centre, and
    // at thousands of atoms that array (4.8 kB per atom for the shipped model) streamed through
    // memory on every call. So backward() cannot follow this call (densities_ready stays false).
    prepare(*this, system, state, 0, 0);
    if (features != nullptr) {
        features->resize(static_cast<Eigen::Index>(state.atoms), static_cast<Eigen::Index>(f));
    }
    // ν ≤ 2: the adjoint comes straight from the weights as matrices (linear_matrices), and the
    // features are formed only when the caller asks for them. ν = 3, when present, is added by its
    // own kernels (its features are needed for the energy and the channel sums): the generic
    // power-spectrum forward and adjoint cost as much again as the whole ν ≤ 2 model.
    const bool nu3 = !layout.nu3.empty();
    const std::size_t nu3_sums_size = detail::bispectrum_weights_size(layout);  // dense, 0 without ν = 3
    const std::size_t matrix_size = detail::linear_matrices_size(layout);
    state.linear.resize(species() * matrix_size);
    for (std::size_t channel = 0; channel < species(); ++channel) {
        detail::linear_matrices(layout, state.weight_rows.data() + channel * f,
                                state.linear.data() + channel * matrix_size);
    }
    reset_accumulators(state, state.atoms);
    // The channel sums: ν ≤ 2 from summed products, without each centre's feature vector, then
    // the ν = 3 features themselves (collect_channel_sums).
    const std::size_t invariant_width = detail::invariant_sums_size(layout);
    const std::size_t sums_width = invariant_width + nu3_sums_size;
    const std::size_t sums_size = species() * sums_width;
    if (channel_sums != nullptr) {
        begin_channel_sums(state, sums_size);
    }
    for_each_centre(state, [&](std::size_t i) {
        ThreadScratch& s = local_scratch(state, t, f);
        evaluate_centre(t, state, i, s, true);
        double* c = s.density.data();
        centre_density(t, s, c);
        const double* w = weight_row(i);
        const auto channel = static_cast<std::size_t>(state.channels[i]);
        const double* m = state.linear.data() + channel * matrix_size;
        double energy = detail::linear_local_adjoint(layout, m, w, c, s.adjoint.data());
        // The centre's row of the feature matrix, when the caller asks for one.
        double* const x = features != nullptr ? features->row(static_cast<Eigen::Index>(i)).data() : nullptr;
        if (features != nullptr) {
            // ν = 3 entries: written below from the couplings the adjoint forms anyway.
            detail::local_features_below_nu3(t.context, c, x, s.local.data());
        }
        if (channel_sums != nullptr) {
            add_invariant_sums(t, s, sums_size, sums_width, channel, c);
        }
        if (nu3) {
            const std::array<const double*, 1> dense{detail::nu3_weight_blocks(layout, m)};
            const std::array<double*, 1> adjoint{s.adjoint.data()};
            grow(s.nu3_scratch, detail::bispectrum_linear_scratch_size(layout, 1));
            detail::bispectrum_linear_adjoint(
                t.context, c, dense,
                {.gradients = adjoint,
                 .energies = {&energy, 1},
                 .features = x,
                 .dense_sums =
                     channel_sums != nullptr ? nu3_sums(s, channel, sums_width, invariant_width) : nullptr},
                s.nu3_scratch.data());
        }
        s.energy += energy;
        centre_backward(t, state, i, s, s.adjoint.data());
    });
    if (channel_sums != nullptr) {
        collect_channel_sums(state, t, sums_width, true, *channel_sums);
    }
    return collect_accumulators(state, forces, virial);
}

void FeatureCalculator::compute_linear_committee(
    const engine::System& system, FeatureWorkspace& workspace, std::span<const Eigen::MatrixXd> weights,
    Eigen::VectorXd& energies, std::vector<Eigen::Matrix3Xd>& forces, std::vector<Eigen::Matrix3d>& virials,
    FeatureMatrix* features, Eigen::MatrixXd* channel_sums) const {
    const Tables& t = *tables_;
    const auto& layout = t.layout;
    State& state = *workspace.state_;
    const std::size_t f = size();
    const std::size_t s_count = species();
    const std::size_t members = weights.size();
    if (members == 0) {
        throw InputError("features: a linear committee needs at least one weight set, got none");
    }
    state.weight_rows.resize(members * s_count * f);
    for (std::size_t k = 0; k < members; ++k) {
        if (weights[k].rows() != static_cast<Eigen::Index>(s_count) ||
            weights[k].cols() != static_cast<Eigen::Index>(f)) {
            throw InputError("features: linear weights of member " + std::to_string(k) + " are " +
                             std::to_string(weights[k].rows()) + " × " + std::to_string(weights[k].cols()) +
                             " but must be species × features = " + std::to_string(s_count) + " × " +
                             std::to_string(f));
        }
        Eigen::Map<FeatureMatrix>(state.weight_rows.data() + k * s_count * f, weights[k].rows(),
                                  weights[k].cols()) = weights[k];
    }
    auto weight_row = [&](std::size_t k, std::size_t i) {
        return state.weight_rows.data() + (k * s_count + static_cast<std::size_t>(state.channels[i])) * f;
    };
    energies.setZero(static_cast<Eigen::Index>(members));
    forces.resize(members);
    virials.resize(members);

    if (layout.mp_message_size > 0) {
        FeatureMatrix& x = features != nullptr ? *features : state.features;
        compute(system, workspace, x);
        if (channel_sums != nullptr) {
            channel_sums_of(state, x, s_count, *channel_sums);
        }
        for (std::size_t k = 0; k < members; ++k) {
            double energy = 0.0;
            for (std::size_t i = 0; i < state.atoms; ++i) {
                energy += Eigen::Map<const Eigen::VectorXd>(weight_row(k, i), static_cast<Eigen::Index>(f))
                              .dot(x.row(static_cast<Eigen::Index>(i)).transpose());
            }
            energies[static_cast<Eigen::Index>(k)] = energy;
            adjoint_pass(
                t, state, f, [&](std::size_t i) { return weight_row(k, i); }, forces[k], virials[k]);
        }
        return;
    }

    // Local orders: one pass per centre, pair terms shared by every member; the density in the
    // thread's scratch, as in compute_linear.
    prepare(*this, system, state, 0, 0);
    if (features != nullptr) {
        features->resize(static_cast<Eigen::Index>(state.atoms), static_cast<Eigen::Index>(f));
    }
    // As compute_linear: ν ≤ 2 through each member's weight matrices, ν = 3 by its own kernels
    // (one set of couplings for all members, which also writes the centre's ν = 3 features).
    const bool nu3 = !layout.nu3.empty();
    const std::size_t nu3_sums_size = detail::bispectrum_weights_size(layout);  // dense, 0 without ν = 3
    const std::size_t matrix_size = detail::linear_matrices_size(layout);
    state.linear.resize(members * s_count * matrix_size);
    for (std::size_t k = 0; k < members; ++k) {
        for (std::size_t channel = 0; channel < s_count; ++channel) {
            detail::linear_matrices(layout, state.weight_rows.data() + (k * s_count + channel) * f,
                                    state.linear.data() + (k * s_count + channel) * matrix_size);
        }
    }
    const std::size_t atoms = state.atoms;
    for (auto& s : state.threads) {
        reset_member_accumulators(s, members, atoms);
    }
    const std::size_t invariant_width = detail::invariant_sums_size(layout);
    const std::size_t sums_width = invariant_width + nu3_sums_size;
    const std::size_t sums_size = s_count * sums_width;
    if (channel_sums != nullptr) {
        begin_channel_sums(state, sums_size);
    }
    const std::size_t d = layout.density_size;
    for_each_centre(state, [&](std::size_t i) {
        ThreadScratch& s = local_scratch(state, t, f);
        if (s.member_forces.size() != members ||
            s.member_forces.front().cols() != static_cast<Eigen::Index>(atoms)) {
            reset_member_accumulators(s, members, atoms);  // a thread new to this workspace
        }
        grow(s.member_adjoints, members * d);
        evaluate_centre(t, state, i, s, true);
        double* c = s.density.data();
        centre_density(t, s, c);
        // The centre's row of the feature matrix, when the caller asks for one.
        double* const x = features != nullptr ? features->row(static_cast<Eigen::Index>(i)).data() : nullptr;
        const auto channel = static_cast<std::size_t>(state.channels[i]);
        if (features != nullptr) {
            // ν = 3 entries: written by bispectrum_linear_adjoint below.
            detail::local_features_below_nu3(t.context, c, x, s.local.data());
        }
        if (channel_sums != nullptr) {
            add_invariant_sums(t, s, sums_size, sums_width, channel, c);
        }
        for (std::size_t k = 0; k < members; ++k) {
            const double* w = weight_row(k, i);
            double* adjoint = s.member_adjoints.data() + k * d;
            const double* m = state.linear.data() + (k * s_count + channel) * matrix_size;
            s.member_energies[k] += detail::linear_local_adjoint(layout, m, w, c, adjoint);
        }
        if (nu3) {
            s.member_nu3_weights.resize(members);
            s.member_adjoint_rows.resize(members);
            for (std::size_t k = 0; k < members; ++k) {
                s.member_nu3_weights[k] = detail::nu3_weight_blocks(
                    layout, state.linear.data() + (k * s_count + channel) * matrix_size);
                s.member_adjoint_rows[k] = s.member_adjoints.data() + k * d;
            }
            grow(s.nu3_scratch, detail::bispectrum_linear_scratch_size(layout, members));
            detail::bispectrum_linear_adjoint(
                t.context, c, s.member_nu3_weights,
                {.gradients = s.member_adjoint_rows,
                 .energies = {s.member_energies.data(), members},
                 .features = x,
                 .dense_sums =
                     channel_sums != nullptr ? nu3_sums(s, channel, sums_width, invariant_width) : nullptr},
                s.nu3_scratch.data());
        }
        const std::size_t stride = s.terms.stride;
        grow(s.member_pair_gradients, members * 3 * stride);
        detail::centre_member_pair_gradients(layout, t.radial, s.member_adjoints.data(), d, members, s.terms,
                                             s.member_pair_gradients.data());
        const auto neighbours = state.neighbours.neighbours(i);
        for (std::size_t k = 0; k < members; ++k) {
            scatter_gradients(s.terms, s.member_pair_gradients.data() + k * 3 * stride, i, neighbours,
                              s.member_forces[k], s.member_virials[k]);
        }
    });

    sum_member_accumulators(state, members, atoms, forces, virials, &energies);
    if (channel_sums != nullptr) {
        collect_channel_sums(state, t, sums_width, true, *channel_sums);
    }
}

void FeatureCalculator::design(const engine::System& system, FeatureWorkspace& workspace,
                               StructureDesign& design) const {
    const Tables& t = *tables_;
    const auto& layout = t.layout;
    State& state = *workspace.state_;
    compute(system, workspace, state.features);
    const std::size_t f = size();
    const std::size_t s_count = species();
    const auto atoms = static_cast<Eigen::Index>(state.atoms);
    const auto columns = static_cast<Eigen::Index>(s_count * f);
    design.energy.setZero(columns);
    design.forces.setZero(3 * atoms, columns);
    design.virial.setZero(9, columns);
    for (Eigen::Index i = 0; i < atoms; ++i) {
        design.energy.segment(state.channels[static_cast<std::size_t>(i)] * static_cast<Eigen::Index>(f),
                              static_cast<Eigen::Index>(f)) += state.features.row(i).transpose();
    }

    // Local orders: the product rule per pair and direction (serial: rows of shared neighbours
    // would collide between threads, and training is not the hot path).
    const auto local = static_cast<Eigen::Index>(layout.mp_offset);
    if (local > 0) {
        ThreadScratch& s = local_scratch(state, t, f);
        const std::size_t d = layout.density_size;
        for (std::size_t i = 0; i < state.atoms; ++i) {
            const auto neighbours = state.neighbours.neighbours(i);
            evaluate_pairs(t, neighbours, s, true, i);
            const double* c = state.density.data() + i * d;
            const Eigen::Index column = state.channels[i] * static_cast<Eigen::Index>(f);
            for (std::size_t j = 0; j < neighbours.size(); ++j) {
                const auto& neighbour = neighbours[j];
                const int a = state.channels[static_cast<std::size_t>(neighbour.index)];
                const auto pair = pair_terms(t, s, neighbour, j, true);
                for (int direction = 0; direction < 3; ++direction) {
                    std::fill_n(s.tangent.data(), d, 0.0);
                    detail::density_tangent(t.context, pair, direction,
                                            s.tangent.data() + layout.density_row(a, 0));
                    detail::local_tangent(t.context, c, s.tangent.data(), s.features.data(), s.local.data());
                    const Eigen::Map<const Eigen::RowVectorXd> dx(s.features.data(), local);
                    // ∂X(i)/∂r_ij enters with −1 at the neighbour (D = −∂X/∂r) and +1 at the centre.
                    design.forces.row(3 * neighbour.index + direction).segment(column, local) -= dx;
                    design.forces.row(3 * static_cast<Eigen::Index>(i) + direction).segment(column, local) +=
                        dx;
                    for (int alpha = 0; alpha < 3; ++alpha) {
                        design.virial.row(3 * alpha + direction).segment(column, local) -=
                            neighbour.vector[alpha] * dx;
                    }
                }
            }
        }
    }

    // [1←1] columns: one adjoint pass per (species, feature), ∂E/∂X(i) = e_f on centres of that species.
    if (layout.mp_message_size > 0) {
        state.unit.assign(f, 0.0);
        state.zero.assign(f, 0.0);
        Eigen::Matrix3Xd forces;
        Eigen::Matrix3d virial;
        for (std::size_t species_channel = 0; species_channel < s_count; ++species_channel) {
            for (std::size_t feature = layout.mp_offset; feature < f; ++feature) {
                state.unit[feature] = 1.0;
                adjoint_pass(
                    t, state, f,
                    [&](std::size_t i) {
                        return static_cast<std::size_t>(state.channels[i]) == species_channel
                                   ? state.unit.data()
                                   : state.zero.data();
                    },
                    forces, virial);
                state.unit[feature] = 0.0;
                const auto column = static_cast<Eigen::Index>(species_channel * f + feature);
                design.forces.col(column) = Eigen::Map<const Eigen::VectorXd>(forces.data(), 3 * atoms);
                for (int alpha = 0; alpha < 3; ++alpha) {
                    for (int beta = 0; beta < 3; ++beta) {
                        design.virial(3 * alpha + beta, column) = virial(alpha, beta);
                    }
                }
            }
        }
    }
}

void FeatureCalculator::compute_equivariant(const engine::System& system, FeatureWorkspace& workspace,
                                            int lambda, FeatureMatrix& blocks) const {
    const Tables& t = *tables_;
    const auto& layout = t.layout;
    if (!settings_.lambda_soap) {
        throw ConfigError(
            "features: λ-SOAP blocks were requested but `lambda_soap` is not enabled in the settings");
    }
    if (lambda < 0 || lambda > 2 * settings_.lambda_soap->l_max) {
        throw InputError("features: λ = " + std::to_string(lambda) + " is outside [0, 2·l_max = " +
                         std::to_string(2 * settings_.lambda_soap->l_max) + "]");
    }
    State& state = *workspace.state_;
    prepare(*this, system, state, layout.density_size, layout.mp_message_size);
    const std::span<const detail::EquivariantEntry> entries = t.equivariant[static_cast<std::size_t>(lambda)];
    const std::size_t width = static_cast<std::size_t>(2 * lambda + 1);
    blocks.resize(static_cast<Eigen::Index>(state.atoms * width), static_cast<Eigen::Index>(entries.size()));
    for_each_centre(state, [&](std::size_t i) {
        ThreadScratch& s = local_scratch(state, t, entries.size() * width);
        evaluate_centre(t, state, i, s, false);
        double* c = state.density.data() + i * layout.density_size;
        centre_density(t, s, c);
        detail::equivariant_features(t.context, lambda, entries, c, s.features.data());
        for (std::size_t mu = 0; mu < width; ++mu) {
            for (std::size_t f = 0; f < entries.size(); ++f) {
                blocks(static_cast<Eigen::Index>(i * width + mu), static_cast<Eigen::Index>(f)) =
                    s.features[mu * entries.size() + f];
            }
        }
    });
    state.equivariant_lambda = lambda;
}

namespace {

// The adjoint pass of backward_equivariant(): per centre, every ∂L_k/∂c(i) from ∂L_k/∂B(i), then
// one contraction with the centre's pair terms for all of them.
void equivariant_adjoint_pass(const Tables& t, State& state, int lambda,
                              std::span<const FeatureMatrix> gradients, std::span<Eigen::Matrix3Xd> forces,
                              std::span<Eigen::Matrix3d> virials) {
    const auto& layout = t.layout;
    const std::span<const detail::EquivariantEntry> entries = t.equivariant[static_cast<std::size_t>(lambda)];
    const std::size_t count = entries.size();
    const std::size_t width = static_cast<std::size_t>(2 * lambda + 1);
    const std::size_t members = gradients.size();
    const std::size_t atoms = state.atoms;
    const std::size_t d = layout.density_size;
    for (auto& s : state.threads) {
        reset_member_accumulators(s, members, atoms);
    }
    for_each_centre(state, [&](std::size_t i) {
        ThreadScratch& s = local_scratch(state, t, count * width);
        if (s.member_forces.size() != members ||
            s.member_forces.front().cols() != static_cast<Eigen::Index>(atoms)) {
            reset_member_accumulators(s, members, atoms);  // a thread new to this workspace
        }
        grow(s.member_adjoints, members * d);
        evaluate_centre(t, state, i, s, true);
        const double* c = state.density.data() + i * d;
        for (std::size_t k = 0; k < members; ++k) {
            const FeatureMatrix& g = gradients[k];
            for (std::size_t mu = 0; mu < width; ++mu) {
                for (std::size_t f = 0; f < count; ++f) {
                    s.features[mu * count + f] =
                        g(static_cast<Eigen::Index>(i * width + mu), static_cast<Eigen::Index>(f));
                }
            }
            double* adjoint = s.member_adjoints.data() + k * d;
            std::fill_n(adjoint, d, 0.0);
            detail::equivariant_backward(t.context, lambda, entries, c, s.features.data(), adjoint);
        }
        const auto neighbours = state.neighbours.neighbours(i);
        if (members == 1) {
            detail::centre_pair_gradients(layout, t.radial, s.member_adjoints.data(), s.terms);
            scatter_gradients(s.terms, s.terms.pair_gradients.data(), i, neighbours, s.member_forces[0],
                              s.member_virials[0]);
            return;
        }
        const std::size_t stride = s.terms.stride;
        grow(s.member_pair_gradients, members * 3 * stride);
        detail::centre_member_pair_gradients(layout, t.radial, s.member_adjoints.data(), d, members, s.terms,
                                             s.member_pair_gradients.data());
        for (std::size_t k = 0; k < members; ++k) {
            scatter_gradients(s.terms, s.member_pair_gradients.data() + k * 3 * stride, i, neighbours,
                              s.member_forces[k], s.member_virials[k]);
        }
    });
    sum_member_accumulators(state, members, atoms, forces, virials, nullptr);
    // The scatter sums r_ij ⊗ f_ij (science.md). An equivariant L is not rotation invariant, so
    // that sum is not symmetric, and −∂L/∂ε_αβ under r → (1 + ε) r is its transpose Σ f_ij ⊗ r_ij.
    for (std::size_t k = 0; k < members; ++k) {
        virials[k].transposeInPlace();
    }
}

// Columns of the λ-SOAP block of λ (0 for a λ the settings cannot form).
std::size_t equivariant_count(const Tables& t, int lambda) {
    return lambda >= 0 && static_cast<std::size_t>(lambda) < t.equivariant.size()
               ? t.equivariant[static_cast<std::size_t>(lambda)].size()
               : 0;
}

void check_equivariant_gradient(const State& state, const engine::System& system, int lambda,
                                std::size_t features, const FeatureMatrix& gradient, std::size_t k) {
    if (state.equivariant_lambda != lambda || state.atoms != system.size()) {
        throw InputError(
            "features: backward_equivariant(λ = " + std::to_string(lambda) +
            ") needs a compute_equivariant with λ = " + std::to_string(lambda) +
            " of the same structure as the workspace's last call (" + std::to_string(system.size()) +
            " atoms given; the workspace holds " + std::to_string(state.atoms) + " atoms and " +
            (state.equivariant_lambda < 0 ? std::string("no λ-SOAP block")
                                          : "the block of λ = " + std::to_string(state.equivariant_lambda)) +
            "); call compute_equivariant first");
    }
    const auto rows = static_cast<Eigen::Index>(state.atoms * static_cast<std::size_t>(2 * lambda + 1));
    if (gradient.rows() != rows || gradient.cols() != static_cast<Eigen::Index>(features)) {
        throw InputError("features: ∂L/∂B number " + std::to_string(k) + " is " +
                         std::to_string(gradient.rows()) + " × " + std::to_string(gradient.cols()) +
                         " but the λ = " + std::to_string(lambda) + " blocks are " + std::to_string(rows) +
                         " × " + std::to_string(features) + " (atoms·(2λ+1) × features)");
    }
}

}  // namespace

void FeatureCalculator::backward_equivariant(const engine::System& system, FeatureWorkspace& workspace,
                                             int lambda, const FeatureMatrix& gradient,
                                             Eigen::Matrix3Xd& forces, Eigen::Matrix3d& virial) const {
    State& state = *workspace.state_;
    const std::size_t count = equivariant_count(*tables_, lambda);
    check_equivariant_gradient(state, system, lambda, count, gradient, 0);
    equivariant_adjoint_pass(*tables_, state, lambda, {&gradient, 1}, {&forces, 1}, {&virial, 1});
}

void FeatureCalculator::backward_equivariant(const engine::System& system, FeatureWorkspace& workspace,
                                             int lambda, std::span<const FeatureMatrix> gradients,
                                             std::vector<Eigen::Matrix3Xd>& forces,
                                             std::vector<Eigen::Matrix3d>& virials) const {
    State& state = *workspace.state_;
    if (gradients.empty()) {
        throw InputError("features: backward_equivariant needs at least one ∂L/∂B, got none");
    }
    const std::size_t count = equivariant_count(*tables_, lambda);
    for (std::size_t k = 0; k < gradients.size(); ++k) {
        check_equivariant_gradient(state, system, lambda, count, gradients[k], k);
    }
    forces.resize(gradients.size());
    virials.resize(gradients.size());
    equivariant_adjoint_pass(*tables_, state, lambda, gradients, forces, virials);
}

}  // namespace chorus::models::features
