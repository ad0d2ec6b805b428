#pragma once
// The model that `chorus serve` evaluates with, replaceable while it runs (control request
// `reload`): evaluations take a reference-counted handle at the start of a request, so a swap
// never changes the model under an evaluation in flight; that one finishes with the old model,
// which is freed when its last evaluation drops the handle.
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "chorus/engine/model.hpp"

namespace chorus::server {

class ModelSlot {
public:
    // Builds a fresh model from the file given at start (--model, with --baseline applied);
    // throws the loader's errors.
    using Loader = std::function<std::shared_ptr<const engine::Model>()>;

    ModelSlot(std::shared_ptr<const engine::Model> initial, Loader loader);

    // The model for the next evaluation. Thread safe.
    std::shared_ptr<const engine::Model> current() const;

    // Loads a new model with the loader, checks it against the current one, and swaps it in.
    // Throws (and keeps the current model) when the file cannot be read or is invalid (IoError,
    // ConfigError), when there is no loader (InputError), or when the new model has other species
    // or another committee size than the current one (InputError: the committee log and the live
    // store keep one member count per run). Returns the new model's description; logs one line.
    // Thread safe; meant for the control server's thread.
    std::string reload();

    std::uint64_t reloads() const;

private:
    mutable std::mutex mutex_;
    std::shared_ptr<const engine::Model> model_;
    Loader loader_;
    std::uint64_t reloads_ = 0;
    std::mutex reload_mutex_;  // one reload at a time (loading is done outside mutex_)
};

}  // namespace chorus::server
