#include "model_slot.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "chorus/error.hpp"

namespace chorus::server {

ModelSlot::ModelSlot(std::shared_ptr<const engine::Model> initial, Loader loader)
    : model_(std::move(initial)), loader_(std::move(loader)) {}

std::shared_ptr<const engine::Model> ModelSlot::current() const {
    const std::lock_guard lock(mutex_);
    return model_;
}

std::uint64_t ModelSlot::reloads() const {
    const std::lock_guard lock(mutex_);
    return reloads_;
}

std::string ModelSlot::reload() {
    const std::lock_guard reloading(reload_mutex_);
    if (!loader_) {
        throw InputError("reload is not available: this server was not started from a --model file");
    }
    const std::shared_ptr<const engine::Model> old = current();
    std::shared_ptr<const engine::Model> fresh;
    try {
        // Loaded outside mutex_: evaluations keep taking the old model while the file is read.
        fresh = loader_();
    } catch (const Error& error) {
        spdlog::error("model reload refused, the current model stays: {}", error.what());
        throw;
    }
    const auto old_species = old->species();
    const auto new_species = fresh->species();
    if (!std::equal(old_species.begin(), old_species.end(), new_species.begin(), new_species.end())) {
        const std::string message = fmt::format(
            "model reload refused: the new model has species [{}], the running one [{}]; restart chorus "
            "serve to change species",
            fmt::join(new_species, ","), fmt::join(old_species, ","));
        spdlog::error("{}", message);
        throw InputError(message);
    }
    if (fresh->committee_size() != old->committee_size()) {
        const std::string message = fmt::format(
            "model reload refused: the new model has {} committee members, the running one {}; the committee "
            "log keeps one member count per file: restart chorus serve (with a new --committee-log) instead",
            fresh->committee_size(), old->committee_size());
        spdlog::error("{}", message);
        throw InputError(message);
    }
    std::string description = fresh->description();
    {
        const std::lock_guard lock(mutex_);
        model_ = std::move(fresh);
        ++reloads_;
    }
    spdlog::info("model reloaded: {} (was: {})", description, old->description());
    return description;
}

}  // namespace chorus::server
