#pragma once
// Turns one EvaluationRequest (wire units) into its answers (wire units): the synchronous part of
// a session, free of I/O so that it runs on a TBB thread and can be tested alone. One per
// connection: it keeps the System and CommitteeResult between requests to avoid allocations.
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "capture.hpp"
#include "chorus/engine/committee_result.hpp"
#include "chorus/engine/model.hpp"
#include "chorus/engine/system.hpp"
#include "chorus/models/dipole/dipole_committee.hpp"
#include "chorus/protocol/driver.hpp"
#include "committee_log.hpp"
#include "extras.hpp"
#include "live_store.hpp"
#include "model_slot.hpp"
#include "wire_conversion.hpp"

namespace chorus::server {

struct EvaluationSettings {
    Periodicity periodicity = Periodicity::automatic;
    std::vector<int> species_pattern{0};  // resolved: repeated over the atoms
    ExtrasMode extras = ExtrasMode::full;
    // --committee-log: every evaluated structure is recorded there (shared by all sessions; must
    // outlive them), under this connection label ("address#index").
    CommitteeLog* committee_log = nullptr;
    std::string connection;
    // --control: every evaluated structure also goes to the live store (shared, must outlive the
    // sessions) under this connection slot, and is offered to the capture (when --capture-dir).
    LiveStore* live = nullptr;
    std::uint32_t live_connection = 0;
    Capture* capture = nullptr;
    // --dipole-model: its prediction goes into the extras (dipole_extras.hpp) and, with
    // --committee-log/--control, into the log's records and the live store; shared, must outlive
    // the sessions.
    const models::dipole::DipoleCommittee* dipole = nullptr;
    // --born-charges (needs `dipole`): "dipole" and "BEC" for i-PI's driven dynamics in the extras.
    bool born_charges = false;
    // --atomic-uncertainty: per-atom energy spreads in the extras (chorus_atomic_uncertainty).
    bool atomic_uncertainty = false;
    // chorus serve: the replaceable model (control request `reload`), taken afresh at the start of
    // every request; nullptr: always the model given to the constructor. Must outlive the sessions.
    const ModelSlot* model_slot = nullptr;
};

class Evaluator {
public:
    // `model` is shared by all sessions and must outlive the evaluator.
    Evaluator(const engine::Model& model, EvaluationSettings settings);

    // One answer per structure (B in batched mode). Throws InputError for structures the model
    // cannot take (atom count not a multiple of the species pattern, singular cell, NaN).
    std::vector<protocol::ForceResult> evaluate(const protocol::EvaluationRequest& request);

private:
    void load(const protocol::WireStructure& structure, std::size_t atoms);
    // `dipole`: the --dipole-model prediction for the structure, nullptr without one.
    void record(std::int32_t bead, std::size_t atoms, double evaluation_seconds,
                const models::dipole::DipolePrediction* dipole);
    void offer_to_capture(std::int32_t bead, std::size_t atoms, double sigma_energy, double max_force_sigma);

    const engine::Model& model_;
    EvaluationSettings settings_;
    engine::ComputeRequest compute_request_;
    std::optional<engine::System> system_;
    engine::CommitteeResult result_;
    Eigen::Matrix3Xd positions_;
};

}  // namespace chorus::server
