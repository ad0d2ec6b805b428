#pragma once
// The interface every chorus model implements. A model declares what it can do (species, range,
// committee size, calibration); the engine checks inputs against that before calling it.
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "chorus/engine/committee_result.hpp"
#include "chorus/engine/system.hpp"

namespace chorus::engine {

class Model {
public:
    virtual ~Model() = default;

    // The `kind` of its model file, e.g. "lennard-jones-committee".
    virtual std::string_view kind() const = 0;
    // One line for logs: kind, members, cutoff, species.
    virtual std::string description() const = 0;
    // Atomic numbers the model accepts; empty means any.
    virtual std::span<const int> species() const = 0;
    // Interaction range in Å (the farthest pair distance that changes the energy).
    virtual double cutoff() const = 0;
    // Number of committee members M (1 for a single model).
    virtual std::size_t committee_size() const = 0;
    // α of y_k ← ȳ + α (y_k − ȳ), applied by evaluate().
    virtual double calibration_alpha() const { return 1.0; }

    // Checks the species, computes, applies calibration. Thread safe: one shared, read-only
    // instance serves every connection. `result` is reused between calls to avoid allocation.
    void evaluate(const System& system, const ComputeRequest& request, CommitteeResult& result) const;

protected:
    // Uncalibrated member predictions plus their mean.
    virtual void compute(const System& system, const ComputeRequest& request,
                         CommitteeResult& result) const = 0;
};

}  // namespace chorus::engine
