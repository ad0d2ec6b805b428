#include "model_slot.hpp"

#include <algorithm>
#include <span>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "chorus/error.hpp"

namespace chorus::server {
namespace {

// `what` is "model" or "dipole model". Throws InputError (logged) when the replacement would change
// what the run has promised to keep: its species, its member count.
void check_replacement(std::string_view what, std::span<const int> old_species,
                       std::span<const int> new_species, std::size_t old_members, std::size_t new_members) {
    if (!std::equal(old_species.begin(), old_species.end(), new_species.begin(), new_species.end())) {
        const std::string message = fmt::format(
            "model reload refused: the new {} has species [{}], the running one [{}]; restart chorus serve "
            "to "
            "change species",
            what, fmt::join(new_species, ","), fmt::join(old_species, ","));
        spdlog::error("{}", message);
        throw InputError(message);
    }
    if (new_members != old_members) {
        const std::string message = fmt::format(
            "model reload refused: the new {} has {} committee members, the running one {}; the committee "
            "log "
            "keeps one member count per file: restart chorus serve (with a new --committee-log) instead",
            what, new_members, old_members);
        spdlog::error("{}", message);
        throw InputError(message);
    }
}

}  // namespace

ModelSlot::ModelSlot(std::shared_ptr<const engine::Model> initial, Loader loader)
    : ModelSlot(std::move(initial), std::move(loader), nullptr, {}) {}

ModelSlot::ModelSlot(std::shared_ptr<const engine::Model> initial, Loader loader,
                     std::shared_ptr<const models::dipole::DipoleCommittee> initial_dipole,
                     DipoleLoader dipole_loader)
    : models_{std::move(initial), std::move(initial_dipole)},
      loader_(std::move(loader)),
      dipole_loader_(models_.dipole ? std::move(dipole_loader) : DipoleLoader{}) {}

std::shared_ptr<const engine::Model> ModelSlot::current() const {
    const std::lock_guard lock(mutex_);
    return models_.model;
}

ModelSlot::Models ModelSlot::current_models() const {
    const std::lock_guard lock(mutex_);
    return models_;
}

std::optional<std::string> ModelSlot::dipole_description() const {
    const auto dipole = current_models().dipole;
    return dipole ? std::optional(dipole->description()) : std::nullopt;
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
    const Models old = current_models();
    Models fresh;
    try {
        // Loaded outside mutex_: evaluations keep taking the old models while the files are read.
        fresh.model = loader_();
        if (dipole_loader_) {
            fresh.dipole = dipole_loader_();
        }
    } catch (const Error& error) {
        spdlog::error("model reload refused, the current models stay: {}", error.what());
        throw;
    }
    check_replacement("model", old.model->species(), fresh.model->species(), old.model->committee_size(),
                      fresh.model->committee_size());
    if (fresh.dipole) {
        check_replacement("dipole model", old.dipole->species(), fresh.dipole->species(),
                          old.dipole->committee_size(), fresh.dipole->committee_size());
    } else {
        fresh.dipole = old.dipole;  // no dipole loader: the dipole model stays
    }
    std::string description = fresh.model->description();
    const bool dipole_reloaded = dipole_loader_ != nullptr;
    const std::string dipole_line = dipole_reloaded
                                        ? fmt::format("; dipole model reloaded: {} (was: {})",
                                                      fresh.dipole->description(), old.dipole->description())
                                        : std::string();
    {
        const std::lock_guard lock(mutex_);
        models_ = std::move(fresh);
        ++reloads_;
    }
    spdlog::info("model reloaded: {} (was: {}){}", description, old.model->description(), dipole_line);
    return description;
}

}  // namespace chorus::server
