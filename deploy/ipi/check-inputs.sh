#!/usr/bin/env bash
# Runs every i-PI input of this folder with real i-PI and chorus, the way README.md says, each in a
# fresh scratch folder, and prints one summary per input: i-PI's version, wall time, steps, the last
# properties line and, for the committee runs, `chorus reweight` of the committee energies.
#
#   deploy/ipi/check-inputs.sh --chorus BIN [--ipi 'i-pi'] [--python PY] [--work DIR] [INPUT.xml...]
#
#   --chorus BIN   the chorus executable (e.g. build/release/chorus)
#   --ipi CMD      how to start i-PI (default: i-pi); e.g. 'python3 /path/to/i-pi/bin/i-pi'
#   --python PY    Python with i-PI importable, for i-pi-remdsort (default: python3)
#   --ipi-bin DIR  folder of i-PI's scripts, for i-pi-remdsort (default: found on PATH)
#   --work DIR     scratch folder (default: a new temporary one, kept for inspection)
#
# Needs i-PI 3.x, and free UNIX socket names /tmp/ipi_chorus-* and TCP ports 31415 and 31420.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
chorus=
ipi="i-pi"
python=python3
ipi_bin=
work=
inputs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --chorus) chorus=$(realpath "$2"); shift 2 ;;
    --ipi) ipi=$2; shift 2 ;;
    --python) python=$2; shift 2 ;;
    --ipi-bin) ipi_bin=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    -*) echo "check-inputs: unknown option '$1' (see --help)" >&2; exit 2 ;;
    *) inputs+=("$(basename "$1")"); shift ;;
  esac
done
if [ -z "$chorus" ] || [ ! -x "$chorus" ]; then
  echo "check-inputs: give the chorus executable with --chorus BIN" >&2; exit 2
fi
if [ ${#inputs[@]} -eq 0 ]; then
  inputs=(argon-md-single.xml argon-pimd-committee.xml water-single.xml water-pimd-committee.xml
          water-remd-committee.xml)
fi
work=${work:-$(mktemp -d /tmp/chorus-ipi-check.XXXXXX)}
mkdir -p "$work"
remdsort=${ipi_bin:+$ipi_bin/}i-pi-remdsort
if [ -z "$ipi_bin" ]; then remdsort=$(command -v i-pi-remdsort || echo i-pi-remdsort); fi

argon=$repo/models/pretrained/argon-lj-committee.json
water=$repo/models/pretrained/water-committee.json

# The chorus engines of each input: one line per engine, the arguments after `chorus serve`.
engines_of() {
  case "$1" in
    argon-md-single.xml) echo "--model $argon --connect tcp:localhost:31415" ;;
    argon-pimd-committee.xml) echo "--model $argon --connect unix:chorus-argon --clients 2 --track-beads" ;;
    water-single.xml) echo "--model $water --connect unix:chorus-water --species O,H,H" ;;
    water-pimd-committee.xml)
      for _ in 1 2; do
        echo "--model $water --connect unix:chorus-pimd --species O,H,H --clients 2 --threads 1 --track-beads"
      done ;;
    water-remd-committee.xml)
      for _ in 1 2; do
        echo "--model $water --connect tcp:localhost:31420 --species O,H,H --clients 2 --threads 1"
      done ;;
    *) return 1 ;;
  esac
}

# The socket files the input's i-PI creates (a crashed run leaves them behind).
sockets_of() {
  grep -o "<address>[^<]*</address>" "$1" | sed 's|<address> *||; s| *</address>||' |
    grep -v '^[0-9.]*$' | grep -v '^localhost$' | sed 's|^|/tmp/ipi_|' || true
}

# The first row of `chorus reweight --table`: observable, average, statistical error, block size,
# blocks, member mean, committee spread.
first_row() { awk '/^ *obs /{ getline; $1 = $1; print; exit }' "$1"; }

ipi_version=$(cd "$work" && $python -c 'import ipi; print(ipi.__version__)' 2>/dev/null || echo unknown)
echo "check-inputs: i-PI $ipi_version ($ipi), chorus $("$chorus" version | head -n 1), scratch $work"

failed=0
for input in "${inputs[@]}"; do
  run=$work/${input%.xml}
  rm -rf "$run"
  mkdir -p "$run"
  cp "$here/$input" "$run/"
  cp "$here"/*.xyz "$run/"
  mapfile -t engines < <(engines_of "$input") || { echo "check-inputs: no recipe for $input" >&2; exit 2; }
  for socket in $(sockets_of "$here/$input"); do rm -f "$socket"; done

  cd "$run"
  start=$(date +%s.%N)
  $ipi "$input" >ipi.log 2>&1 &
  ipi_pid=$!
  engine_pids=()
  for i in "${!engines[@]}"; do
    # shellcheck disable=SC2086  # the recipe is a list of arguments
    "$chorus" serve ${engines[$i]} --retry-for 120 >"chorus$i.log" 2>&1 &
    engine_pids+=($!)
  done
  status=0
  wait "$ipi_pid" || status=$?
  elapsed=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
  for pid in "${engine_pids[@]}"; do wait "$pid" || status=$((status == 0 ? 1 : status)); done

  last=
  for properties in ./*.out; do
    if [ -e "$properties" ]; then last=$(grep -v '^#' "$properties" | tail -n 1 | tr -s ' '); fi
    break
  done
  answered=$(grep -ho 'after [0-9]* answered' chorus*.log | awk '{ s += $2 } END { print s + 0 }')
  printf 'check-inputs: %s: exit %d, %.1f s wall, %d force evaluations; last properties line:%s\n' \
    "$input" "$status" "$elapsed" "$answered" "$last"
  if [ "$status" -ne 0 ]; then
    failed=1
    tail -n 5 ipi.log chorus*.log >&2 || true
  fi

  # Committee runs: reweight the member energies i-PI wrote (per temperature after remdsort).
  case "$input" in
    argon-pimd-committee.xml|water-pimd-committee.xml)
      "$chorus" reweight --ipi-extras ./*.committee_pot_* --input "$input" --table >reweight.txt 2>&1 ||
        failed=1
      echo "  reweight: $(sed -n '1p' reweight.txt)"
      echo "  reweight: $(first_row reweight.txt)" ;;
    water-remd-committee.xml)
      $python "$remdsort" "$input" >remdsort.log 2>&1 || { failed=1; tail -n 5 remdsort.log >&2; }
      for sorted in SRT_*_*.committee_pot_0; do
        [ -e "$sorted" ] || { failed=1; echo "  remdsort wrote no SRT_* files" >&2; break; }
        temperature=${sorted#SRT_T}
        temperature=${temperature%%_*}
        "$chorus" reweight --ipi-extras "$sorted" --temperature "$temperature" --table \
          >"reweight-$temperature.txt" 2>&1 || failed=1
        echo "  reweight $temperature K: $(first_row "reweight-$temperature.txt")"
      done ;;
  esac
  cd "$here"
done

if [ "$failed" -ne 0 ]; then echo "check-inputs: FAILED (logs in $work)"; exit 1; fi
echo "check-inputs: all ${#inputs[@]} inputs ran (logs in $work)"
