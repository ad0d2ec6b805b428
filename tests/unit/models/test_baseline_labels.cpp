// `train --baseline` labels: the reference minus the baseline's prediction, label by label.
#include <vector>

#include <catch2/catch.hpp>

#include "chorus/error.hpp"
#include "chorus/models/baseline_labels.hpp"
#include "chorus/models/lennard_jones.hpp"

using chorus::engine::CommitteeResult;
using chorus::engine::ComputeRequest;
using chorus::engine::System;
using chorus::models::Frame;
using chorus::models::LennardJones;

namespace {

System dimer_in_box(double distance) {
    Eigen::Matrix3Xd positions(3, 2);
    positions << 0.0, distance, 0.0, 0.1, 0.0, -0.2;
    return System({18, 18}, positions, 10.0 * Eigen::Matrix3d::Identity(), true);
}

// Labels from `reference`, as a data set would carry them.
Frame labelled(const LennardJones& reference, System system, bool with_virial) {
    CommitteeResult result;
    reference.evaluate(system, ComputeRequest{}, result);
    Frame frame{std::move(system), result.energy, result.forces, std::nullopt, std::nullopt, {}, 7};
    if (with_virial) {
        frame.virial = result.virial;
    }
    return frame;
}

}  // namespace

TEST_CASE("subtracting a baseline leaves the difference of the two models", "[baseline-labels]") {
    const LennardJones reference(0.0104, 3.40, 8.0);
    const LennardJones baseline(0.0090, 3.30, 8.0);
    std::vector<Frame> frames{labelled(reference, dimer_in_box(3.6), true),
                              labelled(reference, dimer_in_box(4.1), false)};
    frames.push_back(frames[0]);
    frames.back().energy.reset();  // a frame without an energy stays without one
    chorus::models::subtract_baseline(frames, baseline);

    for (const double distance : {3.6, 4.1}) {
        const std::size_t i = distance < 4.0 ? 0 : 1;
        CommitteeResult r;
        CommitteeResult b;
        reference.evaluate(dimer_in_box(distance), ComputeRequest{}, r);
        baseline.evaluate(dimer_in_box(distance), ComputeRequest{}, b);
        CHECK(*frames[i].energy == Approx(r.energy - b.energy).epsilon(1e-13));
        CHECK((*frames[i].forces - (r.forces - b.forces)).cwiseAbs().maxCoeff() <= 1e-13);
    }
    REQUIRE(frames[0].virial.has_value());
    CHECK(!frames[1].virial.has_value());
    CHECK(!frames[2].energy.has_value());
    CHECK((*frames[2].forces - *frames[0].forces).cwiseAbs().maxCoeff() == 0.0);
}
