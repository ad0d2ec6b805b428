#pragma once
// The models that `chorus serve` evaluates with, replaceable while it runs (control request
// `reload`): --model and, when given, --dipole-model. Evaluations take reference-counted handles at
// the start of a request, so a swap never changes a model under an evaluation in flight; that one
// finishes with the old models, which are freed when its last evaluation drops them.
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "chorus/engine/model.hpp"
#include "chorus/models/dipole/dipole_committee.hpp"

namespace chorus::server {

class ModelSlot {
public:
    // Builds a fresh model from the file given at start (--model, with --baseline applied);
    // throws the loader's errors.
    using Loader = std::function<std::shared_ptr<const engine::Model>()>;
    // The same for --dipole-model.
    using DipoleLoader = std::function<std::shared_ptr<const models::dipole::DipoleCommittee>()>;

    // What one evaluation uses: both taken under one lock, so an evaluation never pairs a new
    // energy model with an old dipole model. `dipole` is nullptr without --dipole-model.
    struct Models {
        std::shared_ptr<const engine::Model> model;
        std::shared_ptr<const models::dipole::DipoleCommittee> dipole;
    };

    ModelSlot(std::shared_ptr<const engine::Model> initial, Loader loader);
    // With a dipole model: `reload` replaces both, or neither. Without a `dipole_loader` (but with
    // an initial dipole model) a reload keeps the dipole model it has.
    ModelSlot(std::shared_ptr<const engine::Model> initial, Loader loader,
              std::shared_ptr<const models::dipole::DipoleCommittee> initial_dipole,
              DipoleLoader dipole_loader);

    // The model for the next evaluation. Thread safe.
    std::shared_ptr<const engine::Model> current() const;
    // Both models for the next evaluation. Thread safe.
    Models current_models() const;

    // Loads a new model with the loader (and a new dipole model with the dipole loader, if any),
    // checks each against the one it replaces, and only then swaps them in together.
    // Throws (and keeps the current models) when a file cannot be read or is invalid (IoError,
    // ConfigError), when there is no loader (InputError), or when a new model has other species
    // or another committee size than the current one (InputError: the committee log and the live
    // store keep one member count per run). Returns the new model's description; logs one line.
    // Thread safe; meant for the control server's thread.
    std::string reload();

    // The dipole model's description, nullopt without one. Thread safe.
    std::optional<std::string> dipole_description() const;

    std::uint64_t reloads() const;

private:
    mutable std::mutex mutex_;
    Models models_;
    Loader loader_;
    DipoleLoader dipole_loader_;
    std::uint64_t reloads_ = 0;
    std::mutex reload_mutex_;  // one reload at a time (loading is done outside mutex_)
};

}  // namespace chorus::server
