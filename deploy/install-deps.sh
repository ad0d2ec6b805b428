#!/usr/bin/env bash
# The one place that lists chorus's system packages (Debian 12). Idempotent: installs with apt only
# what is missing, and does nothing when everything is present.
#
#   deploy/install-deps.sh [build|runtime|test|all]   (default: all)
#
#   build    compiler, CMake and the -dev libraries chorus is built from
#   runtime  shared libraries the chorus binary needs (the Docker runtime stage uses this set)
#   test     peers and tools of the test suite and demo: ASE (i-PI protocol server), numpy, gnuplot
#   fuzz     clang and its libFuzzer runtime, for deploy/fuzz.sh (not part of `all`)
set -euo pipefail

BUILD_PACKAGES=(
  g++ cmake make ninja-build pkg-config git
  libasio-dev nlohmann-json3-dev libeigen3-dev libtbb-dev libspdlog-dev libfmt-dev
  libcli11-dev catch2 libbenchmark-dev libpugixml-dev
)
RUNTIME_PACKAGES=(
  libstdc++6 libtbb12 libspdlog1.10 libfmt9 libpugixml1v5
)
TEST_PACKAGES=(
  python3 python3-ase python3-numpy python3-yaml gnuplot-nox procps
)
FUZZ_PACKAGES=(
  clang-14 libclang-rt-14-dev
)

set_name=${1:-all}
case "$set_name" in
  build) wanted=("${BUILD_PACKAGES[@]}") ;;
  runtime) wanted=("${RUNTIME_PACKAGES[@]}") ;;
  test) wanted=("${TEST_PACKAGES[@]}") ;;
  fuzz) wanted=("${FUZZ_PACKAGES[@]}") ;;
  all) wanted=("${BUILD_PACKAGES[@]}" "${RUNTIME_PACKAGES[@]}" "${TEST_PACKAGES[@]}") ;;
  list-build) printf '%s\n' "${BUILD_PACKAGES[@]}"; exit 0 ;;
  list-runtime) printf '%s\n' "${RUNTIME_PACKAGES[@]}"; exit 0 ;;
  *) echo "install-deps.sh: unknown set '$set_name' (expected build, runtime, test, fuzz or all)" >&2; exit 2 ;;
esac

missing=()
for package in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps.sh: all ${#wanted[@]} packages of set '$set_name' are present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "install-deps.sh: missing ${missing[*]}; run as root (or install sudo)" >&2; exit 1
  fi
else
  SUDO=
fi

echo "install-deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
