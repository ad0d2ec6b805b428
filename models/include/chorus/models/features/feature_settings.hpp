#pragma once
// Hyper-parameters of the equivariant features (science.md §1–3) and the stable, documented list
// of the invariant features they define. A model file stores these settings as JSON; the names
// returned by feature_names() are how model files and people refer to single features.
//
// JSON form (every block optional except cutoff and species; an absent block is disabled):
//   {
//     "cutoff": 5.0,                      r_c, Å
//     "cutoff_function": {"type": "cosine", "width": 0.5},   switch over [r_c − width, r_c]
//     "radial_basis": {"type": "laplacian-eigenstate", "spline_accuracy": 1e-8},
//                     or {"type": "smeared-laplacian-eigenstate" | "smeared-gto" | "separable-smeared-gto",
//                     "smearing": 0.4} (Gaussian density of width σ in Å; the separable form is the
//                     cheapest to evaluate; radial_basis.hpp). Optional inside it:
//                     "radial_scaling": {"r0": 2.5, "exponent": 4, "prefactor": 1}
//                        each neighbour weighted u(r) = c/(c + (r/r0)^m) (c = prefactor, default 1);
//                     "primitive_n_max": 18, "contraction": [[…], …]
//                        a contracted ("optimal") basis: contraction[l] (l = 0 … largest l_max) is the
//                        row-major primitive_n_max × n_max matrix U_l (n_max the largest n_max of the
//                        orders) giving R'_ql = Σ_n U_l[n, q] R_nl of a primitive basis of the given type
//                        with primitive_n_max functions per l (radial_basis.hpp). In a training
//                        configuration, "contraction": "pca" (with "primitive_n_max") or
//                        {"fit": "pca", "primitive_n_max": 18} asks `chorus train` to fit the U_l on the
//                        training frames (radial_contraction.hpp); such settings cannot be evaluated.
//     "species": [1, 8],                  atomic numbers; channel a is the position in this list
//     "nu1": {"n_max": 8},                c^a_{n00}
//     "nu2": {"n_max": 8, "l_max": 6, "species_pairs": [[1, 1], [1, 8], [8, 8]]},
//     "nu3": {"n_max": 4, "l_max": 4},
//     "message_passing": {"n_max": 3, "l_max": 2},
//     "lambda_soap": {"n_max": 4, "l_max": 3, "lambdas": [1, 2]}
//   }
//
// Invariant features, in this order (the feature index is the position in feature_names()):
//   nu1  "nu1:O:n=3"                    c^a_{n00}(i)                                        (a, n)
//   nu2  "ps:H-O:n1=2:n2=5:l=3"         p^{ab}_{n1 n2 l} = Σ_m c^a_{n1 lm} c^b_{n2 lm}      (pair, l, n1, n2)
//        species pairs a ≤ b in the order of `species`; for a = b only n1 ≤ n2 (the rest repeat).
//        Plain sum over m, no (−1)^l/√(2l+1): this is eq. 8 of science.md.
//   nu3  "bs:H-H-O:n=0,1,3:l=1,1,2"     Σ C^{l3 m3}_{l1 m1; l2 m2} c^{a1}_{n1 l1 m1} c^{a2}_{n2 l2 m2}
//   c^{a3}_{n3 l3 m3}
//        l1 ≤ l2 ≤ l3, triangle, l1 + l2 + l3 even (proper invariants, σ = +1); factors with equal
//        l are ordered by channel k = a·n_max + n (k1 ≤ k2 when l1 = l2, k2 ≤ k3 when l2 = l3),
//        which lists every distinct triple product once. Loop order: (l1, l2, l3), k1, k2, k3.
//   [1←1] "mp:O|H.O:n=0,1,2:l=1,0,1"    Σ_μ c^a_{n1 l1 μ}(i) Σ_{j∈e} Σ C^{l1 μ}_{l2 m2; l3 m3} c^b_{n2 l2
//   m2}(j) g_{n3 l3}(r_ij) Y_{l3 m3}(r̂_ij)
//        named "mp:a|e.b": a the centre's density channel, e the species of the neighbour j, b the
//        channel of j's density. l1 + l2 + l3 even, triangle. Loop order: a, e, b, (l1, l2, l3), n1, n2, n3.
//
// Equivariant λ-SOAP blocks (not part of the invariants; FeatureCalculator::compute_equivariant):
//   "ls:λ=1:H-O:n1=0:n2=2:l1=1:l2=2"    T_λμ = Σ C^{λμ}_{l1 m1; l2 m2} c^a_{n1 l1 m1} c^b_{n2 l2 m2}
//        σ = +1 only (l1 + l2 + λ even, proper tensors); l1 ≤ l2, and (a, n1) ≤ (b, n2) when l1 = l2.
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "chorus/models/features/radial_basis.hpp"

namespace chorus::models::features {

// Radial and angular truncation of one correlation order.
struct OrderTruncation {
    int n_max = 0;  // radial functions n = 0 … n_max − 1
    int l_max = 0;  // angular channels l = 0 … l_max
};

struct FeatureSettings {
    double cutoff = 5.0;        // r_c, Å
    double cutoff_width = 0.5;  // width of the cosine switch, Å
    double spline_accuracy = 1e-8;
    RadialBasisType radial_basis = RadialBasisType::laplacian_eigenstate;
    double smearing = 0.0;  // σ of the Gaussian density, Å; smeared basis only
    std::optional<RadialScaling> radial_scaling;
    int primitive_n_max = 0;  // > 0: a contracted basis over this many primitive functions per l
    // [l]: primitive_n_max × density_n_max(), row-major; empty with primitive_n_max > 0 while
    // contraction_fit is pending.
    std::vector<std::vector<double>> contraction;
    bool contraction_fit = false;  // "contraction": "pca", to be fitted by `chorus train`
    std::vector<int> species;      // atomic numbers, distinct

    std::optional<int> nu1_n_max;                       // ν = 1 invariants
    std::optional<OrderTruncation> nu2;                 // power spectrum
    std::vector<std::array<int, 2>> nu2_species_pairs;  // atomic numbers; empty means all a ≤ b
    std::optional<OrderTruncation> nu3;                 // bispectrum invariants
    std::optional<OrderTruncation> message_passing;     // [1←1] invariants
    std::optional<OrderTruncation> lambda_soap;         // equivariant blocks
    std::vector<int> lambda_soap_lambdas;               // λ ≥ 1 computed by compute_equivariant

    // Throws ConfigError naming the offending value and what to do.
    void validate() const;

    // Largest n_max / l_max over the enabled orders: the density is expanded this far once.
    int density_n_max() const;
    int density_l_max() const;
    // Farthest pair distance the invariants depend on: r_c, or 2 r_c with message passing.
    double interaction_range() const;

    // Channel of an atomic number (its index in `species`), or −1.
    int channel(int atomic_number) const;
};

// The settings of make_radial_functions for these features (the density's n_max and l_max).
RadialBasisSettings radial_basis_settings(const FeatureSettings& settings);

// JSON round trip. from_json validates key by key and throws ConfigError for unknown keys, wrong
// types and out-of-range values, naming the key.
nlohmann::json to_json(const FeatureSettings& settings);
FeatureSettings feature_settings_from_json(const nlohmann::json& json);

// Names of the invariant features in order (header comment); also the feature count.
std::vector<std::string> feature_names(const FeatureSettings& settings);
// Names of the λ-SOAP features of one λ (the columns of FeatureCalculator::compute_equivariant).
std::vector<std::string> equivariant_feature_names(const FeatureSettings& settings, int lambda);

}  // namespace chorus::models::features
