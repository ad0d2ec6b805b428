#include "chorus/engine/model.hpp"

#include <algorithm>
#include <string>

#include "chorus/error.hpp"

namespace chorus::engine {
namespace {

std::string join(std::span<const int> values) {
    std::string joined;
    for (const int value : values) {
        if (!joined.empty()) {
            joined += ", ";
        }
        joined += std::to_string(value);
    }
    return joined;
}

void check_species(const Model& model, const System& system) {
    const std::span<const int> supported = model.species();
    if (supported.empty()) {
        return;
    }
    const auto& numbers = system.atomic_numbers();
    for (std::size_t atom = 0; atom < numbers.size(); ++atom) {
        if (std::find(supported.begin(), supported.end(), numbers[atom]) == supported.end()) {
            throw InputError("atomic number " + std::to_string(numbers[atom]) + " (atom " +
                             std::to_string(atom) + ") is not supported by the " + std::string(model.kind()) +
                             " model, which knows atomic numbers " + join(supported) +
                             "; use a model trained for every species in the structure");
        }
    }
}

}  // namespace

void Model::evaluate(const System& system, const ComputeRequest& request, CommitteeResult& result) const {
    check_species(*this, system);
    compute(system, request, result);
    const double alpha = calibration_alpha();
    if (alpha != 1.0 && committee_size() > 1) {
        result.apply_calibration(alpha);
    }
}

}  // namespace chorus::engine
