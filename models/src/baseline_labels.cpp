#include "chorus/models/baseline_labels.hpp"

#include <string>

#include <oneapi/tbb/parallel_for.h>

#include "chorus/error.hpp"

namespace chorus::models {

void subtract_baseline(std::vector<Frame>& frames, const engine::Model& baseline) {
    // Frames are independent; each task keeps its own result buffer.
    tbb::parallel_for(std::size_t{0}, frames.size(), [&](std::size_t i) {
        Frame& frame = frames[i];
        engine::ComputeRequest request;
        request.forces = frame.forces.has_value();
        request.virial = frame.virial.has_value();
        engine::CommitteeResult result;
        try {
            baseline.evaluate(frame.system, request, result);
        } catch (const Error& error) {
            throw InputError("the baseline model cannot evaluate the frame at line " +
                             std::to_string(frame.line) + ": " + error.what());
        }
        if (frame.energy) {
            *frame.energy -= result.energy;
        }
        if (frame.forces) {
            *frame.forces -= result.forces;
        }
        if (frame.virial) {
            *frame.virial -= result.virial;
        }
    });
}

}  // namespace chorus::models
