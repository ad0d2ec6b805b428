#!/usr/bin/python3
"""`chorus serve --control`: live queries while ASE runs molecular dynamics of liquid water with the
shipped water committee (ASE's SocketIOCalculator is the i-PI server).

During the run, `chorus query` answers status / uncertainty / reweight / metrics with sensible
values; a control client that floods requests and never reads its responses does not stall the MD
(steps per second with and without it are printed and compared loosely); `capture` writes extxyz
files that `chorus eval` (chorus's extxyz reader) reads back, reproducing the committee prediction
stored in them; after the run, `chorus reweight --committee-log` on the committee log reproduces the
live `reweight` numbers (same frames, same doubles).
"""
import json
import os
import socket
import subprocess
import sys
import threading
import time

import numpy as np

from e2e_common import Chorus, Workspace, check, check_close, parse_arguments, run_test, unique_name

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import ase.io  # noqa: E402
from ase import units  # noqa: E402
from ase.calculators.socketio import SocketIOCalculator  # noqa: E402
from ase.md.langevin import Langevin  # noqa: E402
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution  # noqa: E402

import ase_patch  # noqa: E402

TEMPERATURE = 300.0
STEPS_PER_PHASE = 60


def query(args, address, request, *fields, as_json=True, expect_ok=True):
    command = [args.chorus, "query", address, request, *fields] + (["--json"] if as_json else [])
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    if expect_ok:
        check(result.returncode == 0, f"`chorus query {request}` succeeds", 0,
              f"{result.returncode}: {result.stderr.strip()}")
    return (json.loads(result.stdout) if as_json and result.stdout.strip() else result.stdout), result


def run_steps(dynamics, steps):
    """Steps per second over `steps` MD steps."""
    start = time.monotonic()
    dynamics.run(steps)
    return steps / (time.monotonic() - start)


class Flooder:
    """A control client that sends requests as fast as the socket takes them and never reads: the
    server's responses pile up until its write times out."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.sock.setblocking(False)
        self.sent = 0
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        line = b'{"request": "reweight"}\n{"request": "status"}\n'
        while not self.stop:
            try:
                self.sock.send(line)
                self.sent += 2
            except BlockingIOError:
                time.sleep(0.001)
            except OSError:
                return

    def close(self):
        self.stop = True
        self.thread.join(5)
        self.sock.close()


def main():
    args = parse_arguments(__doc__)
    workspace = Workspace("control")
    model = os.path.join(args.repo_root, "models", "pretrained", "water-committee.json")
    data = os.path.join(args.repo_root, "models", "pretrained", "data", "liquid-water-qtip4pf.xyz")
    control = workspace.file("control.sock")
    capture_dir = workspace.file("capture")
    os.mkdir(capture_dir)
    log = workspace.file("committee.log")
    name = unique_name("control")
    workspace.track_socket(f"/tmp/ipi_{name}")

    # A foreign file at the control path: chorus must refuse to start rather than replace it.
    with open(workspace.file("foreign"), "w") as foreign:
        foreign.write("not a socket")
    refused = subprocess.run([args.chorus, "serve", "--model", model, "--connect", f"unix:{name}", "--species", "O,H,H",
                              "--control", workspace.file("foreign")], capture_output=True, text=True,
                             timeout=60)
    check(refused.returncode == 2 and "is not a socket" in refused.stderr, "a foreign path is refused",
          "exit 2, 'is not a socket'", (refused.returncode, refused.stderr.strip()))
    check(open(workspace.file("foreign")).read() == "not a socket", "the foreign file is untouched")

    ase_patch.apply()  # member forces in the extras: longer than ASE 3.22 reads unpatched
    atoms = ase.io.read(data, index=0)
    atoms.calc = None
    calc = SocketIOCalculator(unixsocket=name, timeout=60)
    chorus = Chorus(args.chorus, ["--model", model, "--connect", f"unix:{name}", "--species", "O,H,H",
                                  "--threads", "1", "--committee-log", log, "--temperature", str(TEMPERATURE),
                                  "--capture-dir", capture_dir],
                    workspace, label="serve")
    # The control address from the environment (CLI11 envname), as a deployment would set it.
    chorus.process.kill()
    chorus.process.wait()
    environment = dict(os.environ, CHORUS_CONTROL=control)
    chorus.process = subprocess.Popen(chorus.command, stdout=chorus._log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, env=environment)
    chorus.wait_log(lambda text: "control: listening on unix:" in text, 30, "the control socket")
    mode = os.stat(control).st_mode & 0o777
    check(mode == 0o600, "control socket mode 0600", "0o600", oct(mode))

    atoms.calc = calc
    MaxwellBoltzmannDistribution(atoms, temperature_K=TEMPERATURE, rng=np.random.default_rng(3))
    dynamics = Langevin(atoms, 0.5 * units.fs, temperature_K=TEMPERATURE, friction=0.01,
                        rng=np.random.default_rng(4))
    try:
        run_steps(dynamics, 10)  # warm-up: the first steps allocate
        baseline_rate = run_steps(dynamics, STEPS_PER_PHASE)

        status, _ = query(args, control, "status")
        check(status["ok"] and status["structures"] >= STEPS_PER_PHASE, "status counts the structures",
              f">= {STEPS_PER_PHASE}", status.get("structures"))
        check(status["members"] > 1 and "water" in status["model"].lower() or status["members"] > 1,
              "status names a committee model", "members > 1", status["members"])
        connection = status["connections"][0]
        check(connection["connected"] and connection["address"] == f"unix:/tmp/ipi_{name}",
              "status lists the connection and its address", f"unix:/tmp/ipi_{name}", connection)
        latency = status["latency_ms"]
        check(0 < latency["evaluation"]["p50"] <= latency["evaluation"]["p99"] < 10_000,
              "evaluation latency percentiles are ordered and positive", "0 < p50 <= p99", latency["evaluation"])
        check(latency["round_trip"]["p50"] >= latency["evaluation"]["p50"] * 0.5,
              "round trip includes the evaluation", latency["evaluation"]["p50"], latency["round_trip"]["p50"])
        table, _ = query(args, control, "status", as_json=False)
        check("latency (ms)" in table and f"unix:/tmp/ipi_{name}#0" in table, "readable status table", "", table)

        uncertainty, _ = query(args, control, "uncertainty", "last=5")
        entries = uncertainty["entries"]
        check(len(entries) == 5, "uncertainty: last=5 entries", 5, len(entries))
        for entry in entries:
            check(entry["atoms"] == len(atoms), "uncertainty: atom count", len(atoms), entry["atoms"])
            check(0 < entry["sigma_energy"] < 10 and entry["max_atomic_sigma"] > 0 and entry["max_force_sigma"] > 0,
                  "uncertainty: positive spreads", "> 0", entry)
            check_close(entry["sigma_energy_per_atom"], entry["sigma_energy"] / len(atoms), 1e-12,
                        "uncertainty: sigma per atom")
            # ASE converts Å to Bohr with CODATA 2014, chorus back with 2018: ~1e-6 relative.
            check_close(entry["volume"], atoms.get_volume(), 1e-5, "uncertainty: volume of the box")

        metrics, _ = query(args, control, "metrics", as_json=False)
        check("# TYPE chorus_round_trip_seconds histogram" in metrics and "chorus_structures_evaluated_total" in metrics,
              "metrics: Prometheus text with the latency histogram", "", metrics[:200])
        bad, result = query(args, control, "launch", expect_ok=False)
        check(result.returncode == 1 and "unknown request" in result.stderr, "an unknown request is an error",
              "exit 1", (result.returncode, result.stderr))

        # A client that floods and never reads, plus one that connects and sends nothing.
        flooder = Flooder(control)
        silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        silent.connect(control)
        time.sleep(0.2)
        flooded_rate = run_steps(dynamics, STEPS_PER_PHASE)
        sent = flooder.sent
        flooder.close()
        silent.close()
        print(f"MD: {baseline_rate:.1f} steps/s without, {flooded_rate:.1f} steps/s with a client that sent "
              f"{sent} requests and never read")
        check(flooded_rate > 0.3 * baseline_rate, "a flooding, never-reading client does not stall the MD",
              f"> {0.3 * baseline_rate:.1f} steps/s", f"{flooded_rate:.1f}")
        status, _ = query(args, control, "status")  # still answering after the flood
        check(status["ok"], "the control server still answers after the flood")

        capture, _ = query(args, control, "capture", "threshold=0", "per_minute=3", "quantity=max_force_sigma")
        check(capture["capture"]["enabled"], "capture enabled", True, capture)
        run_steps(dynamics, 20)
        deadline = time.monotonic() + 10
        files = []
        while time.monotonic() < deadline:
            files = sorted(f for f in os.listdir(capture_dir) if f.endswith(".xyz"))
            if len(files) >= 3:
                break
            time.sleep(0.1)
        check(len(files) == 3, "capture: at most per_minute=3 files", 3, files)
        query(args, control, "capture", "enable=false")

        steps_total = 3 * STEPS_PER_PHASE + 30  # plus the first evaluation
        dynamics.run(STEPS_PER_PHASE)
        live, _ = query(args, control, "reweight")
        table, _ = query(args, control, "reweight", as_json=False)
        check("potential_energy" in table, "readable reweight table", "", table)
    finally:
        calc.close()
    # ASE 3.22's close() sends no EXIT: chorus would reconnect; SIGTERM ends it (and flushes the log).
    check(chorus.terminate() == 0, "chorus exits 0 after SIGTERM")

    group = live["groups"][0]
    check("error" not in group, "live reweight has an estimate", "", group.get("error"))
    check(group["steps"] >= steps_total, "live reweight covers the run", f">= {steps_total}", group["steps"])
    observables = {o["name"]: o for o in group["observables"]}
    check(set(observables) == {"potential_energy", "volume", "sigma_energy"}, "live observables",
          "potential_energy, volume, sigma_energy", list(observables))
    check_close(observables["volume"]["sampled_average"], atoms.get_volume(), 1e-5, "live volume (NVT)")

    offline = json.loads(subprocess.run([args.chorus, "reweight", "--committee-log", log, "--json", "-"],
                                        capture_output=True, text=True, timeout=60, check=True).stdout)
    check(offline["frames"] == group["steps"], "offline and live reweight see the same frames", group["steps"],
          offline["frames"])
    energy_live = observables["potential_energy"]
    energy_offline = offline["observables"][0]
    for key in ("sampled_average", "member_mean", "committee_spread", "statistical_error"):
        check_close(energy_live[key], energy_offline[key], 1e-10, f"live = offline reweight: {key}")
    check_close(np.array(energy_live["member_averages"]), np.array(energy_offline["member_averages"]), 1e-10,
                "live = offline reweight: member averages")
    check_close(np.array(group["effective_sample_size"]), np.array(offline["effective_sample_size"]), 1e-10,
                "live = offline reweight: effective sample sizes")
    print(f"ok: live reweight of {group['steps']} frames = chorus reweight --committee-log (<= 1e-10 relative): "
          f"<E> = {energy_live['sampled_average']:.6f} eV ± {energy_live['statistical_error']:.2e}")

    # The captured files: ASE reads their info, chorus's reader (through `chorus eval`) their frames,
    # and the committee reproduces the mean prediction stored in them.
    for path in files:
        frame = ase.io.read(os.path.join(capture_dir, path))
        members = np.atleast_1d(frame.info["committee_energies"]).astype(float)  # ASE parses the list
        check(len(members) == status["members"], "capture: committee energies", status["members"], len(members))
        check(float(frame.info["max_force_sigma"]) > 0, "capture: max_force_sigma recorded")
    evaluated = subprocess.run([args.chorus, "eval", "--model", model,
                                *[os.path.join(capture_dir, f) for f in files], "--json", workspace.file("eval.json")],
                               capture_output=True, text=True, timeout=120)
    check(evaluated.returncode == 0, "chorus eval reads the captured files", 0, evaluated.stderr[-2000:])
    print(f"ok: capture wrote {len(files)} extxyz files, read back by ASE and by chorus eval")


if __name__ == "__main__":
    run_test(main)
