#!/usr/bin/env bash
# Builds the libFuzzer targets (CMake preset "fuzz": clang-14, ASan + UBSan, asserts kept) and runs
# each for SECONDS (default 30), one after the other, from its seed corpus tests/fuzz/corpus/<target>.
# Fails on the first finding: a crash, a sanitizer report, a leak, an exception other than the
# chorus error the API documents, an input slower than 10 s, or an allocation over the target's
# limit. The input is saved as build/fuzz/findings/<target>/crash-… (or leak-, timeout-, oom-);
# reproduce it with: build/fuzz/tests/fuzz/chorus_fuzz_<target> FILE
# New interesting inputs accumulate in build/fuzz/corpus/<target> (not in the repository).
#
# Usage: bash deploy/fuzz.sh [SECONDS] [TARGET ...]
#   targets: server_decoder client_decoder init_parameters extxyz model_file control_request
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-30}
shift $(($# > 0 ? 1 : 0))
all_targets=(server_decoder client_decoder init_parameters extxyz model_file control_request)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")

bash deploy/install-deps.sh build
bash deploy/install-deps.sh fuzz

# Largest input (bytes) and largest single allocation (MB) per target. The decoders' fuzzers use
# small protocol limits (about 100 kB per message), so anything bigger is an allocation the limits
# should have stopped; the model files may legitimately build feature tables of a few hundred MB.
declare -A max_len=([server_decoder]=4096 [client_decoder]=4096 [init_parameters]=1024
                    [extxyz]=8192 [model_file]=16384 [control_request]=4096)
declare -A malloc_limit_mb=([server_decoder]=64 [client_decoder]=64 [init_parameters]=64
                            [extxyz]=256 [model_file]=1024 [control_request]=64)

build=build/fuzz
cmake --preset fuzz
binaries=()
for target in "${targets[@]}"; do
  [ -n "${max_len[$target]:-}" ] || { echo "fuzz.sh: unknown target '$target' (${all_targets[*]})" >&2; exit 2; }
  binaries+=("chorus_fuzz_$target")
done
cmake --build --preset fuzz -j "$(nproc)" --target "${binaries[@]}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
for target in "${targets[@]}"; do
  echo "== fuzzing $target for ${seconds} s"
  mkdir -p "$build/corpus/$target" "$build/findings/$target"
  log="$build/findings/$target/last-run.log"
  if ! "$build/tests/fuzz/chorus_fuzz_$target" "$build/corpus/$target" "tests/fuzz/corpus/$target" \
    -max_total_time="$seconds" -max_len="${max_len[$target]}" -timeout=10 -rss_limit_mb=2560 \
    -malloc_limit_mb="${malloc_limit_mb[$target]}" -artifact_prefix="$build/findings/$target/" \
    -print_final_stats=1 >"$log" 2>&1; then
    tail -n 80 "$log"
    echo "fuzz.sh: FINDING in $target; the input is in $build/findings/$target/, the log in $log" >&2
    exit 1
  fi
  grep -E '^#[0-9]+[[:space:]]+DONE|^stat::(number_of_executed_units|peak_rss_mb)' "$log"
done
echo "fuzz.sh: no findings in ${targets[*]} (${seconds} s each)"
