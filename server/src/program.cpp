#include "program.hpp"

#include <cstdio>
#include <iostream>
#include <variant>

#include "bench_roundtrip.hpp"
#include "chorus/error.hpp"
#include "cli.hpp"
#include "eval_command.hpp"
#include "query_command.hpp"
#include "reweight_command.hpp"
#include "serve.hpp"
#include "train_command.hpp"

namespace chorus::server {

int run_program(int argc, char** argv) {
    try {
        const CommandLineResult parsed = parse_command_line(argc, argv);
        if (!parsed.command) {
            return parsed.exit_code;
        }
        if (const auto* serve = std::get_if<ServeSettings>(&*parsed.command)) {
            return run_serve(*serve);
        }
        if (const auto* bench = std::get_if<RoundtripBenchSettings>(&*parsed.command)) {
            return run_roundtrip_bench(*bench);
        }
        if (const auto* reweight = std::get_if<ReweightSettings>(&*parsed.command)) {
            return run_reweight(*reweight, std::cout, std::cerr);
        }
        if (const auto* train = std::get_if<TrainCommandSettings>(&*parsed.command)) {
            TrainCommandSettings recorded = *train;  // the model file records how it was made
            recorded.command_line.assign(argv, argv + argc);
            recorded.command_line.front() = "chorus";  // not the build directory it happened to run from
            return run_train(recorded, std::cout);
        }
        if (const auto* eval = std::get_if<EvalCommandSettings>(&*parsed.command)) {
            return run_eval(*eval, std::cout);
        }
        if (const auto* query = std::get_if<QuerySettings>(&*parsed.command)) {
            return run_query(*query, std::cout, std::cerr);
        }
        std::puts(version_text().c_str());
        return 0;
    } catch (const Error& error) {
        // Configuration and start-up failures (bad address or species, unreadable model file):
        // one line, no stack of log noise. Failures of a running session never get here.
        std::fprintf(stderr, "chorus: error: %s\n", error.what());
        return 2;
    }
}

}  // namespace chorus::server
