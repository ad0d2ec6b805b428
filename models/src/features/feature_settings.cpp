#include "chorus/models/features/feature_settings.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

#include <nlohmann/json.hpp>

#include "chorus/engine/elements.hpp"
#include "chorus/error.hpp"
#include "chorus/models/features/spherical_harmonics.hpp"
#include "feature_layout.hpp"

namespace chorus::models::features {
namespace {

using nlohmann::json;

// Beyond these the feature counts (∝ n³ l³ for ν = 3) are not something anyone means to ask for.
constexpr int largest_n_max = 32;
constexpr int largest_l_max = 12;

// JSON names of the smeared bases (each needs "smearing").
constexpr std::array<std::pair<RadialBasisType, const char*>, 3> smeared_bases{
    {{RadialBasisType::smeared_laplacian_eigenstate, "smeared-laplacian-eigenstate"},
     {RadialBasisType::smeared_gto, "smeared-gto"},
     {RadialBasisType::separable_smeared_gto, "separable-smeared-gto"}}};

std::optional<RadialBasisType> smeared_basis_of(const json& name) {
    for (const auto& [type, text] : smeared_bases) {
        if (name == text) {
            return type;
        }
    }
    return std::nullopt;
}

const char* radial_basis_name(RadialBasisType type) {
    for (const auto& [smeared, text] : smeared_bases) {
        if (smeared == type) {
            return text;
        }
    }
    return "laplacian-eigenstate";
}

std::string text(double x) {
    std::ostringstream out;
    out << x;
    return out.str();
}

[[noreturn]] void fail(const std::string& key, const std::string& why) {
    throw ConfigError("feature settings: `" + key + "` " + why);
}

void check_keys(const json& object, const std::string& where, std::initializer_list<const char*> allowed) {
    if (!object.is_object()) {
        fail(where, "must be a JSON object, found " + object.dump());
    }
    for (const auto& item : object.items()) {
        const std::string& key = item.key();  // not a structured binding: clang 14 cannot capture one
        if (std::none_of(allowed.begin(), allowed.end(), [&](const char* k) { return key == k; })) {
            std::string list;
            for (const char* k : allowed) {
                list += std::string(list.empty() ? "" : ", ") + k;
            }
            fail(where.empty() ? key : where + "." + key, "is not a known key; expected one of: " + list);
        }
    }
}

double number(const json& object, const std::string& key, const std::string& where) {
    const auto& value = object.at(key);
    if (!value.is_number()) {
        fail(where + key, "must be a number, found " + value.dump());
    }
    return value.get<double>();
}

int integer(const json& value, const std::string& key) {
    if (!value.is_number_integer()) {
        fail(key, "must be an integer, found " + value.dump());
    }
    return value.get<int>();
}

OrderTruncation truncation(const json& object, const std::string& key, bool with_l) {
    OrderTruncation result;
    if (!object.contains("n_max")) {
        fail(key + ".n_max", "is missing; give the number of radial functions, e.g. 8");
    }
    result.n_max = integer(object.at("n_max"), key + ".n_max");
    if (with_l) {
        if (!object.contains("l_max")) {
            fail(key + ".l_max", "is missing; give the largest angular channel, e.g. 6");
        }
        result.l_max = integer(object.at("l_max"), key + ".l_max");
    }
    return result;
}

void check_truncation(const OrderTruncation& t, const std::string& key) {
    if (t.n_max < 1 || t.n_max > largest_n_max) {
        fail(key + ".n_max",
             "= " + std::to_string(t.n_max) + " must be in [1, " + std::to_string(largest_n_max) + "]");
    }
    if (t.l_max < 0 || t.l_max > largest_l_max) {
        fail(key + ".l_max",
             "= " + std::to_string(t.l_max) + " must be in [0, " + std::to_string(largest_l_max) + "]");
    }
}

std::string symbol(const FeatureSettings& settings, int channel) {
    return std::string(engine::element_symbol(settings.species[static_cast<std::size_t>(channel)]));
}

json truncation_json(const OrderTruncation& t) { return {{"n_max", t.n_max}, {"l_max", t.l_max}}; }

// "pca", {"fit": "pca", "primitive_n_max": N} or the matrices themselves.
void read_contraction(const json& value, FeatureSettings& settings) {
    const std::string key = "radial_basis.contraction";
    if (value.is_string()) {
        if (value != "pca") {
            fail(key, "= " + value.dump() + " is not a known fit; use \"pca\" or give the matrices");
        }
        settings.contraction_fit = true;
        if (settings.primitive_n_max == 0) {
            fail("radial_basis.primitive_n_max", "is missing; give the size of the primitive basis, e.g. 18");
        }
        return;
    }
    if (value.is_object()) {
        check_keys(value, key, {"fit", "primitive_n_max"});
        if (!value.contains("fit") || value.at("fit") != "pca") {
            fail(key + ".fit", "must be \"pca\"");
        }
        if (!value.contains("primitive_n_max")) {
            fail(key + ".primitive_n_max", "is missing; give the size of the primitive basis, e.g. 18");
        }
        const int n = integer(value.at("primitive_n_max"), key + ".primitive_n_max");
        if (settings.primitive_n_max != 0 && settings.primitive_n_max != n) {
            fail(key + ".primitive_n_max", "= " + std::to_string(n) +
                                               " contradicts radial_basis.primitive_n_max = " +
                                               std::to_string(settings.primitive_n_max) + "; give it once");
        }
        settings.primitive_n_max = n;
        settings.contraction_fit = true;
        return;
    }
    if (!value.is_array()) {
        fail(key,
             "must be \"pca\", {\"fit\": \"pca\", \"primitive_n_max\": N} or an array of matrices, found " +
                 value.dump().substr(0, 80));
    }
    if (settings.primitive_n_max == 0) {
        fail("radial_basis.primitive_n_max",
             "is missing; the contraction matrices need the primitive basis size");
    }
    for (std::size_t l = 0; l < value.size(); ++l) {
        const std::string element = key + "[" + std::to_string(l) + "]";
        if (!value[l].is_array()) {
            fail(element, "must be an array of numbers (the row-major matrix of this l)");
        }
        std::vector<double> matrix;
        matrix.reserve(value[l].size());
        for (const auto& entry : value[l]) {
            if (!entry.is_number()) {
                fail(element, "holds " + entry.dump() + "; every entry must be a finite number");
            }
            matrix.push_back(entry.get<double>());
        }
        settings.contraction.push_back(std::move(matrix));
    }
}

void validate_contraction(const FeatureSettings& s) {
    const bool asked = s.primitive_n_max != 0 || !s.contraction.empty() || s.contraction_fit;
    if (!asked) {
        return;
    }
    const int n_max = s.density_n_max();
    if (s.primitive_n_max < n_max || s.primitive_n_max > largest_n_max) {
        fail("radial_basis.primitive_n_max",
             "= " + std::to_string(s.primitive_n_max) + " must be in [n_max = " + std::to_string(n_max) +
                 ", " + std::to_string(largest_n_max) + "] for a contracted basis; typical values are 16–20");
    }
    if (s.contraction_fit) {
        if (!s.contraction.empty()) {
            fail("radial_basis.contraction", "is both given as matrices and asked to be fitted; keep one");
        }
        return;
    }
    const auto orders = static_cast<std::size_t>(s.density_l_max() + 1);
    if (s.contraction.size() != orders) {
        fail("radial_basis.contraction",
             "has " + std::to_string(s.contraction.size()) + " matrices; give one per l = 0 … " +
                 std::to_string(orders - 1) +
                 " (the largest l_max), or \"pca\" to have `chorus train` fit them");
    }
    const auto entries = static_cast<std::size_t>(s.primitive_n_max) * static_cast<std::size_t>(n_max);
    for (std::size_t l = 0; l < orders; ++l) {
        const std::string key = "radial_basis.contraction[" + std::to_string(l) + "]";
        if (s.contraction[l].size() != entries) {
            fail(key,
                 "has " + std::to_string(s.contraction[l].size()) +
                     " entries; it must be primitive_n_max × n_max = " + std::to_string(s.primitive_n_max) +
                     " × " + std::to_string(n_max) + " = " + std::to_string(entries) + ", row-major");
        }
        for (std::size_t k = 0; k < entries; ++k) {
            if (!std::isfinite(s.contraction[l][k])) {
                fail(key, "entry " + std::to_string(k) + " is " + text(s.contraction[l][k]) +
                              "; every entry must be finite");
            }
        }
    }
}

}  // namespace

void FeatureSettings::validate() const {
    if (!(cutoff > 0.0) || !std::isfinite(cutoff)) {
        fail("cutoff", "= " + text(cutoff) + " Å must be positive and finite");
    }
    if (!(cutoff_width > 0.0) || cutoff_width > cutoff) {
        fail("cutoff_function.width",
             "= " + text(cutoff_width) + " Å must be in (0, cutoff = " + text(cutoff) + " Å]");
    }
    if (!(spline_accuracy > 0.0) || spline_accuracy > 1e-3) {
        fail("radial_basis.spline_accuracy", "= " + text(spline_accuracy) + " must be in (0, 1e-3]");
    }
    if (radial_basis != RadialBasisType::laplacian_eigenstate) {
        if (!(smearing > 0.0) || !std::isfinite(smearing) || smearing > 0.5 * cutoff) {
            fail("radial_basis.smearing", "= " + text(smearing) + " Å must be in (0, cutoff/2 = " +
                                              text(0.5 * cutoff) + " Å]; typical values are 0.3–0.5 Å");
        }
    } else if (smearing != 0.0) {
        fail("radial_basis.smearing", "= " + text(smearing) +
                                          " Å is only used by the smeared radial bases (\"type\": "
                                          "\"smeared-laplacian-eigenstate\", \"smeared-gto\" or "
                                          "\"separable-smeared-gto\")");
    }
    if (radial_scaling) {
        const auto positive = [](double x, const char* key, const char* example) {
            if (!(x > 0.0) || !std::isfinite(x)) {
                fail(std::string("radial_basis.radial_scaling.") + key,
                     "= " + text(x) + " must be positive and finite, e.g. " + example);
            }
        };
        positive(radial_scaling->r0, "r0", "2.5 (Å)");
        positive(radial_scaling->exponent, "exponent", "4");
        positive(radial_scaling->prefactor, "prefactor", "1");
    }
    validate_contraction(*this);
    if (species.empty()) {
        fail("species", "is empty; list the atomic numbers the model handles, e.g. [1, 8]");
    }
    std::set<int> seen;
    for (const int z : species) {
        if (z < 1 || z > engine::max_atomic_number) {
            fail("species", "contains " + std::to_string(z) + ", not an atomic number in [1, 118]");
        }
        if (!seen.insert(z).second) {
            fail("species", "lists atomic number " + std::to_string(z) + " twice");
        }
    }
    if (nu1_n_max && (*nu1_n_max < 1 || *nu1_n_max > largest_n_max)) {
        fail("nu1.n_max",
             "= " + std::to_string(*nu1_n_max) + " must be in [1, " + std::to_string(largest_n_max) + "]");
    }
    if (nu2) {
        check_truncation(*nu2, "nu2");
    }
    for (const auto& pair : nu2_species_pairs) {
        for (const int z : pair) {
            if (!seen.contains(z)) {
                fail("nu2.species_pairs", "names atomic number " + std::to_string(z) +
                                              ", which is not in `species`; add it there or drop the pair");
            }
        }
    }
    if (!nu2_species_pairs.empty() && !nu2) {
        fail("nu2.species_pairs", "is given but nu2 is disabled");
    }
    if (nu3) {
        check_truncation(*nu3, "nu3");
    }
    if (message_passing) {
        check_truncation(*message_passing, "message_passing");
    }
    if (lambda_soap) {
        check_truncation(*lambda_soap, "lambda_soap");
        for (const int lambda : lambda_soap_lambdas) {
            if (lambda < 1 || lambda > 2 * lambda_soap->l_max) {
                fail("lambda_soap.lambdas",
                     "contains λ = " + std::to_string(lambda) +
                         ", outside [1, 2·l_max = " + std::to_string(2 * lambda_soap->l_max) + "]");
            }
        }
    } else if (!lambda_soap_lambdas.empty()) {
        fail("lambda_soap.lambdas", "is given but lambda_soap is disabled");
    }
    if (!nu1_n_max && !nu2 && !nu3 && !message_passing && !lambda_soap) {
        fail("nu1/nu2/nu3/message_passing/lambda_soap", "are all absent; enable at least one order");
    }
}

int FeatureSettings::density_n_max() const {
    int n = nu1_n_max.value_or(1);
    for (const auto& order : {nu2, nu3, message_passing, lambda_soap}) {
        if (order) {
            n = std::max(n, order->n_max);
        }
    }
    return n;
}

int FeatureSettings::density_l_max() const {
    int l = 0;
    for (const auto& order : {nu2, nu3, message_passing, lambda_soap}) {
        if (order) {
            l = std::max(l, order->l_max);
        }
    }
    return l;
}

double FeatureSettings::interaction_range() const { return message_passing ? 2.0 * cutoff : cutoff; }

int FeatureSettings::channel(int atomic_number) const {
    const auto found = std::find(species.begin(), species.end(), atomic_number);
    return found == species.end() ? -1 : static_cast<int>(found - species.begin());
}

RadialBasisSettings radial_basis_settings(const FeatureSettings& s) {
    return {.type = s.radial_basis,
            .eigenstates = {.cutoff = s.cutoff,
                            .max_angular = s.density_l_max(),
                            .max_radial = s.density_n_max()},
            .smearing = s.smearing,
            .scaling = s.radial_scaling,
            .primitive_n_max = s.primitive_n_max,
            .contraction = s.contraction};
}

nlohmann::json to_json(const FeatureSettings& settings) {
    json out = {
        {"cutoff", settings.cutoff},
        {"cutoff_function", {{"type", "cosine"}, {"width", settings.cutoff_width}}},
        {"radial_basis", {{"type", "laplacian-eigenstate"}, {"spline_accuracy", settings.spline_accuracy}}},
        {"species", settings.species}};
    // The default basis keeps its original JSON form, so existing model files round-trip unchanged.
    if (settings.radial_basis != RadialBasisType::laplacian_eigenstate) {
        out["radial_basis"]["type"] = radial_basis_name(settings.radial_basis);
        out["radial_basis"]["smearing"] = settings.smearing;
    }
    if (settings.radial_scaling) {
        out["radial_basis"]["radial_scaling"] = {{"r0", settings.radial_scaling->r0},
                                                 {"exponent", settings.radial_scaling->exponent},
                                                 {"prefactor", settings.radial_scaling->prefactor}};
    }
    if (settings.primitive_n_max != 0) {
        out["radial_basis"]["primitive_n_max"] = settings.primitive_n_max;
        out["radial_basis"]["contraction"] =
            settings.contraction_fit ? json("pca") : json(settings.contraction);
    }
    if (settings.nu1_n_max) {
        out["nu1"] = {{"n_max", *settings.nu1_n_max}};
    }
    if (settings.nu2) {
        out["nu2"] = truncation_json(*settings.nu2);
        if (!settings.nu2_species_pairs.empty()) {
            out["nu2"]["species_pairs"] = settings.nu2_species_pairs;
        }
    }
    if (settings.nu3) {
        out["nu3"] = truncation_json(*settings.nu3);
    }
    if (settings.message_passing) {
        out["message_passing"] = truncation_json(*settings.message_passing);
    }
    if (settings.lambda_soap) {
        out["lambda_soap"] = truncation_json(*settings.lambda_soap);
        out["lambda_soap"]["lambdas"] = settings.lambda_soap_lambdas;
    }
    return out;
}

FeatureSettings feature_settings_from_json(const nlohmann::json& input) {
    check_keys(input, "",
               {"cutoff", "cutoff_function", "radial_basis", "species", "nu1", "nu2", "nu3",
                "message_passing", "lambda_soap"});
    FeatureSettings settings;
    if (!input.contains("cutoff")) {
        fail("cutoff", "is missing; give the cutoff radius in Å, e.g. 5.0");
    }
    settings.cutoff = number(input, "cutoff", "");
    if (input.contains("cutoff_function")) {
        const auto& f = input.at("cutoff_function");
        check_keys(f, "cutoff_function", {"type", "width"});
        if (f.contains("type") && f.at("type") != "cosine") {
            fail("cutoff_function.type", "= " + f.at("type").dump() + " is not supported; use \"cosine\"");
        }
        if (f.contains("width")) {
            settings.cutoff_width = number(f, "width", "cutoff_function.");
        }
    }
    if (input.contains("radial_basis")) {
        const auto& r = input.at("radial_basis");
        check_keys(
            r, "radial_basis",
            {"type", "spline_accuracy", "smearing", "radial_scaling", "primitive_n_max", "contraction"});
        if (r.contains("radial_scaling")) {
            const auto& u = r.at("radial_scaling");
            check_keys(u, "radial_basis.radial_scaling", {"r0", "exponent", "prefactor"});
            for (const char* key : {"r0", "exponent"}) {
                if (!u.contains(key)) {
                    fail(std::string("radial_basis.radial_scaling.") + key,
                         "is missing; give r0 (Å) and exponent, e.g. {\"r0\": 2.5, \"exponent\": 4}");
                }
            }
            RadialScaling scaling;
            scaling.r0 = number(u, "r0", "radial_basis.radial_scaling.");
            scaling.exponent = number(u, "exponent", "radial_basis.radial_scaling.");
            if (u.contains("prefactor")) {
                scaling.prefactor = number(u, "prefactor", "radial_basis.radial_scaling.");
            }
            settings.radial_scaling = scaling;
        }
        if (r.contains("primitive_n_max")) {
            settings.primitive_n_max = integer(r.at("primitive_n_max"), "radial_basis.primitive_n_max");
        }
        if (r.contains("contraction")) {
            read_contraction(r.at("contraction"), settings);
        } else if (settings.primitive_n_max != 0) {
            fail("radial_basis.contraction",
                 "is missing although primitive_n_max is given; give the matrices or \"pca\"");
        }
        if (r.contains("type")) {
            const std::optional<RadialBasisType> smeared = smeared_basis_of(r.at("type"));
            if (smeared) {
                settings.radial_basis = *smeared;
                if (!r.contains("smearing")) {
                    fail("radial_basis.smearing", "is missing; give the Gaussian width σ in Å, e.g. 0.4");
                }
            } else if (r.at("type") != "laplacian-eigenstate") {
                fail("radial_basis.type", "= " + r.at("type").dump() +
                                              " is not supported; use \"laplacian-eigenstate\", "
                                              "\"smeared-laplacian-eigenstate\", \"smeared-gto\" or "
                                              "\"separable-smeared-gto\"");
            }
        }
        if (r.contains("smearing")) {
            settings.smearing = number(r, "smearing", "radial_basis.");
        }
        if (r.contains("spline_accuracy")) {
            settings.spline_accuracy = number(r, "spline_accuracy", "radial_basis.");
        }
    }
    if (!input.contains("species") || !input.at("species").is_array()) {
        fail("species", "must be an array of atomic numbers, e.g. [1, 8]");
    }
    for (const auto& z : input.at("species")) {
        settings.species.push_back(integer(z, "species"));
    }
    if (input.contains("nu1")) {
        check_keys(input.at("nu1"), "nu1", {"n_max"});
        settings.nu1_n_max = truncation(input.at("nu1"), "nu1", false).n_max;
    }
    if (input.contains("nu2")) {
        const auto& o = input.at("nu2");
        check_keys(o, "nu2", {"n_max", "l_max", "species_pairs"});
        settings.nu2 = truncation(o, "nu2", true);
        if (o.contains("species_pairs")) {
            const auto& pairs = o.at("species_pairs");
            if (!pairs.is_array()) {
                fail("nu2.species_pairs", "must be an array of [Z1, Z2] pairs, found " + pairs.dump());
            }
            for (const auto& pair : pairs) {
                if (!pair.is_array() || pair.size() != 2) {
                    fail("nu2.species_pairs", "entry " + pair.dump() + " must be a pair [Z1, Z2]");
                }
                settings.nu2_species_pairs.push_back(
                    {integer(pair[0], "nu2.species_pairs"), integer(pair[1], "nu2.species_pairs")});
            }
        }
    }
    if (input.contains("nu3")) {
        check_keys(input.at("nu3"), "nu3", {"n_max", "l_max"});
        settings.nu3 = truncation(input.at("nu3"), "nu3", true);
    }
    if (input.contains("message_passing")) {
        check_keys(input.at("message_passing"), "message_passing", {"n_max", "l_max"});
        settings.message_passing = truncation(input.at("message_passing"), "message_passing", true);
    }
    if (input.contains("lambda_soap")) {
        const auto& o = input.at("lambda_soap");
        check_keys(o, "lambda_soap", {"n_max", "l_max", "lambdas"});
        settings.lambda_soap = truncation(o, "lambda_soap", true);
        if (o.contains("lambdas")) {
            if (!o.at("lambdas").is_array()) {
                fail("lambda_soap.lambdas", "must be an array of λ ≥ 1, found " + o.at("lambdas").dump());
            }
            for (const auto& lambda : o.at("lambdas")) {
                settings.lambda_soap_lambdas.push_back(integer(lambda, "lambda_soap.lambdas"));
            }
        }
    }
    settings.validate();
    return settings;
}

std::vector<std::string> feature_names(const FeatureSettings& settings) {
    settings.validate();
    const detail::FeatureLayout layout(settings);
    std::vector<std::string> names;
    names.reserve(layout.size);
    for (int a = 0; a < layout.species; ++a) {
        for (int n = 0; n < layout.nu1_n_max; ++n) {
            names.push_back("nu1:" + symbol(settings, a) + ":n=" + std::to_string(n));
        }
    }
    for (const auto& e : layout.nu2) {
        names.push_back("ps:" + symbol(settings, e.a) + "-" + symbol(settings, e.b) + ":n1=" +
                        std::to_string(e.n1) + ":n2=" + std::to_string(e.n2) + ":l=" + std::to_string(e.l));
    }
    const int n3 = layout.nu3_truncation.n_max;
    for (const auto& triple : layout.nu3) {
        for (const auto& k : triple.ks) {
            names.push_back("bs:" + symbol(settings, k[0] / n3) + "-" + symbol(settings, k[1] / n3) + "-" +
                            symbol(settings, k[2] / n3) + ":n=" + std::to_string(k[0] % n3) + "," +
                            std::to_string(k[1] % n3) + "," + std::to_string(k[2] % n3) +
                            ":l=" + std::to_string(triple.l1) + "," + std::to_string(triple.l2) + "," +
                            std::to_string(triple.l3));
        }
    }
    const int nm = layout.mp_truncation.n_max;
    for (int a = 0; a < layout.species; ++a) {
        for (int e = 0; e < layout.species; ++e) {
            for (int b = 0; b < layout.species; ++b) {
                for (const auto& t : layout.mp_triples) {
                    for (int n1 = 0; n1 < nm; ++n1) {
                        for (int n2 = 0; n2 < nm; ++n2) {
                            for (int nb = 0; nb < nm; ++nb) {
                                names.push_back("mp:" + symbol(settings, a) + "|" + symbol(settings, e) +
                                                "." + symbol(settings, b) + ":n=" + std::to_string(n1) + "," +
                                                std::to_string(n2) + "," + std::to_string(nb) +
                                                ":l=" + std::to_string(t.l1) + "," + std::to_string(t.l2) +
                                                "," + std::to_string(t.l3));
                            }
                        }
                    }
                }
            }
        }
    }
    return names;
}

std::vector<std::string> equivariant_feature_names(const FeatureSettings& settings, int lambda) {
    settings.validate();
    const detail::FeatureLayout layout(settings);
    std::vector<std::string> names;
    for (const auto& e : layout.equivariant(settings, lambda)) {
        names.push_back("ls:λ=" + std::to_string(lambda) + ":" + symbol(settings, e.a) + "-" +
                        symbol(settings, e.b) + ":n1=" + std::to_string(e.n1) + ":n2=" +
                        std::to_string(e.n2) + ":l1=" + std::to_string(e.l1) + ":l2=" + std::to_string(e.l2));
    }
    return names;
}

}  // namespace chorus::models::features
