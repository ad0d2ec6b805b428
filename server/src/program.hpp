#pragma once
// The whole `chorus` program behind main(): parse, run the subcommand, map failures to exit codes.

namespace chorus::server {

// 0: success (every session ended by EXIT, or a signal); 1: a session gave up connecting;
// 2: bad command line or configuration.
int run_program(int argc, char** argv);

}  // namespace chorus::server
