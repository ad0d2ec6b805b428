#include "cli.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <oneapi/tbb/version.h>
#include <spdlog/version.h>
#include <CLI/CLI.hpp>
#include <Eigen/Core>
#include <asio/version.hpp>
#include <nlohmann/json.hpp>

#include "chorus/error.hpp"
#include "species.hpp"

#ifndef CHORUS_VERSION
#define CHORUS_VERSION "unknown"
#endif

namespace chorus::server {
namespace {

const std::map<std::string, Periodicity> periodicity_names = {
    {"auto", Periodicity::automatic}, {"yes", Periodicity::yes}, {"no", Periodicity::no}};
const std::map<std::string, ExtrasMode> extras_names = {
    {"full", ExtrasMode::full}, {"energies", ExtrasMode::energies}, {"none", ExtrasMode::none}};
const std::map<std::string, spdlog::level::level_enum> log_level_names = {{"trace", spdlog::level::trace},
                                                                          {"debug", spdlog::level::debug},
                                                                          {"info", spdlog::level::info},
                                                                          {"warn", spdlog::level::warn},
                                                                          {"error", spdlog::level::err}};

// CLI11 validators take the names as a set; the maps above give the values.
template <typename Value>
std::vector<std::string> names_of(const std::map<std::string, Value>& names) {
    std::vector<std::string> keys;
    for (const auto& [key, value] : names) {
        keys.push_back(key);
    }
    return keys;
}

// The parser and the raw values it fills; command() turns them into validated settings.
class CommandLine {
public:
    CommandLine() {
        app_.description("chorus: committee force engine for i-PI (an i-PI protocol client)");
        app_.require_subcommand(1);
        app_.set_version_flag("--version", std::string("chorus ") + CHORUS_VERSION);
        define_serve();
        define_version();
        define_bench();
        define_reweight();  // `chorus reweight` (reweight_command.hpp)
        define_train();     // `chorus train` (train_command.hpp)
        define_eval();      // `chorus eval` (eval_command.hpp)
        define_query();     // `chorus query` (query_command.hpp)
    }

    CLI::App& app() { return app_; }

    Command command() const {
        if (serve_app_->parsed()) {
            return serve_settings();
        }
        if (roundtrip_app_->parsed()) {
            return bench_settings();
        }
        if (reweight_app_->parsed()) {
            return reweight_;
        }
        if (train_app_->parsed()) {
            return train_;
        }
        if (eval_app_->parsed()) {
            return eval_;
        }
        if (query_app_->parsed()) {
            QuerySettings settings = query_;
            if (!query_token_.empty()) {
                settings.token = query_token_;
            }
            return settings;
        }
        return VersionCommand{};
    }

private:
    void define_serve() {
        serve_app_ = app_.add_subcommand("serve", "connect to i-PI (or ASE) and answer force requests");
        serve_app_->add_option("--model", serve_.model_path, "model file")
            ->required()
            ->envname("CHORUS_MODEL");
        add_baseline_options(*serve_app_, serve_.baseline);
        serve_app_
            ->add_option("--connect", connect_,
                         "address of the i-PI server: unix:NAME (/tmp/ipi_NAME), unix:/path, tcp:HOST:PORT, "
                         "tcp:[IPv6]:PORT; repeat for several servers")
            ->required()
            ->take_all()
            ->envname("CHORUS_CONNECT");
        serve_app_->add_option("--clients", serve_.clients_per_address, "connections per address")
            ->check(CLI::Range(1, 4096))
            ->envname("CHORUS_CLIENTS");
        serve_app_->add_option("--pbc", pbc_, "periodicity: auto (periodic unless the cell is zero), yes, no")
            ->check(CLI::IsMember(names_of(periodicity_names)))
            ->envname("CHORUS_PBC");
        serve_app_
            ->add_flag("--track-beads", serve_.track_beads,
                       "answer NEEDINIT after every answer, so i-PI names the bead of each request")
            ->envname("CHORUS_TRACK_BEADS");
        serve_app_
            ->add_option("--species", species_,
                         "element symbols repeated over the atoms, e.g. O,H,H (the protocol carries none)")
            ->envname("CHORUS_SPECIES");
        serve_app_
            ->add_option("--extras", extras_, "extras JSON: full, energies (no member forces/virials), none")
            ->check(CLI::IsMember(names_of(extras_names)))
            ->envname("CHORUS_EXTRAS");
        serve_app_
            ->add_flag(
                "--atomic-uncertainty", serve_.atomic_uncertainty,
                "add chorus_atomic_uncertainty (committee spread of each atom's energy, Ha) to the extras")
            ->envname("CHORUS_ATOMIC_UNCERTAINTY");
        serve_app_->add_flag("--persist", serve_.persist, "reconnect after EXIT instead of ending")
            ->envname("CHORUS_PERSIST");
        retry_for_ = serve_app_
                         ->add_option("--retry-for", retry_for_seconds_,
                                      "give up connecting after this many seconds (default: retry forever)")
                         ->check(CLI::NonNegativeNumber)
                         ->envname("CHORUS_RETRY_FOR");
        serve_app_->add_option("--threads", serve_.threads, "evaluation threads (default: all cores)")
            ->check(CLI::Range(1, 4096))
            ->envname("CHORUS_THREADS");
        serve_app_->add_option("--max-atoms", serve_.max_atoms, "largest atom count accepted from a server")
            ->check(CLI::Range(1, 100'000'000));
        serve_app_
            ->add_option("--dipole-model", serve_.dipole_model_path,
                         "a dipole committee (chorus train --target dipole): its mean, members and σ go into "
                         "the extras as chorus_dipole* (e·Bohr)")
            ->check(CLI::ExistingFile);
        serve_app_
            ->add_flag("--born-charges", serve_.born_charges,
                       "with --dipole-model: add \"dipole\" (e·Bohr) and \"BEC\" (∂μ/∂R, e), the keys of "
                       "i-PI's driven dynamics (eda-nve/eda-nvt, <bec mode=\"driver\"/>), to the extras")
            ->envname("CHORUS_BORN_CHARGES");
        serve_app_
            ->add_option("--committee-log", serve_committee_log_,
                         "append one line per evaluated structure (member energies, spreads) to this file")
            ->envname("CHORUS_COMMITTEE_LOG");
        serve_app_
            ->add_option(
                "--temperature", serve_temperature_,
                "simulation temperature in K, recorded in the committee log's header for reweighting")
            ->check(CLI::PositiveNumber)
            ->envname("CHORUS_TEMPERATURE");
        add_log_level(*serve_app_, serve_log_level_);
        define_serve_control();
    }

    // `chorus serve --control` (control_server.hpp; README "Control API").
    void define_serve_control() {
        serve_app_
            ->add_option("--control", serve_control_,
                         "listen for control/query requests here: PATH or unix:PATH (mode 0600), or "
                         "tcp:127.0.0.1:PORT")
            ->envname("CHORUS_CONTROL");
        serve_app_
            ->add_option("--control-token", serve_control_token_,
                         "require this token on every control request (needed for non-loopback TCP)")
            ->envname("CHORUS_CONTROL_TOKEN");
        serve_app_
            ->add_option("--capture-dir", serve_capture_dir_,
                         "directory where the control API's `capture` writes uncertain structures")
            ->check(CLI::ExistingDirectory);
    }

    void define_query() {
        query_app_ = app_.add_subcommand("query",
                                         "ask a running `chorus serve --control` (status, uncertainty, "
                                         "reweight, capture, metrics, reload)");
        query_app_->add_option("address", query_.address, "the --control address of chorus serve")
            ->required();
        query_app_
            ->add_option("request", query_.request,
                         "status, uncertainty, reweight, capture, metrics or reload")
            ->required();
        query_app_->add_option(
            "arguments", query_.arguments,
            "KEY=VALUE fields of the request, e.g. last=20 temperature=300 threshold=0.01");
        query_app_->add_flag("--json", query_.json, "print the raw JSON response");
        query_app_->add_option("--token", query_token_, "the server's --control-token")
            ->envname("CHORUS_CONTROL_TOKEN");
        query_app_->add_option("--timeout", query_.timeout_seconds, "seconds to wait for the answer")
            ->check(CLI::PositiveNumber);
    }

    void define_version() { app_.add_subcommand("version", "print the version of chorus and its libraries"); }

    void define_bench() {
        auto* bench = app_.add_subcommand("bench", "benchmarks");
        bench->require_subcommand(1);
        roundtrip_app_ = bench->add_subcommand(
            "roundtrip", "time POSDATA+GETFORCE round trips against an in-process i-PI stand-in");
        roundtrip_app_->add_option("--model", bench_model_,
                                   "model file (default: built-in Lennard-Jones argon)");
        auto* atoms = roundtrip_app_->add_option("--atoms", bench_.atoms, "atoms in the argon box")
                          ->check(CLI::Range(2, 1'000'000));
        roundtrip_app_
            ->add_option("--structure", bench_structure_,
                         "time the first frame of this extxyz file (species from the file) instead of argon")
            ->check(CLI::ExistingFile)
            ->excludes(atoms);
        roundtrip_app_
            ->add_option("--replicate", bench_.replicate,
                         "N: time the N×N×N supercell of the (periodic) structure")
            ->check(CLI::Range(1, 100));
        roundtrip_app_->add_option("--threads", bench_.threads, "evaluation threads")
            ->check(CLI::Range(1, 4096));
        roundtrip_app_->add_option("--calls", bench_.calls, "round trips per transport")
            ->check(CLI::Range(1, 10'000'000));
        roundtrip_app_->add_option("--transport", transport_, "unix, tcp or both")
            ->check(CLI::IsMember({"unix", "tcp", "both"}));
        roundtrip_app_->add_option("--json", bench_json_, "also write the results to this JSON file");
        roundtrip_app_->add_flag("--committee-table", bench_.committee_table,
                                 "instead: the committee cost table (members, threads, sizes) of a linear "
                                 "committee --model on --structure");
        roundtrip_app_
            ->add_option(
                "--max-atoms", bench_.max_atoms,
                "--committee-table: time sizes up to this many atoms (the structure replicated n×n×n)")
            ->check(CLI::Range(1L, 100'000'000L));
        roundtrip_app_->add_flag(
            "--shuffle", bench_.shuffle,
            "put the atoms of the (replicated) structure in a random order, as in a large "
            "liquid from a structure builder; --committee-table: in the size and thread rows");
        roundtrip_app_
            ->add_option("--extras", bench_extras_, "extras sent with every answer: full, energies, none")
            ->check(CLI::IsMember(names_of(extras_names)));
    }

    // `chorus reweight`: i-PI's i-pi-committee-reweight flags, plus --temperature, --table, --json.
    void define_reweight() {
        reweight_app_ = app_.add_subcommand(
            "reweight",
            "committee-reweighted averages (CEA or exact) with error bars; a drop-in for i-PI's "
            "i-pi-committee-reweight");
        reweight_app_->add_option("pot_file", reweight_.potentials_path,
                                  "potentials, Hartree: one row per frame, one column per member");
        reweight_app_->add_option("obs_file", reweight_.observables_path,
                                  "observables: one row per frame, one column per observable");
        reweight_app_->add_option(
            "--committee-log", reweight_.committee_log_path,
            "chorus's committee log (chorus serve --committee-log) instead of pot_file");
        reweight_app_
            ->add_option("--ipi-extras", reweight_.ipi_extras_paths,
                         "i-PI committee_pot extras trajectories, one file per bead, instead of pot_file")
            ->expected(1, -1);
        reweight_app_
            ->add_option("--beads", reweight_.beads,
                         "beads per step in a committee log (default: from bead ids, else 1)")
            ->check(CLI::PositiveNumber);
        reweight_app_->add_option("--observables", reweight_.extra_observables_path,
                                  "with --committee-log/--ipi-extras: more observables, one row per step");
        reweight_app_->add_option("--kt", reweight_.kt_hartree, "thermal energy k_B T, Hartree")
            ->check(CLI::PositiveNumber);
        reweight_app_
            ->add_option("--temperature", reweight_.temperature_kelvin, "temperature, K (CODATA 2018 k_B)")
            ->check(CLI::PositiveNumber);
        reweight_app_->add_option("--input", reweight_.ipi_input_path,
                                  "i-PI input file: the ensemble temperature (units attribute honoured)");
        reweight_app_->add_option("--plot", reweight_.plot_path,
                                  "running averages per member of the first observable, FILE.png or FILE.svg "
                                  "(needs gnuplot)");
        reweight_app_->add_option("--stride", reweight_.stride,
                                  "n > 0: use every n-th potential row; n < 0: every |n|-th observable row");
        reweight_app_->add_option("--index", reweight_.index, "0-based observable column (default: all)")
            ->check(CLI::NonNegativeNumber);
        reweight_app_->add_flag("--direct", reweight_.direct,
                                "exact reweighting instead of the cumulant expansion");
        reweight_app_->add_flag(
            "--multi-obs", reweight_.multi_obs,
            "the observable columns are a committee of models: sigma_a / sigma_aV decomposition");
        reweight_app_->add_flag("--table", reweight_.table,
                                "a readable table on stdout instead of i-PI's layout");
        reweight_app_->add_option("--json", reweight_.json_path,
                                  "also write all results as JSON here ('-': stdout)");
    }

    // `chorus train` and `chorus eval` (train_command.hpp, eval_command.hpp).
    void define_train() {
        train_app_ =
            app_.add_subcommand("train", "train a calibrated linear committee on labelled extxyz data");
        train_app_
            ->add_option("--data", train_.data_paths,
                         "labelled extxyz file (energy, forces, stress); repeatable")
            ->required()
            ->check(CLI::ExistingFile);
        train_app_
            ->add_option("--config", train_.config_path, "training configuration JSON (default: built-in)")
            ->check(CLI::ExistingFile);
        train_app_->add_option("--out", train_.out_path, "model file to write")->required();
        train_app_->add_option("--seed", train_.seed, "seed of the split and the committee subsets");
        train_app_
            ->add_option("--baseline", train_.baseline_path,
                         "learn a correction to this model (labels minus its predictions); serve the result "
                         "with --baseline")
            ->check(CLI::ExistingFile);
        train_app_
            ->add_option("--threads", train_.threads,
                         "threads (default: all cores; 1 is bit-for-bit reproducible)")
            ->check(CLI::Range(1, 4096));
        train_app_
            ->add_option(
                "--target", train_.target,
                "what to learn: energy (energies, forces, stress), dipole (the extxyz `dipole`, e·Å) or "
                "polarizability (the extxyz `polarizability`, 9 values row by row)")
            ->check(CLI::IsMember({"energy", "dipole", "polarizability"}));
    }

    void define_eval() {
        eval_app_ = app_.add_subcommand("eval", "errors and calibration of a model on labelled extxyz data");
        eval_app_->add_option("--model", eval_.model_path, "model file")->required();
        add_baseline_options(*eval_app_, eval_.baseline);
        eval_app_->add_option("data", eval_.data_paths, "labelled extxyz files")
            ->required()
            ->check(CLI::ExistingFile);
        eval_app_->add_option("--json", eval_.json_path, "write per-frame predictions and the summary here");
        eval_app_->add_option("--plot", eval_.plot_directory,
                              "write parity and calibration plots (PNG) here");
        eval_app_
            ->add_option(
                "--subset", eval_.subset,
                "frames of the split recorded by `chorus train` for this file: train, validation, test, all")
            ->check(CLI::IsMember({"all", "train", "validation", "test"}));
        eval_app_
            ->add_option(
                "--dipole-observable", eval_.dipole_observable,
                "dipole models: the scalar of each member's dipole for --observables-out (x, y, z in e·Å, "
                "norm2 = |μ|² in (e·Å)²)")
            ->check(CLI::IsMember({"x", "y", "z", "norm2"}));
        eval_app_->add_option(
            "--observables-out", eval_.observables_out,
            "dipole models: write --dipole-observable of every member, one row per frame (several "
            "files of equal length, e.g. one per bead: averaged over them), for `chorus reweight "
            "--observables FILE --multi-obs`");
    }

    static void add_baseline_options(CLI::App& command, BaselineOption& target) {
        command
            .add_option("--baseline", target.path,
                        "the --model committee is a correction (train --baseline) to this model: use both")
            ->check(CLI::ExistingFile);
        command
            .add_option("--baseline-uncertainty", target.uncertainty,
                        "weighted baseline: uncertainty of the baseline, eV per structure (without it, "
                        "baseline + correction in full)")
            ->check(CLI::PositiveNumber);
    }

    static void add_log_level(CLI::App& command, std::string& target) {
        command.add_option("--log-level", target, "trace, debug, info, warn or error")
            ->check(CLI::IsMember(names_of(log_level_names)));
    }

    ServeSettings serve_settings() const {
        ServeSettings settings = serve_;
        settings.addresses.clear();
        for (const auto& text : connect_) {
            settings.addresses.push_back(parse_address(text));
        }
        settings.periodicity = periodicity_names.at(pbc_);
        settings.extras = extras_names.at(extras_);
        settings.log_level = log_level_names.at(serve_log_level_);
        if (!species_.empty()) {
            settings.species_pattern = parse_species_pattern(species_);
        }
        if (retry_for_->count() > 0) {
            settings.retry_for_seconds = retry_for_seconds_;
        }
        if (!serve_committee_log_.empty()) {
            settings.committee_log_path = serve_committee_log_;
        }
        if (serve_temperature_ > 0.0) {
            settings.temperature_kelvin = serve_temperature_;
        }
        if (!serve_control_.empty()) {
            settings.control_address = serve_control_;
        }
        if (!serve_control_token_.empty()) {
            settings.control_token = serve_control_token_;
        }
        if (!serve_capture_dir_.empty()) {
            settings.capture_dir = serve_capture_dir_;
        }
        return settings;
    }

    RoundtripBenchSettings bench_settings() const {
        RoundtripBenchSettings settings = bench_;
        if (!bench_model_.empty()) {
            settings.model_path = bench_model_;
        }
        if (!bench_json_.empty()) {
            settings.json_path = bench_json_;
        }
        if (!bench_structure_.empty()) {
            settings.structure_path = bench_structure_;
        }
        settings.extras = extras_names.at(bench_extras_);
        settings.unix_transport = transport_ != "tcp";
        settings.tcp_transport = transport_ != "unix";
        return settings;
    }

    CLI::App app_;
    CLI::App* serve_app_ = nullptr;
    CLI::App* roundtrip_app_ = nullptr;
    CLI::Option* retry_for_ = nullptr;
    CLI::App* reweight_app_ = nullptr;
    ReweightSettings reweight_;
    CLI::App* train_app_ = nullptr;
    TrainCommandSettings train_;
    CLI::App* eval_app_ = nullptr;
    EvalCommandSettings eval_;

    CLI::App* query_app_ = nullptr;
    QuerySettings query_;
    std::string query_token_;
    std::string serve_control_;
    std::string serve_control_token_;
    std::string serve_capture_dir_;

    ServeSettings serve_;
    std::vector<std::string> connect_;
    std::string pbc_ = "auto";
    std::string extras_ = "full";
    std::string species_;
    std::string serve_log_level_ = "info";
    double retry_for_seconds_ = 0.0;
    std::string serve_committee_log_;
    double serve_temperature_ = 0.0;

    RoundtripBenchSettings bench_;
    std::string bench_model_;
    std::string bench_json_;
    std::string bench_structure_;
    std::string transport_ = "both";
    std::string bench_extras_ = "full";
};

}  // namespace

Command parse_command_line(const std::vector<std::string>& args) {
    CommandLine command_line;
    // CLI11 takes a vector in reverse order (it pops arguments from the back).
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    command_line.app().parse(reversed);
    return command_line.command();
}

CommandLineResult parse_command_line(int argc, char** argv) {
    CommandLine command_line;
    try {
        command_line.app().parse(argc, argv);
    } catch (const CLI::ParseError& error) {
        // Prints help, the version or CLI11's message; anything but help/version is a usage error.
        const int code = command_line.app().exit(error);
        return {std::nullopt, code == 0 ? 0 : 2};
    }
    return {command_line.command(), 0};
}

std::string version_text() {
    return fmt::format(
        "chorus {}\n"
        "built with g++ {}.{}, Asio {}.{}.{}, Eigen {}.{}.{}, oneTBB {}, spdlog {}.{}.{}, CLI11 {}, "
        "nlohmann_json {}.{}.{}",
        CHORUS_VERSION, __GNUC__, __GNUC_MINOR__, ASIO_VERSION / 100000, ASIO_VERSION / 100 % 1000,
        ASIO_VERSION % 100, EIGEN_WORLD_VERSION, EIGEN_MAJOR_VERSION, EIGEN_MINOR_VERSION, TBB_VERSION_STRING,
        SPDLOG_VER_MAJOR, SPDLOG_VER_MINOR, SPDLOG_VER_PATCH, CLI11_VERSION, NLOHMANN_JSON_VERSION_MAJOR,
        NLOHMANN_JSON_VERSION_MINOR, NLOHMANN_JSON_VERSION_PATCH);
}

}  // namespace chorus::server
