// Catch2 runner with one extra flag, `--regenerate`: tests that compare against reference files
// in tests/data rewrite them instead (LAMMPS-style), for when a change of values is intended.
// Review the diff of tests/data before committing regenerated files.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "test_support.hpp"

namespace chorus::test {
namespace {
bool regenerate_flag = false;
}
bool regenerate_references() { return regenerate_flag; }
}  // namespace chorus::test

int main(int argc, char* argv[]) {
    Catch::Session session;
    auto cli = session.cli() | Catch::clara::Opt(chorus::test::regenerate_flag)["--regenerate"](
                                   "rewrite reference files in tests/data instead of comparing");
    session.cli(cli);
    if (const int rc = session.applyCommandLine(argc, argv); rc != 0) {
        return rc;
    }
    return session.run();
}
