#pragma once
// The command line of the `chorus` executable (CLI11). Subcommands: serve, version, bench; more
// (train, eval, reweight, query) are added as further alternatives of Command.
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "eval_command.hpp"      // EvalCommandSettings (`chorus eval`)
#include "query_command.hpp"     // QuerySettings (`chorus query`)
#include "reweight_command.hpp"  // ReweightSettings (`chorus reweight`)
#include "settings.hpp"
#include "train_command.hpp"  // TrainCommandSettings (`chorus train`)

namespace chorus::server {

using Command = std::variant<ServeSettings, RoundtripBenchSettings, VersionCommand, ReweightSettings,
                             TrainCommandSettings, EvalCommandSettings, QuerySettings>;

// Parses `args` (without the program name). Throws CLI::ParseError (including CLI::CallForHelp)
// for bad flags and ConfigError for values CLI11 cannot judge (addresses, species).
Command parse_command_line(const std::vector<std::string>& args);

struct CommandLineResult {
    std::optional<Command> command;  // nothing to run when empty (help, --version, bad flags)
    int exit_code = 0;               // when `command` is empty: 0 after help/--version, 2 after an error
};

// Parses the process's command line; prints help, the version or CLI11's error message itself.
// Throws ConfigError like the overload above.
CommandLineResult parse_command_line(int argc, char** argv);

// "chorus 0.1.0" and the versions of the libraries it was built with.
std::string version_text();

}  // namespace chorus::server
