"""Shared plumbing of the end-to-end tests: command line, unique addresses, model files, the chorus
process (always killed on exit), and checks that print expected vs got.

Every test script is `python3 test_x.py --chorus PATH/TO/chorus [--repo-root DIR]` and exits
non-zero with a readable message on the first failed check.
"""
import argparse
import atexit
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import numpy as np

# CODATA 2018, the constants chorus uses (engine/include/chorus/engine/units.hpp). The test
# server speaks atomic units with these, so a comparison through it is exact up to rounding.
# ASE 3.22 uses CODATA 2014 instead: comparisons through ASE's socket carry ~1e-8 relative
# differences from that alone (see test_ase_peer.py).
BOHR_IN_ANGSTROM = 0.529177210903
HARTREE_IN_EV = 27.211386245988

# Argon-like Lennard-Jones parameters (eV, Å) used by the tests' own model files.
ARGON_EPSILON = 0.0104
ARGON_SIGMA = 3.40


class CheckFailed(AssertionError):
    pass


def check(condition, what, expected=None, got=None):
    """Fails the test with `what`, and expected vs got when given."""
    if condition:
        return
    message = f"CHECK FAILED: {what}"
    if expected is not None or got is not None:
        message += f"\n  expected: {expected}\n  got:      {got}"
    raise CheckFailed(message)


def check_close(got, expected, rtol, what, atol=0.0):
    """Arrays agree to `rtol` relative to the largest reference magnitude (plus `atol`): the
    scale of a force array, not each near-zero component, is what the precision refers to."""
    got = np.asarray(got, dtype=float)
    expected = np.asarray(expected, dtype=float)
    check(got.shape == expected.shape, f"{what}: shape", expected.shape, got.shape)
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    error = float(np.max(np.abs(got - expected))) if expected.size else 0.0
    bound = rtol * scale + atol
    if not (np.all(np.isfinite(got)) and error <= bound):
        worst = int(np.argmax(np.abs(got - expected))) if expected.size else 0
        raise CheckFailed(
            f"CHECK FAILED: {what}: max |got - expected| = {error:.3e} > {bound:.3e} "
            f"(rtol {rtol:g} of scale {scale:.6g})\n"
            f"  at flat index {worst}: expected {expected.flat[worst]!r}, got {got.flat[worst]!r}")


def parse_arguments(description, extra=None):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--chorus", required=True, help="path of the chorus executable")
    parser.add_argument("--repo-root", default=os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
    parser.add_argument("--verbose", action="store_true", help="print chorus's log at the end")
    if extra:
        extra(parser)
    args = parser.parse_args()
    if not os.access(args.chorus, os.X_OK):
        parser.error(f"--chorus {args.chorus!r} is not an executable file; build the `chorus` target first")
    return args


_names = itertools.count()


def unique_name(test):
    """A socket name no concurrently running test (ctest -j) or earlier run uses."""
    return f"chorus_e2e_{test}_{os.getpid()}_{next(_names)}"


def unix_socket_path(name):
    return f"/tmp/ipi_{name}"


def free_tcp_port():
    """A port that was free a moment ago (the OS picks it, so parallel tests do not collide)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def remove_socket_file(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


class Workspace:
    """A temporary directory for model files and logs, removed at exit, plus the /tmp/ipi_*
    socket files this test created."""

    def __init__(self, test):
        self._dir = tempfile.TemporaryDirectory(prefix=f"chorus_e2e_{test}_")
        self.path = self._dir.name
        self._sockets = []
        atexit.register(self.cleanup)

    def file(self, name):
        return os.path.join(self.path, name)

    def write_json(self, name, value):
        path = self.file(name)
        with open(path, "w") as out:
            json.dump(value, out, indent=1)
        return path

    def lj_model(self, epsilon, sigma, cutoff, name="lj.json"):
        return self.write_json(name, {"kind": "lennard-jones", "epsilon": epsilon, "sigma": sigma,
                                      "cutoff": cutoff})

    def lj_committee_model(self, members, cutoff, alpha=1.0, name="lj-committee.json"):
        return self.write_json(name, {"kind": "lennard-jones-committee",
                                      "members": [{"epsilon": e, "sigma": s} for e, s in members],
                                      "cutoff": cutoff, "alpha": alpha})

    def track_socket(self, path):
        self._sockets.append(path)
        return path

    def cleanup(self):
        for path in self._sockets:
            remove_socket_file(path)
        self._sockets.clear()
        self._dir.cleanup()


_started = []


class Chorus:
    """One `chorus serve` process. stderr goes to a file (a pipe could fill up and block chorus);
    the process is killed at interpreter exit whatever happens."""

    def __init__(self, binary, arguments, workspace, label="chorus"):
        self.command = [binary, "serve", *arguments]
        self.log_path = workspace.file(f"{label}-{next(_names)}.log")
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(self.command, stdout=self._log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
        atexit.register(self.kill)
        _started.append(self)
        print(f"started: {' '.join(self.command)}  (pid {self.process.pid})", flush=True)

    def running(self):
        return self.process.poll() is None

    def log(self):
        with open(self.log_path, "rb") as source:
            return source.read().decode("utf-8", errors="replace")

    def wait_exit(self, timeout):
        """The exit code, or None if chorus is still running after `timeout` seconds."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def wait_log(self, predicate, timeout, what):
        """Waits until the log satisfies `predicate` (e.g. a line appeared)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.log()):
                return
            time.sleep(0.05)
        raise CheckFailed(f"CHECK FAILED: chorus's log never showed {what} within {timeout} s\n"
                          f"--- chorus log ---\n{self.log()}")

    def terminate(self, timeout=10.0):
        """SIGTERM, then the exit code (chorus must exit 0 after finishing in-flight answers)."""
        if self.running():
            self.process.send_signal(signal.SIGTERM)
        return self.wait_exit(timeout)

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self._log.close()


def run_test(main):
    """Runs `main()`; on any failure prints the reason and every chorus log, and exits 1."""
    try:
        main()
    except Exception as failure:  # noqa: BLE001 - any failure must end the test readably
        if isinstance(failure, CheckFailed):
            print(failure, file=sys.stderr)
        else:
            import traceback
            traceback.print_exc()
        for process in _started:
            print(f"--- log of {' '.join(process.command)} ---\n{process.log()}", file=sys.stderr)
        sys.exit(1)
    if "--verbose" in sys.argv:
        for process in _started:
            print(f"--- log of {' '.join(process.command)} ---\n{process.log()}")
    print("PASSED")


def lj_reference(structure, epsilon, sigma, cutoff):
    """ASE's LennardJones for an ipi_test_server.Structure: energy (eV), forces (eV/Å) and the
    virial W = −σ·V (eV) when periodic (None otherwise)."""
    from ase import Atoms
    from ase.calculators.lj import LennardJones
    from ase.stress import voigt_6_to_full_3x3_stress

    periodic = bool(np.any(structure.cell))
    atoms = Atoms(f"Ar{structure.atoms}", positions=structure.positions,
                  cell=structure.cell if periodic else None, pbc=periodic)
    atoms.calc = LennardJones(epsilon=epsilon, sigma=sigma, rc=cutoff)
    virial = None
    if periodic:
        virial = -atoms.get_volume() * voigt_6_to_full_3x3_stress(atoms.get_stress())
    return atoms.get_potential_energy(), atoms.get_forces(), virial


def check_answer(answer, structure, epsilon, sigma, cutoff, what, rtol=1e-9):
    """An ipi_test_server.Answer equals ASE's LJ. Both sides use CODATA 2018 here, so the
    tolerance only covers summation order."""
    energy, forces, virial = lj_reference(structure, epsilon, sigma, cutoff)
    check_close(answer.energy_ev(), energy, rtol, f"{what}: energy (eV)")
    check_close(answer.forces_ev_per_angstrom(), forces, rtol, f"{what}: forces (eV/Å)")
    if virial is not None:
        check_close(answer.virial_ev(), virial, rtol, f"{what}: virial (eV)")


class LineReader:
    """Lines of a child's stdout, readable with a timeout (a thread drains the pipe)."""

    def __init__(self, stream):
        import queue
        import threading
        self._queue = queue.Queue()
        self.lines = []
        thread = threading.Thread(target=self._drain, args=(stream,), daemon=True)
        thread.start()

    def _drain(self, stream):
        for line in stream:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, prefix, timeout):
        import queue
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = self._queue.get(timeout=max(remaining, 0.01))
            except queue.Empty:
                line = None
                remaining = 0
            if line is not None:
                self.lines.append(line)
                if line.startswith(prefix):
                    return line
                continue
            raise CheckFailed(f"CHECK FAILED: no line starting with {prefix!r} within {timeout} s; "
                              f"got:\n" + "\n".join(self.lines))
