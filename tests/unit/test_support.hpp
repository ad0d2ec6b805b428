#pragma once
// Helpers shared by the unit tests.
#include <filesystem>
#include <string>

namespace chorus::test {

// True when the runner was started with --regenerate.
bool regenerate_references();

// tests/data/<name> in the source tree.
inline std::filesystem::path data_path(const std::string& name) {
    return std::filesystem::path(CHORUS_TEST_DATA_DIR) / name;
}

}  // namespace chorus::test
