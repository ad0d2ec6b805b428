#!/usr/bin/python3
"""chorus demo: molecular dynamics of liquid argon in ASE, forces from `chorus serve`.

ASE's SocketIOCalculator plays the i-PI server, chorus connects to it as the client and answers
with the mean of a Lennard-Jones committee; its JSON extras carry the committee spread σ_E, shown
every 10 steps next to the potential energy and the temperature.

    /usr/bin/python3 deploy/demo/run_demo.py --chorus build/release/chorus [--steps 200]

ASE 3.22 cannot read extras longer than one byte (a bug in IPIProtocol.calculate); the demo applies
the small patch in tests/e2e/ase_patch.py. With stock ASE, run chorus with `--extras none`.
"""
import argparse
import os
import signal
import subprocess
import sys
import time

import numpy as np

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))

from ase import units  # noqa: E402
from ase.calculators.socketio import SocketIOCalculator  # noqa: E402
from ase.lattice.cubic import FaceCenteredCubic  # noqa: E402
from ase.md.langevin import Langevin  # noqa: E402
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution, Stationary  # noqa: E402

import ase_patch  # noqa: E402

# Liquid argon near its triple point: 94 K at 1.37 g/cm³, i.e. an fcc lattice constant of 5.78 Å
# (the run starts from that lattice; a thermostat with a 100 fs time constant holds the temperature).
TEMPERATURE_K = 94.0
LATTICE_CONSTANT = 5.78
TIMESTEP_FS = 5.0
REPORT_EVERY = 10


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chorus", required=True, help="the chorus executable (e.g. build/release/chorus)")
    parser.add_argument("--model", default=os.path.join(REPO, "models", "pretrained", "argon-lj-committee.json"))
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--cells", type=int, default=3, help="fcc cells per side (3 → 108 atoms)")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    if not os.access(args.chorus, os.X_OK):
        parser.error(f"--chorus {args.chorus!r} is not executable; build it with "
                     "`cmake --preset release && cmake --build --preset release --target chorus`")
    if not os.path.isfile(args.model):
        parser.error(f"--model {args.model!r} does not exist")
    return args


class ChorusProcess:
    """`chorus serve` in the background, its log kept in a file that is shown if it fails."""

    def __init__(self, binary, model, address, log_path):
        self.log_path = log_path
        self._log = open(log_path, "wb")
        command = [binary, "serve", "--model", model, "--connect", address, "--extras", "full"]
        print("$", " ".join(command))
        # Its own process group: the terminal's Ctrl-C goes to the demo, which stops chorus itself.
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)

    def stop(self, grace):
        """Waits up to `grace` seconds for chorus to end by itself (after EXIT), then SIGTERM."""
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._log.close()
        return self.process.returncode

    def log_tail(self, lines=20):
        with open(self.log_path, "rb") as source:
            return "\n".join(source.read().decode("utf-8", errors="replace").splitlines()[-lines:])


def run(args, calc, chorus):
    atoms = FaceCenteredCubic("Ar", size=(args.cells,) * 3, latticeconstant=LATTICE_CONSTANT, pbc=True)
    rng = np.random.default_rng(args.seed)
    MaxwellBoltzmannDistribution(atoms, temperature_K=2 * TEMPERATURE_K, rng=rng)  # half goes into potential energy
    Stationary(atoms)
    atoms.calc = calc
    dynamics = Langevin(atoms, TIMESTEP_FS * units.fs, temperature_K=TEMPERATURE_K, friction=0.01 / units.fs,
                        rng=rng)

    sigmas = []
    print(f"\n{len(atoms)} argon atoms, fcc a = {LATTICE_CONSTANT} Å, Langevin at {TEMPERATURE_K:g} K, "
          f"{args.steps} steps of {TIMESTEP_FS:g} fs\n")
    print(f"{'step':>6} {'time (fs)':>10} {'E_pot (eV)':>12} {'σ_E (meV)':>10} {'T (K)':>8}")
    print("-" * 50)

    def report():
        step = dynamics.get_number_of_steps()
        energy = atoms.get_potential_energy()
        extras = ase_patch.extras_json(calc)
        sigma_mev = extras["committee_uncertainty"] * units.Ha * 1000.0
        sigmas.append(sigma_mev)
        print(f"{step:>6d} {step * TIMESTEP_FS:>10.0f} {energy:>12.4f} {sigma_mev:>10.3f} "
              f"{atoms.get_temperature():>8.1f}", flush=True)
        if chorus.process.poll() is not None:
            raise RuntimeError(f"chorus exited with {chorus.process.returncode}")

    dynamics.attach(report, interval=REPORT_EVERY)
    start = time.monotonic()
    dynamics.run(args.steps)
    elapsed = time.monotonic() - start
    # Tell chorus the run is over (ASE's close() does not send EXIT).
    calc.server.protocol.end()
    print("-" * 50)
    print(f"done: {args.steps} steps ({args.steps * TIMESTEP_FS / 1000:g} ps) in {elapsed:.1f} s, "
          f"final T = {atoms.get_temperature():.1f} K, mean σ_E = {np.mean(sigmas):.3f} meV "
          f"({np.mean(sigmas) / len(atoms):.4f} meV/atom)")


def interrupt(signum, frame):
    raise KeyboardInterrupt


def main():
    args = parse_arguments()
    # Ctrl-C, and also SIGTERM or SIGINT from a parent that started the demo in the background
    # (where SIGINT is ignored by default), must end in the cleanup below.
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    ase_patch.apply()  # chorus's committee extras are longer than ASE 3.22 can read unpatched
    name = f"chorus_demo_{os.getpid()}"
    socket_path = f"/tmp/ipi_{name}"
    log_path = f"/tmp/chorus_demo_{os.getpid()}.log"
    calc = SocketIOCalculator(unixsocket=name, timeout=30)  # listens now; chorus connects next
    chorus = ChorusProcess(args.chorus, args.model, f"unix:{name}", log_path)
    failed = True
    interrupted = False
    try:
        run(args, calc, chorus)
        failed = False
    except KeyboardInterrupt:
        interrupted = True
        print("\ninterrupted: stopping chorus")
    except Exception as error:  # noqa: BLE001 - any failure: show chorus's side too, then clean up
        print(f"\ndemo failed: {type(error).__name__}: {error}\n--- chorus log (last lines) ---\n"
              f"{chorus.log_tail()}\n(full log: {log_path})", file=sys.stderr)
    finally:
        calc.close()  # removes the socket file
        code = chorus.stop(grace=0 if failed else 5)
        if os.path.exists(socket_path):
            os.unlink(socket_path)
        if not failed or interrupted:
            os.unlink(log_path)  # kept only when something went wrong (its path was printed)
    if failed:
        return 130 if interrupted else 1
    if code != 0:
        print(f"chorus exited with {code}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
