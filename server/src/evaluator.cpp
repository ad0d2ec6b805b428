#include "evaluator.hpp"

#include <chrono>
#include <cmath>
#include <limits>

#include "species.hpp"

namespace chorus::server {

Evaluator::Evaluator(const engine::Model& model, EvaluationSettings settings)
    : model_(model), settings_(std::move(settings)), compute_request_(compute_request_for(settings_.extras)) {
    // Per-atom energies cost N × M memory and time: only the log uses them.
    compute_request_.atomic_energies = settings_.committee_log != nullptr;
}

void Evaluator::record(std::int32_t bead, std::size_t atoms) {
    CommitteeLogRecord entry;
    entry.time = std::chrono::system_clock::now();
    entry.connection = settings_.connection;
    entry.bead = bead;
    entry.atoms = atoms;
    entry.energy = result_.energy;
    entry.member_energies.assign(result_.member_energies.data(),
                                 result_.member_energies.data() + result_.member_energies.size());
    // NaN when the model cannot split its energy into atoms (its per-atom energies stay NaN).
    entry.max_atomic_sigma =
        atoms > 0 && result_.member_atomic_energies.rows() == static_cast<Eigen::Index>(atoms)
            ? result_.atomic_energy_spread().maxCoeff()
            : std::numeric_limits<double>::quiet_NaN();
    settings_.committee_log->record(std::move(entry));
}

void Evaluator::load(const protocol::WireStructure& structure, std::size_t atoms) {
    positions_from_wire(structure.positions, positions_);
    const Eigen::Matrix3d cell = cell_from_wire(structure.cell);
    const bool periodic = is_periodic(structure.cell, settings_.periodicity);
    if (system_ && system_->size() == atoms) {
        system_->update(positions_, cell, periodic);
    } else {
        system_.emplace(expand_species_pattern(settings_.species_pattern, atoms), positions_, cell, periodic);
    }
}

std::vector<protocol::ForceResult> Evaluator::evaluate(const protocol::EvaluationRequest& request) {
    const auto atoms = static_cast<std::size_t>(request.atoms);
    const ExtrasContext context{model_.calibration_alpha(), request.replica_id};
    std::vector<protocol::ForceResult> answers(request.structures.size());
    for (std::size_t b = 0; b < request.structures.size(); ++b) {
        load(request.structures[b], atoms);
        model_.evaluate(*system_, compute_request_, result_);
        mean_to_wire(result_, answers[b]);
        answers[b].extras = build_extras(result_, settings_.extras, context);
        if (settings_.committee_log != nullptr) {
            record(request.replica_id, atoms);
        }
    }
    return answers;
}

}  // namespace chorus::server
