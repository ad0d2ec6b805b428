#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds chorus and runs the demo: a short ASE molecular
# dynamics run whose forces come from `chorus serve` over the i-PI socket protocol.
# Usage: bash deploy/demo.sh        (from anywhere; as root, or with sudo available)
set -euo pipefail
cd "$(dirname "$0")/.."

bash deploy/install-deps.sh all
cmake --preset release
cmake --build --preset release -j "$(nproc)" --target chorus
exec /usr/bin/python3 deploy/demo/run_demo.py --chorus build/release/chorus "$@"
