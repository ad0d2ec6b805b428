#!/usr/bin/env bash
# Soak test (not in CI): `chorus serve --clients 64` against a small i-PI-like server that drives all
# 64 connections as fast as chorus answers, for MINUTES (default 10), with an argon Lennard-Jones
# committee. Every few seconds it samples chorus's resident memory (/proc/PID/status VmRSS) and
# threads, and the latency percentiles and structure count of the control API's `status`; at the end
# it prints the table and whether RSS stayed within 5 % of its value at the end of the warm-up
# (the first fifth of the run, at most 2 minutes). The control API keeps every record for the live
# `reweight` (README: up to 4 194 304 records, 8·(M+2)+8 bytes each, 57 here with malloc's page
# rounding): that designed, bounded growth is computed from the structure count, printed, and
# subtracted before the 5 % check. Exit status 0 when flat, 1 when not (or when chorus died or a
# connection failed). The round-trip latency is mostly this Python driver's (64 threads, one GIL).
#
# Usage: bash deploy/soak.sh [--minutes M] [--clients N] [--atoms A] [--interval S] [--chorus PATH]
#   --chorus defaults to build/release/chorus, then build/lead/chorus (build it first).
set -euo pipefail
cd "$(dirname "$0")/.."

chorus=""
for candidate in build/release/chorus build/lead/chorus; do
    if [ -z "$chorus" ] && [ -x "$candidate" ]; then chorus=$candidate; fi
done
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --chorus) chorus=$2; shift 2 ;;
        *) args+=("$1"); shift ;;
    esac
done
if [ -z "$chorus" ] || [ ! -x "$chorus" ]; then
    echo "soak.sh: no chorus executable; build one (cmake --build build/release --target chorus) or give --chorus PATH" >&2
    exit 2
fi

exec /usr/bin/python3 - --chorus "$chorus" "${args[@]+"${args[@]}"}" <<'PYTHON'
import argparse
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.getcwd(), "tests", "e2e"))
from ipi_test_server import HEADER_SIZE, argon_cluster, header  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--chorus", required=True)
parser.add_argument("--minutes", type=float, default=10.0)
parser.add_argument("--clients", type=int, default=64)
parser.add_argument("--atoms", type=int, default=32)
parser.add_argument("--interval", type=float, default=5.0, help="seconds between samples")
args = parser.parse_args()

work = tempfile.mkdtemp(prefix="chorus_soak_")
model = os.path.join(work, "argon-committee.json")
with open(model, "w") as out:
    json.dump({"kind": "lennard-jones-committee", "cutoff": 8.5, "alpha": 1.0,
               "members": [{"epsilon": 0.0104, "sigma": 3.40}, {"epsilon": 0.0101, "sigma": 3.43},
                           {"epsilon": 0.0107, "sigma": 3.38}, {"epsilon": 0.0102, "sigma": 3.41}]}, out)
MEMBERS = 4
SERIES_CAPACITY = 4_194_304
socket_path = f"/tmp/ipi_chorus_soak_{os.getpid()}"
control = os.path.join(work, "control.sock")


def posdata(structure):
    h = structure.cell.T / 0.529177210903
    h_inverse = h * 0.0  # not periodic
    positions = structure.positions / 0.529177210903
    return (header("POSDATA") + h.astype("<f8").tobytes() + h_inverse.astype("<f8").tobytes()
            + struct.pack("<i", structure.atoms) + positions.astype("<f8").tobytes() + header("GETFORCE"))


# Sixteen structures, cycled: the answers are not all alike, the driver spends no time building them.
messages = [posdata(argon_cluster(args.atoms, seed)) for seed in range(16)]
stop = threading.Event()
steps = [0] * args.clients
failures = []


def receive(connection, count):
    data = bytearray()
    while len(data) < count:
        chunk = connection.recv(count - len(data))
        if not chunk:
            raise ConnectionError("chorus closed the connection")
        data += chunk
    return bytes(data)


def drive(connection, index):
    """i-PI order: STATUS, (INIT), POSDATA+GETFORCE, FORCEREADY …, until stopped; then EXIT."""
    try:
        connection.settimeout(60)
        step = 0
        while not stop.is_set():
            connection.sendall(header("STATUS"))
            state = receive(connection, HEADER_SIZE).strip()
            if state == b"NEEDINIT":
                connection.sendall(header("INIT") + struct.pack("<ii", index, 0))
                continue
            if state != b"READY":
                raise ConnectionError(f"STATUS answered {state!r}")
            connection.sendall(messages[step % len(messages)])
            if receive(connection, HEADER_SIZE).strip() != b"FORCEREADY":
                raise ConnectionError("no FORCEREADY")
            atoms = struct.unpack("<i", receive(connection, 12)[8:])[0]
            receive(connection, 24 * atoms + 72)
            (extras,) = struct.unpack("<i", receive(connection, 4))
            receive(connection, extras)
            step += 1
            steps[index] = step
        connection.sendall(header("EXIT"))
    except (OSError, ConnectionError) as error:
        if not stop.is_set():
            failures.append(f"connection {index}: {error}")
    finally:
        connection.close()


listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
if os.path.exists(socket_path):
    os.unlink(socket_path)
listener.bind(socket_path)
listener.listen(args.clients)
log_path = os.path.join(work, "chorus.log")
log = open(log_path, "wb")
process = subprocess.Popen([args.chorus, "serve", "--model", model, "--connect", f"unix:{socket_path}",
                            "--clients", str(args.clients), "--control", control, "--extras", "full"],
                           stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
threads = []
listener.settimeout(30)
for index in range(args.clients):
    connection, _ = listener.accept()
    thread = threading.Thread(target=drive, args=(connection, index), daemon=True)
    thread.start()
    threads.append(thread)


def proc_status(pid):
    values = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            values[key] = value.split()
    return int(values["VmRSS"][0]), int(values["Threads"][0])


def query_status():
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(10)
        client.connect(control)
        client.sendall(b'{"request": "status"}\n')
        data = b""
        while not data.endswith(b"\n"):
            chunk = client.recv(1 << 20)
            if not chunk:
                break
            data += chunk
    return json.loads(data)


duration = args.minutes * 60.0
warm_up = min(duration / 5.0, 120.0)
start = time.monotonic()
samples = []
print(f"soak: {args.clients} connections, {args.atoms}-atom argon clusters, LJ committee of 4, "
      f"{args.minutes:g} min, warm-up {warm_up:.0f} s; chorus pid {process.pid}, log {log_path}", flush=True)
print(f"{'t/s':>6} {'RSS/MiB':>8} {'threads':>7} {'structures':>10} {'rate/s':>8} "
      f"{'eval p50/p90/p99 ms':>22} {'round trip p50/p90/p99 ms':>27}", flush=True)
previous = (0.0, 0)
while time.monotonic() - start < duration and process.poll() is None and not failures:
    time.sleep(args.interval)
    elapsed = time.monotonic() - start
    rss, thread_count = proc_status(process.pid)
    status = query_status()
    structures = status["structures"]
    rate = (structures - previous[1]) / (elapsed - previous[0])
    previous = (elapsed, structures)
    evaluation, round_trip = status["latency_ms"]["evaluation"], status["latency_ms"]["round_trip"]
    samples.append((elapsed, rss, thread_count, structures))
    print(f"{elapsed:6.0f} {rss / 1024:8.1f} {thread_count:7d} {structures:10d} {rate:8.0f} "
          f"{evaluation['p50']:7.3f}/{evaluation['p90']:6.3f}/{evaluation['p99']:6.3f} "
          f"{round_trip['p50']:9.3f}/{round_trip['p90']:7.3f}/{round_trip['p99']:7.3f}", flush=True)

alive = process.poll() is None
stop.set()
for thread in threads:
    thread.join(70)
code = process.wait(60) if alive else process.returncode
listener.close()
if os.path.exists(socket_path):
    os.unlink(socket_path)



def series_kib(structures):
    """Memory the control API's reweight series holds by design (README: up to 4 194 304 records,
    kept in preallocated chunks of 4096 records of M + 2 doubles, a bead and a group id)."""
    chunks = -(-min(structures, SERIES_CAPACITY) // 4096)
    # The values block (192 KiB) is over glibc's mmap threshold: one page more for malloc's header.
    values = -(-(4096 * (MEMBERS + 2) * 8 + 16) // 4096) * 4096
    return chunks * (values + 2 * (4096 * 4 + 16)) / 1024


raw_after = [rss for elapsed, rss, _, _ in samples if elapsed >= warm_up]
after = [rss - series_kib(structures) for elapsed, rss, _, structures in samples if elapsed >= warm_up]
reference = after[0] if after else None
ok = alive and code == 0 and not failures and reference is not None
if failures:
    print("FAILED connections: " + "; ".join(failures[:5]))
if not alive:
    print(f"chorus died during the soak (exit {process.returncode}); log: {log_path}")
elif code != 0:
    print(f"chorus exited {code} after EXIT; log: {log_path}")
if reference is not None:
    growth = (max(after) - reference) / reference
    low = (min(after) - reference) / reference
    flat = growth <= 0.05
    print(f"raw RSS after warm-up: {raw_after[0] / 1024:.1f} → {raw_after[-1] / 1024:.1f} MiB, of which the "
          f"reweight series (by design, bounded) grew by {(after[0] - raw_after[0] - after[-1] + raw_after[-1]) / 1024:.1f} MiB")
    print(f"RSS without the series after warm-up: {reference / 1024:.1f} MiB at {warm_up:.0f} s, max {max(after) / 1024:.1f} MiB "
          f"({growth * 100:+.2f} %), min {min(after) / 1024:.1f} MiB ({low * 100:+.2f} %), end "
          f"{after[-1] / 1024:.1f} MiB: {'FLAT (within 5 %)' if flat else 'GREW more than 5 %'}")
    ok = ok and flat
else:
    print("no sample after the warm-up: run longer")
print(f"structures answered: {sum(steps)} over {len(samples)} samples; {'PASSED' if ok else 'FAILED'}")
sys.exit(0 if ok else 1)
PYTHON
