#include "evaluator.hpp"

#include <chrono>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "dipole_extras.hpp"
#include "species.hpp"

namespace chorus::server {
namespace {

// Largest spread (ddof 1) over members of any force component; NaN without member forces.
double max_force_spread(const engine::CommitteeResult& result) {
    const std::size_t members = result.member_forces.size();
    if (members < 2 || result.forces.cols() == 0) {
        return std::numeric_limits<double>::quiet_NaN();
    }
    Eigen::Matrix3Xd sum_of_squares = Eigen::Matrix3Xd::Zero(3, result.forces.cols());
    for (const auto& forces : result.member_forces) {
        sum_of_squares += (forces - result.forces).array().square().matrix();
    }
    return std::sqrt(sum_of_squares.maxCoeff() / static_cast<double>(members - 1));
}

}  // namespace

Evaluator::Evaluator(const engine::Model& model, EvaluationSettings settings)
    : model_(model), settings_(std::move(settings)), compute_request_(compute_request_for(settings_.extras)) {
    // Per-atom energies cost N × M memory and time: only the log and the live queries use them.
    compute_request_.atomic_energies =
        settings_.committee_log != nullptr || settings_.live != nullptr || settings_.atomic_uncertainty;
}

void Evaluator::record(std::int32_t bead, std::size_t atoms, double evaluation_seconds,
                       const models::dipole::DipolePrediction* dipole) {
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
    LiveEvaluation live;
    if (dipole != nullptr) {
        // e·Å, the dipole model's own units (no conversion: the wire's e·Bohr is only for extras).
        entry.dipoles.reserve(3 * (1 + static_cast<std::size_t>(dipole->members.cols())));
        entry.dipoles.assign(dipole->mean.data(), dipole->mean.data() + 3);
        entry.dipoles.insert(entry.dipoles.end(), dipole->members.data(),
                             dipole->members.data() + dipole->members.size());
        live.dipole_scalars = dipole_scalars(dipole->mean.x(), dipole->mean.y(), dipole->mean.z());
    }
    if (settings_.live == nullptr) {
        settings_.committee_log->record(std::move(entry));
        return;
    }
    live.volume = system_->periodic() ? system_->volume() : std::numeric_limits<double>::quiet_NaN();
    live.max_force_sigma = max_force_spread(result_);
    live.sigma_energy = result_.energy_spread();
    live.evaluation_seconds = evaluation_seconds;
    if (settings_.capture != nullptr && settings_.capture->enabled()) {
        offer_to_capture(bead, atoms, live.sigma_energy, live.max_force_sigma);
    }
    settings_.live->record(std::move(entry), live, settings_.live_connection, settings_.committee_log);
}

void Evaluator::offer_to_capture(std::int32_t bead, std::size_t atoms, double sigma_energy,
                                 double max_force_sigma) {
    const double max_atomic_sigma =
        result_.member_atomic_energies.rows() == static_cast<Eigen::Index>(atoms) && atoms > 0
            ? result_.atomic_energy_spread().maxCoeff()
            : std::numeric_limits<double>::quiet_NaN();
    const double per_atom = atoms > 0 ? sigma_energy / static_cast<double>(atoms) : 0.0;
    const CaptureQuantity quantity = settings_.capture->quantity();
    double value = per_atom;
    switch (quantity) {
        case CaptureQuantity::sigma_energy:
            value = sigma_energy;
            break;
        case CaptureQuantity::max_atomic_sigma:
            value = max_atomic_sigma;
            break;
        case CaptureQuantity::max_force_sigma:
            value = max_force_sigma;
            break;
        case CaptureQuantity::sigma_energy_per_atom:
            break;
    }
    // Rare (at most the requested rate): only then is the structure copied.
    if (!settings_.capture->wants(value)) {
        return;
    }
    models::Frame frame{*system_, result_.energy, result_.forces, std::nullopt, std::nullopt, {}, 0};
    std::string members;
    for (Eigen::Index k = 0; k < result_.member_energies.size(); ++k) {
        members += fmt::format("{}{}", k == 0 ? "" : " ", result_.member_energies[k]);
    }
    frame.info["committee_energies"] = members;
    frame.info["sigma_energy"] = fmt::format("{}", sigma_energy);
    frame.info["sigma_energy_per_atom"] = fmt::format("{}", per_atom);
    frame.info["max_atomic_sigma"] = fmt::format("{}", max_atomic_sigma);
    frame.info["max_force_sigma"] = fmt::format("{}", max_force_sigma);
    frame.info["capture_quantity"] = std::string(quantity_name(quantity));
    frame.info["connection"] = settings_.connection;
    frame.info["bead"] = fmt::format("{}", bead);
    frame.info["time"] = format_utc_time(std::chrono::system_clock::now());
    settings_.capture->submit(std::move(frame));
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
    // Held until the answers are built: a reload meanwhile does not free the models in use.
    const ModelSlot::Models reloaded =
        settings_.model_slot != nullptr ? settings_.model_slot->current_models() : ModelSlot::Models{};
    const engine::Model& model = reloaded.model ? *reloaded.model : model_;
    const models::dipole::DipoleCommittee* dipole_model =
        reloaded.dipole ? reloaded.dipole.get() : settings_.dipole;
    const ExtrasContext context{model.calibration_alpha(), request.replica_id, settings_.atomic_uncertainty};
    std::vector<protocol::ForceResult> answers(request.structures.size());
    for (std::size_t b = 0; b < request.structures.size(); ++b) {
        const auto started = std::chrono::steady_clock::now();
        load(request.structures[b], atoms);
        model.evaluate(*system_, compute_request_, result_);
        const std::chrono::duration<double> evaluation_time = std::chrono::steady_clock::now() - started;
        mean_to_wire(result_, answers[b]);
        answers[b].extras = build_extras(result_, settings_.extras, context);
        const bool recording = settings_.committee_log != nullptr || settings_.live != nullptr;
        std::optional<models::dipole::DipolePrediction> dipole;
        Eigen::MatrixXd born_charges;
        const bool with_extras = !answers[b].extras.empty();
        if (dipole_model != nullptr && with_extras && settings_.born_charges) {
            // Only the mean's Jacobian: i-PI's driven dynamics uses one BEC per bead. The dipole
            // comes from the same λ-SOAP blocks.
            auto derivatives = dipole_model->derivatives(*system_, false);
            dipole = std::move(derivatives.prediction);
            born_charges = std::move(derivatives.mean);
        } else if (dipole_model != nullptr && (recording || with_extras)) {
            dipole = dipole_model->predict(*system_);
        }
        if (dipole && with_extras) {
            append_dipole_extras(answers[b].extras, *dipole, dipole_model->calibration_alpha());
            if (settings_.born_charges) {
                append_born_charges(answers[b].extras, *dipole, born_charges);
            }
        }
        if (recording) {
            record(request.replica_id, atoms, evaluation_time.count(), dipole ? &*dipole : nullptr);
        }
    }
    return answers;
}

}  // namespace chorus::server
