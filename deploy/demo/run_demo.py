#!/usr/bin/python3
"""chorus demo: molecular dynamics of liquid water in ASE, forces from `chorus serve`.

ASE's SocketIOCalculator plays the i-PI server, chorus connects to it as the client and answers
with the mean of the shipped water committee (models/pretrained/water-committee.json); its JSON
extras carry the committee spread σ_E and the member forces, shown every 10 steps next to the
potential energy and the temperature. At the end, the demo asks the running chorus for its live
committee reweighting of the potential energy (`chorus query … reweight` on its --control
socket), then reweights the committee log chorus wrote (`chorus reweight --committee-log`): the
two tables agree, and every average comes with its committee spread and statistical error.

    /usr/bin/python3 deploy/demo/run_demo.py --chorus build/release/chorus [--steps 200]
    /usr/bin/python3 deploy/demo/run_demo.py --chorus build/release/chorus --species Ar

`--system argon` (implied by `--species Ar`) runs the Lennard-Jones argon committee instead;
`--model` and `--species` override the model file and the species pattern of either system.

ASE 3.22 cannot read extras longer than one byte (a bug in IPIProtocol.calculate); the demo applies
the small patch in tests/e2e/ase_patch.py. With stock ASE, run chorus with `--extras none`.
"""
import argparse
import dataclasses
import os
import signal
import subprocess
import sys
import time
from typing import Callable

import numpy as np

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PRETRAINED = os.path.join(REPO, "models", "pretrained")
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))

import ase.io  # noqa: E402
from ase import units  # noqa: E402
from ase.calculators.socketio import SocketIOCalculator  # noqa: E402
from ase.lattice.cubic import FaceCenteredCubic  # noqa: E402
from ase.md.langevin import Langevin  # noqa: E402
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution, Stationary  # noqa: E402

import ase_patch  # noqa: E402

REPORT_EVERY = 10
WATER_DATA = os.path.join(PRETRAINED, "data", "liquid-water-qtip4pf.xyz")


def water_box(args):
    """A frame of the committee's own training data: 64 H₂O (O H H) in a 12.417 Å periodic box,
    already equilibrated at 300 K by i-PI, so the run starts in liquid water, not from a lattice."""
    atoms = ase.io.read(WATER_DATA, index=args.frame)
    atoms.calc = None  # the file's reference energy and forces are not the demo's
    return atoms


def argon_lattice(args):
    """Liquid argon near its triple point (1.37 g/cm³): an fcc lattice with a = 5.78 Å, 3³ cells.
    It starts from the lattice; velocities at twice the target temperature because half of the
    kinetic energy flows into the potential energy as the lattice melts."""
    return FaceCenteredCubic("Ar", size=(3, 3, 3), latticeconstant=5.78, pbc=True)


@dataclasses.dataclass(frozen=True)
class DemoSystem:
    description: str
    model: str
    species: str  # chorus's --species pattern; "" for models that accept any species
    build: Callable
    temperature_k: float
    timestep_fs: float
    initial_temperature_factor: float  # on the Maxwell-Boltzmann draw, see `build`'s docstring
    atoms_per_unit: int  # σ_E is also shown per molecule (per atom for argon)
    unit_name: str


SYSTEMS = {
    # 0.5 fs resolves the O–H stretch (period ~9 fs); the thermostat's time constant is 100 fs.
    "water": DemoSystem("liquid water (64 H₂O, 12.417 Å box)",
                        os.path.join(PRETRAINED, "water-committee.json"), "O,H,H", water_box,
                        temperature_k=300.0, timestep_fs=0.5, initial_temperature_factor=1.0,
                        atoms_per_unit=3, unit_name="molecule"),
    "argon": DemoSystem("liquid argon (from an fcc lattice, a = 5.78 Å)",
                        os.path.join(PRETRAINED, "argon-lj-committee.json"), "Ar", argon_lattice,
                        temperature_k=94.0, timestep_fs=5.0, initial_temperature_factor=2.0,
                        atoms_per_unit=1, unit_name="atom"),
}


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chorus", required=True, help="the chorus executable (e.g. build/release/chorus)")
    parser.add_argument("--system", choices=sorted(SYSTEMS),
                        help="default: argon if --species is Ar, else water")
    parser.add_argument("--model", help="model file (default: the system's shipped committee)")
    parser.add_argument("--species", help="chorus --species pattern (default: O,H,H for water, Ar for argon)")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--frame", type=int, default=0, help="water: frame of the data file to start from")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    if args.system is None:
        # The structure has to match the species chorus is told: `--species Ar` alone means argon.
        args.system = "argon" if args.species is not None and set(args.species.split(",")) == {"Ar"} else "water"
    system = SYSTEMS[args.system]
    args.model = args.model or system.model
    args.species = system.species if args.species is None else args.species
    if not os.access(args.chorus, os.X_OK):
        parser.error(f"--chorus {args.chorus!r} is not executable; build it with "
                     "`cmake --preset release && cmake --build --preset release --target chorus`")
    if not os.path.isfile(args.model):
        parser.error(f"--model {args.model!r} does not exist")
    if args.steps < 1:
        parser.error(f"--steps {args.steps} must be at least 1")
    return args, system


class ChorusProcess:
    """`chorus serve` in the background, its log kept in a file that is shown if it fails."""

    def __init__(self, binary, model, species, address, log_path, extra=()):
        self.log_path = log_path
        self._log = open(log_path, "wb")
        command = [binary, "serve", "--model", model, "--connect", address, "--extras", "full", *extra]
        if species:
            command[4:4] = ["--species", species]
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


def largest_force_sigma(extras):
    """Largest committee spread (ddof 1, like i-PI's) of one force component, in eV/Å.

    The member forces arrive calibrated (already rescaled by α) in Hartree/Bohr; None when chorus
    sent no member forces (`--extras energies`)."""
    member_forces = extras.get("committee_force")
    if not member_forces:
        return None
    return float(np.max(np.std(np.asarray(member_forces), axis=0, ddof=1))) * units.Ha / units.Bohr


def show(title, command):
    """Runs a chorus command and prints its output under a title (the demo's last two tables)."""
    print(f"\n{title}\n$ {' '.join(command)}", flush=True)
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    print(result.stdout.rstrip())
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited with {result.returncode}: {result.stderr.strip()}")


def run(args, system, calc, chorus, control):
    atoms = system.build(args)
    rng = np.random.default_rng(args.seed)
    MaxwellBoltzmannDistribution(atoms, temperature_K=system.initial_temperature_factor * system.temperature_k,
                                 rng=rng)
    Stationary(atoms)
    atoms.calc = calc
    dynamics = Langevin(atoms, system.timestep_fs * units.fs, temperature_K=system.temperature_k,
                        friction=0.01 / units.fs, rng=rng)
    units_in_box = len(atoms) / system.atoms_per_unit

    sigmas = []
    force_sigmas = []
    print(f"\n{system.description}, {len(atoms)} atoms, Langevin at {system.temperature_k:g} K, "
          f"{args.steps} steps of {system.timestep_fs:g} fs\n")
    per_unit = f"σ_E/{system.unit_name} (meV)"
    header = (f"{'step':>6} {'time (fs)':>10} {'E_pot (eV)':>12} {'σ_E (meV)':>10} {per_unit:>18} "
              f"{'max σ_F (eV/Å)':>15} {'T (K)':>8}")
    print(header)
    print("-" * len(header))

    def report():
        step = dynamics.get_number_of_steps()
        energy = atoms.get_potential_energy()
        extras = ase_patch.extras_json(calc)
        sigma_mev = extras["committee_uncertainty"] * units.Ha * 1000.0
        sigmas.append(sigma_mev)
        force_sigma = largest_force_sigma(extras)
        if force_sigma is not None:
            force_sigmas.append(force_sigma)
        force_column = f"{force_sigma:>15.4f}" if force_sigma is not None else f"{'–':>15}"
        print(f"{step:>6d} {step * system.timestep_fs:>10.1f} {energy:>12.4f} {sigma_mev:>10.3f} "
              f"{sigma_mev / units_in_box:>18.4f} {force_column} {atoms.get_temperature():>8.1f}", flush=True)
        if chorus.process.poll() is not None:
            raise RuntimeError(f"chorus exited with {chorus.process.returncode}")

    dynamics.attach(report, interval=REPORT_EVERY)
    start = time.monotonic()
    dynamics.run(args.steps)
    elapsed = time.monotonic() - start
    print("-" * len(header))
    force_summary = f", largest σ_F {max(force_sigmas):.3f} eV/Å" if force_sigmas else ""
    print(f"done: {args.steps} steps ({args.steps * system.timestep_fs:g} fs) in {elapsed:.1f} s "
          f"({1000 * elapsed / args.steps:.0f} ms/step), final T = {atoms.get_temperature():.1f} K, "
          f"mean σ_E = {np.mean(sigmas):.3f} meV ({np.mean(sigmas) / units_in_box:.4f} meV/{system.unit_name})"
          f"{force_summary}")
    # While chorus still serves: the live estimate over the run so far, from its control socket.
    show("live committee reweighting, asked of the running chorus serve:",
         [args.chorus, "query", control, "reweight"])
    # Tell chorus the run is over (ASE's close() does not send EXIT).
    calc.server.protocol.end()


def interrupt(signum, frame):
    raise KeyboardInterrupt


def main():
    args, system = parse_arguments()
    # Ctrl-C, and also SIGTERM or SIGINT from a parent that started the demo in the background
    # (where SIGINT is ignored by default), must end in the cleanup below.
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    ase_patch.apply()  # chorus's committee extras are longer than ASE 3.22 can read unpatched
    name = f"chorus_demo_{os.getpid()}"
    socket_path = f"/tmp/ipi_{name}"
    log_path = f"/tmp/chorus_demo_{os.getpid()}.log"
    control = f"/tmp/chorus_demo_{os.getpid()}.control"
    committee_log = f"/tmp/chorus_demo_{os.getpid()}.committee"
    calc = SocketIOCalculator(unixsocket=name, timeout=30)  # listens now; chorus connects next
    chorus = ChorusProcess(args.chorus, args.model, args.species, f"unix:{name}", log_path,
                           ["--control", control, "--committee-log", committee_log,
                            "--temperature", f"{system.temperature_k:g}"])
    failed = True
    interrupted = False
    try:
        run(args, system, calc, chorus, control)
        if chorus.stop(grace=5) != 0:
            raise RuntimeError(f"chorus exited with {chorus.process.returncode}")
        show("the same from the committee log, after the run:",
             [args.chorus, "reweight", "--committee-log", committee_log, "--table"])
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
        for path in (socket_path, committee_log):
            if os.path.exists(path):
                os.unlink(path)
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
