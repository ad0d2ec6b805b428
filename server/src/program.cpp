#include "program.hpp"

#include <cstdio>
#include <iostream>
#include <variant>

#include "bench_roundtrip.hpp"
#include "chorus/error.hpp"
#include "cli.hpp"
#include "reweight_command.hpp"
#include "serve.hpp"

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
