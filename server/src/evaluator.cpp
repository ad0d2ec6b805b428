#include "evaluator.hpp"

#include "species.hpp"

namespace chorus::server {

Evaluator::Evaluator(const engine::Model& model, EvaluationSettings settings)
    : model_(model), settings_(std::move(settings)), compute_request_(compute_request_for(settings_.extras)) {}

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
    }
    return answers;
}

}  // namespace chorus::server
