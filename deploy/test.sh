#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs every test chorus has:
#   1. the release build with all unit, golden, end-to-end (ASE peer) tests;
#   2. the unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer;
#   3. a short libFuzzer pass (10 s per target, ASan + UBSan; longer runs: deploy/fuzz.sh SECONDS).
# Usage: bash deploy/test.sh        (from anywhere; as root, or with sudo available)
set -euo pipefail
cd "$(dirname "$0")/.."

bash deploy/install-deps.sh all

jobs=$(nproc)
echo "== release build"
cmake --preset release
cmake --build --preset release -j "$jobs"
echo "== release tests (unit, golden, end-to-end)"
ctest --preset release -j "$jobs"

echo "== unit tests under ASan + UBSan"
cmake --preset debug-asan
# Only the unit-test binaries: the sanitizer pass is for the library code they exercise.
cmake --build --preset debug-asan -j "$jobs" --target \
  chorus_protocol_tests chorus_engine_tests chorus_models_tests chorus_server_tests
ctest --preset debug-asan -j "$jobs"

echo "== short fuzzing pass (libFuzzer, ASan + UBSan)"
bash deploy/fuzz.sh 10
