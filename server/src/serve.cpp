#include "serve.hpp"

#include <csignal>
#include <memory>
#include <vector>

#include <fmt/format.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/task_arena.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>

#include "capture.hpp"
#include "chorus/error.hpp"
#include "chorus/models/model_file.hpp"
#include "committee_log.hpp"
#include "control_server.hpp"
#include "evaluation_arena.hpp"
#include "live_store.hpp"
#include "session.hpp"
#include "species.hpp"

namespace chorus::server {
namespace {

std::string_view name_of(Periodicity periodicity) {
    switch (periodicity) {
        case Periodicity::yes:
            return "yes";
        case Periodicity::no:
            return "no";
        case Periodicity::automatic:
            break;
    }
    return "auto";
}

std::string_view name_of(ExtrasMode mode) {
    switch (mode) {
        case ExtrasMode::energies:
            return "energies";
        case ExtrasMode::none:
            return "none";
        case ExtrasMode::full:
            break;
    }
    return "full";
}

void log_settings(const ServeSettings& settings, const engine::Model& model, const std::vector<int>& species,
                  int threads) {
    spdlog::info("model: {}", model.description());
    for (const auto& address : settings.addresses) {
        spdlog::info("server: {} ({} connection{})", describe(address), settings.clients_per_address,
                     settings.clients_per_address == 1 ? "" : "s");
    }
    spdlog::info(
        "settings: species pattern [{}], pbc {}, extras {}, track-beads {}, persist {}, retry-for {}, "
        "threads {}, max-atoms {}",
        species == std::vector<int>{0} ? std::string("any (atomic number 0)") : format_species(species),
        name_of(settings.periodicity), name_of(settings.extras), settings.track_beads ? "on" : "off",
        settings.persist ? "on" : "off",
        settings.retry_for_seconds ? fmt::format("{} s", *settings.retry_for_seconds)
                                   : std::string("forever"),
        threads, settings.max_atoms);
}

// Refused rather than ignored: a driven-dynamics run without BEC in the extras stops in i-PI with
// a KeyError far from its cause.
void check_born_charges(const ServeSettings& settings) {
    if (!settings.born_charges) {
        return;
    }
    if (!settings.dipole_model_path) {
        throw ConfigError(
            "--born-charges needs --dipole-model: the Born effective charges are the derivatives of a dipole "
            "model (chorus train --target dipole); give --dipole-model FILE or drop --born-charges");
    }
    if (settings.extras == ExtrasMode::none) {
        throw ConfigError(
            "--born-charges with --extras none: \"dipole\" and \"BEC\" travel in the extras; use --extras "
            "energies (or full) or drop --born-charges");
    }
}

}  // namespace

void configure_logging(spdlog::level::level_enum level) {
    // Not registered by name: configuring twice (tests, benchmarks) must not throw.
    auto logger =
        std::make_shared<spdlog::logger>("chorus", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    logger->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%^%l%$] %v");
    logger->set_level(level);
    spdlog::set_default_logger(std::move(logger));
}

int run_serve(const ServeSettings& settings) {
    configure_logging(settings.log_level);
    check_born_charges(settings);  // before the (slow) model load
    const auto model = with_baseline(models::load_model(settings.model_path), settings.baseline);
    // `reload` re-reads the path given at start, never one from the request.
    return run_serve(settings, *model, true, [&settings] {
        return with_baseline(models::load_model(settings.model_path), settings.baseline);
    });
}

int run_serve(const ServeSettings& settings, const engine::Model& model, bool handle_signals,
              ModelSlot::Loader reload_loader) {
    check_born_charges(settings);
    EvaluationSettings evaluation;
    evaluation.periodicity = settings.periodicity;
    evaluation.species_pattern = resolve_species_pattern(settings.species_pattern, model.species());
    evaluation.extras = settings.extras;
    evaluation.atomic_uncertainty = settings.atomic_uncertainty;
    evaluation.born_charges = settings.born_charges;
    std::shared_ptr<const models::dipole::DipoleCommittee> dipole;
    ModelSlot::DipoleLoader dipole_reload_loader;
    if (settings.dipole_model_path) {
        dipole = models::dipole::load_dipole_committee(*settings.dipole_model_path);
        evaluation.dipole = dipole.get();
        if (reload_loader) {
            // `reload` re-reads --dipole-model too (the path given at start).
            dipole_reload_loader = [&settings] {
                return std::shared_ptr<const models::dipole::DipoleCommittee>(
                    models::dipole::load_dipole_committee(*settings.dipole_model_path));
            };
        }
        spdlog::info("dipole model: {} ({}); keys chorus_dipole* in the extras, e·Bohr",
                     *settings.dipole_model_path, dipole->description());
        if (settings.born_charges) {
            spdlog::info(
                "born charges: keys dipole (e·Bohr) and BEC (e) in the extras, for i-PI's driven dynamics");
        }
        if (settings.extras == ExtrasMode::none && !settings.committee_log_path &&
            !settings.control_address) {
            spdlog::warn(
                "--dipole-model with --extras none: the dipole is computed into nothing; drop --extras none");
        }
    }

    // Not owned: `model` outlives the run; reloaded models are owned by the slot and the evaluations.
    ModelSlot model_slot(std::shared_ptr<const engine::Model>(std::shared_ptr<void>(), &model),
                         std::move(reload_loader), dipole, std::move(dipole_reload_loader));
    evaluation.model_slot = &model_slot;

    const int threads = settings.threads > 0 ? settings.threads : tbb::info::default_concurrency();
    log_settings(settings, model, evaluation.species_pattern, threads);

    std::unique_ptr<CommitteeLog> committee_log;
    if (settings.committee_log_path) {
        committee_log = std::make_unique<CommitteeLog>(
            *settings.committee_log_path,
            CommitteeLogHeader{model.description(), model.committee_size(), settings.temperature_kelvin,
                               dipole ? dipole->committee_size() : 0});
        evaluation.committee_log = committee_log.get();
        spdlog::info("committee log: appending to '{}'", *settings.committee_log_path);
    }
    // One connection: its requests are evaluated on the I/O thread (SessionSettings::evaluate_inline).
    const bool evaluate_inline =
        settings.addresses.size() * static_cast<std::size_t>(settings.clients_per_address) == 1;
    EvaluationArena evaluation_arena(threads, evaluate_inline);
    tbb::task_arena& arena = evaluation_arena.arena();
    spdlog::debug("evaluation: {} ({} thread{})",
                  evaluate_inline ? "on the I/O thread (one connection)" : "handed to the arena's workers",
                  threads, threads == 1 ? "" : "s");

    // --control: the live store is filled by the evaluations; the control server reads it.
    std::unique_ptr<LiveStore> live;
    std::unique_ptr<Capture> capture;
    std::unique_ptr<ControlServer> control;
    if (settings.capture_dir && !settings.control_address) {
        throw ConfigError("--capture-dir needs --control: captures are started by a `capture` request");
    }
    if (settings.control_address) {
        const ControlAddress address = parse_control_address(*settings.control_address);
        if (address.tcp && !is_loopback_host(address.host) && !settings.control_token) {
            throw ConfigError(
                fmt::format("--control {} is not a loopback address: anyone who can reach it could query the "
                            "daemon; give --control-token (or CHORUS_CONTROL_TOKEN) or listen on 127.0.0.1",
                            address.text));
        }
        LiveStore::Options live_options;
        live_options.dipole = dipole != nullptr;
        live = std::make_unique<LiveStore>(model.committee_size(), live_options);
        evaluation.live = live.get();
        if (settings.capture_dir) {
            capture = std::make_unique<Capture>(*settings.capture_dir);
            evaluation.capture = capture.get();
        }
    }

    asio::io_context io_context(1);
    std::vector<std::unique_ptr<Session>> sessions;
    for (const auto& address : settings.addresses) {
        for (int index = 0; index < settings.clients_per_address; ++index) {
            SessionSettings session_settings;
            session_settings.address = address;
            session_settings.index = index;
            session_settings.track_beads = settings.track_beads;
            session_settings.persist = settings.persist;
            if (settings.retry_for_seconds) {
                session_settings.retry_for = Backoff::Duration(*settings.retry_for_seconds);
            }
            session_settings.max_atoms = settings.max_atoms;
            session_settings.evaluate_inline = evaluate_inline;
            session_settings.evaluation = evaluation;
            session_settings.evaluation.connection = fmt::format("{}#{}", describe(address), index);
            if (live) {
                session_settings.evaluation.live_connection =
                    live->add_connection(session_settings.evaluation.connection, describe(address));
            }
            sessions.push_back(std::make_unique<Session>(io_context.get_executor(),
                                                         std::move(session_settings), model, arena));
        }
    }

    if (settings.control_address) {
        // Started after the store knows every connection, before any session runs.
        ControlContext context{model.description(), settings.temperature_kelvin, settings.control_token,
                               &model_slot};
        if (committee_log) {
            // The log says where its member energies change committee (issue 9).
            context.on_reload = [&committee_log, &settings, &model_slot](const std::string& description) {
                std::string identity = reload_identity(settings.model_path, description);
                if (settings.dipole_model_path) {
                    // Reloaded with it: the dipole columns change committee at the same line.
                    identity +=
                        "; dipole model " + reload_identity(*settings.dipole_model_path,
                                                            model_slot.dipole_description().value_or(""));
                }
                committee_log->note_reload(identity);
            };
        }
        control = std::make_unique<ControlServer>(parse_control_address(*settings.control_address),
                                                  ControlHandler(std::move(context), *live, capture.get()));
        spdlog::info("control: listening on {}{}{}", control->endpoint(),
                     control->endpoint().starts_with("unix:") ? " (mode 0600)" : "",
                     settings.control_token ? ", token required" : "");
        if (capture) {
            spdlog::info("control: `capture` writes into '{}'", *settings.capture_dir);
        }
    }

    asio::signal_set signals(io_context);
    if (handle_signals) {
        signals.add(SIGINT);
        signals.add(SIGTERM);
        signals.async_wait([&](const std::error_code& error, int signal_number) {
            if (error) {
                return;
            }
            spdlog::info("received signal {}: finishing evaluations in flight, then closing", signal_number);
            for (auto& session : sessions) {
                session->stop();
            }
        });
    }

    std::size_t running = sessions.size();
    bool any_gave_up = false;
    for (auto& session : sessions) {
        asio::co_spawn(io_context, session->run(), [&](std::exception_ptr error, SessionOutcome outcome) {
            if (error) {
                // Sessions catch what they expect; anything else is a bug worth a clear line.
                try {
                    std::rethrow_exception(error);
                } catch (const std::exception& exception) {
                    spdlog::critical("a session failed unexpectedly: {}", exception.what());
                } catch (...) {
                    spdlog::critical("a session failed unexpectedly");
                }
                any_gave_up = true;
            } else if (outcome == SessionOutcome::gave_up) {
                any_gave_up = true;
            }
            if (--running == 0) {
                std::error_code ignored;
                signals.cancel(ignored);
            }
        });
    }
    io_context.run();

    if (handle_signals) {
        // Destroying the signal_set gives SIGINT/SIGTERM back their default action, which would kill a
        // process that has already shut down cleanly (exit status -15 instead of 0) if a signal arrives in
        // the last moments before exit. We are exiting anyway: ignore them from here on.
        std::error_code ignored;
        signals.clear(ignored);
        std::signal(SIGINT, SIG_IGN);
        std::signal(SIGTERM, SIG_IGN);
    }

    if (control) {
        control->stop();
    }
    if (capture) {
        capture->close();
    }
    if (committee_log) {
        // Every answered structure was queued before its answer went out: this writes them all.
        committee_log->close();
    }

    std::uint64_t answered = 0;
    for (const auto& session : sessions) {
        answered += session->answered();
    }
    spdlog::info("all connections ended after {} answered request{}; exiting", answered,
                 answered == 1 ? "" : "s");
    return any_gave_up ? 1 : 0;
}

}  // namespace chorus::server
