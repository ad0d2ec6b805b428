#pragma once
// `chorus serve`: load the model, keep --clients connections per address up, exit when all end.
#include "chorus/engine/model.hpp"
#include "model_slot.hpp"
#include "settings.hpp"

namespace chorus::server {

// Returns the process exit code: 0 when every session ended by EXIT (or by SIGINT/SIGTERM), 1 when
// any gave up connecting. Throws ConfigError (and other chorus::Error) for start-up failures.
int run_serve(const ServeSettings& settings);

// The same with a model already loaded (tests, benchmarks). Installs no signal handlers when
// `handle_signals` is false. Without a `reload_loader`, a `reload` control request is refused.
int run_serve(const ServeSettings& settings, const engine::Model& model, bool handle_signals = true,
              ModelSlot::Loader reload_loader = {});

// Sets up the default logger (stderr, one line per event) at the given level.
void configure_logging(spdlog::level::level_enum level);

}  // namespace chorus::server
