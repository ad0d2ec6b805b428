#!/usr/bin/python3
"""chorus against a real peer: ASE 3.22's SocketIOCalculator is the i-PI server, chorus connects
as its client, and every number is compared with ASE's own LennardJones calculator.

Tolerance: ASE 3.22 converts to and from atomic units with CODATA 2014 (Bohr 0.52917721067 Å,
Hartree 27.21138602 eV), chorus with CODATA 2018; that alone makes the two disagree by ~1e-8
relative. 2e-7 leaves room for it and still catches any real error (a missing periodic image, a
wrong unit or sign is >1e-4).

Cases:
  A. LJ, UNIX socket, periodic triclinic rotated cell, unwrapped positions, `--extras none`,
     stock (unpatched) ASE: energy, forces, stress; then EXIT and chorus exits 0.
  B. LJ, TCP, non-periodic cluster (ASE sends a zero cell; `--pbc auto`), `--extras none`, stock ASE.
  C. LJ committee, UNIX, periodic triclinic, `--extras full`, patched ASE (ase_patch.py): the extras
     JSON — committee_pot/force/virial against ASE LJ with each member's ε/σ, their means against
     the binary answer, σ = std(ddof 1), chorus_alpha, chorus_bead, no key i-PI reserves.
  D. LJ committee with α = 1.5, TCP, non-periodic, `--extras energies`: members rescaled about the
     mean, σ scaled, no committee_force/committee_virial.
"""
import atexit

import numpy as np
from ase import Atoms
from ase.calculators.lj import LennardJones
from ase.calculators.socketio import SocketIOCalculator
from ase.stress import voigt_6_to_full_3x3_stress
import ase.units

import ase_patch
from e2e_common import (ARGON_EPSILON, ARGON_SIGMA, Chorus, Workspace, check, check_close, free_tcp_port,
                        parse_arguments, run_test, unique_name, unix_socket_path)

RTOL_CODATA = 2e-7
CUTOFF = 7.0
MEMBERS = [(ARGON_EPSILON, ARGON_SIGMA), (0.0098, 3.36), (0.0110, 3.45), (0.0101, 3.42)]
RESERVED_KEYS = ("pot", "force", "virial", "uncertainty", "raw")


def random_rotation(rng):
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q @ np.diag(np.sign(np.diag(r)))
    return q if np.linalg.det(q) > 0 else -q


def triclinic_argon(seed):
    """27 atoms in a skewed, rotated cell (no lattice vector along an axis, so h is full), with
    atoms moved by whole lattice vectors (unwrapped), cell narrower than 2·cutoff."""
    rng = np.random.default_rng(seed)
    cell = np.array([[11.0, 0.0, 0.0], [3.3, 10.4, 0.0], [-2.1, 2.7, 10.9]]) @ random_rotation(rng).T
    fractional = np.array([(i, j, k) for i in range(3) for j in range(3) for k in range(3)]) / 3.0
    positions = fractional @ cell + rng.normal(scale=0.12, size=(27, 3))
    positions += rng.integers(-2, 3, size=(27, 1)) * cell[rng.integers(0, 3, size=27)]
    return Atoms(f"Ar{len(positions)}", positions=positions, cell=cell, pbc=True)


def argon_cluster(seed):
    """19 atoms, no cell: ASE sends a zero cell for it."""
    rng = np.random.default_rng(seed)
    grid = np.array([(i, j, k) for i in range(3) for j in range(3) for k in range(3)], dtype=float)
    grid = grid[np.argsort(np.linalg.norm(grid - 1.0, axis=1), kind="stable")][:19]
    return Atoms("Ar19", positions=3.8 * grid + rng.normal(scale=0.15, size=grid.shape))


def reference(atoms, epsilon, sigma):
    """ASE's LennardJones (shifted to zero at the cutoff) on a copy of `atoms`."""
    copy = atoms.copy()
    copy.calc = LennardJones(epsilon=epsilon, sigma=sigma, rc=CUTOFF)
    result = {"energy": copy.get_potential_energy(), "forces": copy.get_forces()}
    if copy.pbc.any():
        result["stress"] = copy.get_stress()
        result["virial"] = -copy.get_volume() * voigt_6_to_full_3x3_stress(result["stress"])
    return result


def configurations(make, seed, count=3):
    """The same atoms moved a little between calls (the socket calculator allows position changes)."""
    first = make(seed)
    rng = np.random.default_rng(seed + 100)
    return [first] + [Atoms(first.symbols, positions=first.positions + rng.normal(scale=0.05, size=first.positions.shape),
                            cell=first.cell, pbc=first.pbc) for _ in range(count - 1)]


class AseServer:
    """ASE's SocketIOCalculator (bound at construction, so chorus can connect right after)."""

    def __init__(self, transport, workspace):
        if transport == "unix":
            name = unique_name("ase")
            workspace.track_socket(unix_socket_path(name))
            self.calc = SocketIOCalculator(unixsocket=name, timeout=20)
            self.address = f"unix:{name}"
        else:
            port = free_tcp_port()
            self.calc = SocketIOCalculator(port=port, timeout=20)
            self.address = f"tcp:127.0.0.1:{port}"
        atexit.register(self.calc.close)  # before the workspace's cleanup (atexit runs last-in first-out)

    def finish(self, chorus):
        """Sends EXIT (ASE's close() does not) and checks chorus then exits 0."""
        self.calc.server.protocol.end()
        self.calc.close()
        code = chorus.wait_exit(10)
        check(code == 0, "chorus exits 0 after EXIT (no --persist)", 0, code)


def run_plain_case(args, workspace, label, transport, make, pbc_args):
    model = workspace.lj_model(ARGON_EPSILON, ARGON_SIGMA, CUTOFF, name=f"lj-{label}.json")
    ase_patch.restore()
    server = AseServer(transport, workspace)
    chorus = Chorus(args.chorus, ["--model", model, "--connect", server.address, "--extras", "none", *pbc_args],
                    workspace, label=label)
    for step, atoms in enumerate(configurations(make, seed=len(label) + 7)):
        atoms.calc = server.calc
        energy, forces = atoms.get_potential_energy(), atoms.get_forces()
        expected = reference(atoms, ARGON_EPSILON, ARGON_SIGMA)
        what = f"{label} step {step}"
        check_close(energy, expected["energy"], RTOL_CODATA, f"{what}: energy (eV)")
        check_close(forces, expected["forces"], RTOL_CODATA, f"{what}: forces (eV/Å)")
        if atoms.pbc.any():
            check_close(atoms.get_stress(), expected["stress"], RTOL_CODATA, f"{what}: stress (eV/Å³)")
        check("morebytes" not in server.calc.results, f"{what}: --extras none sends no extras",
              "no 'morebytes'", server.calc.results.get("morebytes"))
    server.finish(chorus)
    print(f"ok {label}: {transport}, {'periodic triclinic' if atoms.pbc.any() else 'non-periodic'}, "
          f"energy/forces{'/stress' if atoms.pbc.any() else ''} = ASE LJ to {RTOL_CODATA:g}, stock ASE, exit 0")


def run_committee_case(args, workspace, label, transport, make, extras_mode, alpha):
    model = workspace.lj_committee_model(MEMBERS, CUTOFF, alpha=alpha, name=f"committee-{label}.json")
    ase_patch.apply()
    server = AseServer(transport, workspace)
    chorus = Chorus(args.chorus, ["--model", model, "--connect", server.address, "--extras", extras_mode],
                    workspace, label=label)
    Ha, Bohr = ase.units.Ha, ase.units.Bohr  # ASE's (CODATA 2014): ASE converted the binary answer with them
    for step, atoms in enumerate(configurations(make, seed=len(label) + 11)):
        what = f"{label} step {step}"
        atoms.calc = server.calc
        energy, forces = atoms.get_potential_energy(), atoms.get_forces()
        extras = ase_patch.extras_json(server.calc)
        check(isinstance(extras, dict), f"{what}: extras are a JSON object", "dict", type(extras).__name__)
        for key in RESERVED_KEYS:
            check(key not in extras, f"{what}: extras avoid key {key!r} (i-PI's ffcommittee renames/reserves it)",
                  "absent", extras.get(key))
        members = [reference(atoms, e, s) for e, s in MEMBERS]
        raw = np.array([m["energy"] for m in members])
        mean = raw.mean()

        pot = np.array(extras["committee_pot"], dtype=float)
        check(pot.shape == (len(MEMBERS),), f"{what}: committee_pot has one energy per member",
              (len(MEMBERS),), pot.shape)
        check_close(pot * Ha, mean + alpha * (raw - mean), RTOL_CODATA,
                    f"{what}: committee_pot (Ha → eV) vs ASE LJ per member"
                    + (f", rescaled about the mean by α={alpha}" if alpha != 1 else ""))
        check_close(pot.mean() * Ha, energy, 1e-12, f"{what}: mean(committee_pot) = returned energy")
        check_close(energy, mean, RTOL_CODATA, f"{what}: returned energy = mean of the members' ASE LJ")
        check_close(extras["committee_uncertainty"], np.std(pot, ddof=1), 1e-12,
                    f"{what}: committee_uncertainty = std(committee_pot, ddof=1)")
        check_close(extras["committee_uncertainty"] * Ha, alpha * np.std(raw, ddof=1), RTOL_CODATA,
                    f"{what}: σ_E = α · std of the members' ASE LJ energies")
        check_close(extras["chorus_alpha"], alpha, 1e-15, f"{what}: chorus_alpha")
        check(extras.get("chorus_bead") == 0, f"{what}: chorus_bead is ASE's INIT bead index",
              0, extras.get("chorus_bead"))

        if extras_mode == "energies":
            for key in ("committee_force", "committee_virial"):
                check(key not in extras, f"{what}: --extras energies drops {key}", "absent", "present")
            continue
        n = len(atoms)
        force = np.array(extras["committee_force"], dtype=float)
        virial = np.array(extras["committee_virial"], dtype=float)
        check(force.shape == (len(MEMBERS), 3 * n), f"{what}: committee_force is M × 3N",
              (len(MEMBERS), 3 * n), force.shape)
        check(virial.shape == (len(MEMBERS), 9), f"{what}: committee_virial is M × 9", (len(MEMBERS), 9), virial.shape)
        for k, member in enumerate(members):
            check_close(force[k].reshape(n, 3) * Ha / Bohr, member["forces"], RTOL_CODATA,
                        f"{what}: committee_force[{k}] (Ha/Bohr → eV/Å) vs ASE LJ ε={MEMBERS[k][0]} σ={MEMBERS[k][1]}")
            if atoms.pbc.any():
                check_close(virial[k].reshape(3, 3) * Ha, member["virial"], RTOL_CODATA,
                            f"{what}: committee_virial[{k}] (Ha → eV, W = −σV) vs ASE LJ member {k}")
        check_close(force.mean(axis=0).reshape(n, 3) * Ha / Bohr, forces, 1e-10,
                    f"{what}: mean(committee_force) = returned forces")
        if atoms.pbc.any():
            check_close(-virial.mean(axis=0).reshape(3, 3) * Ha / atoms.get_volume(),
                        voigt_6_to_full_3x3_stress(atoms.get_stress()), 1e-10,
                        f"{what}: mean(committee_virial) = returned virial")
    server.finish(chorus)
    print(f"ok {label}: {transport}, committee of {len(MEMBERS)} (α={alpha}), --extras {extras_mode}: "
          "extras JSON checked member by member against ASE LJ")


def main():
    args = parse_arguments(__doc__.split("\n\n")[0])
    workspace = Workspace("ase_peer")
    print("CODATA: ASE 3.22 uses 2014 constants, chorus 2018; comparisons allow "
          f"{RTOL_CODATA:g} relative for that.")
    run_plain_case(args, workspace, "A-unix-triclinic", "unix", triclinic_argon, ["--pbc", "auto"])
    run_plain_case(args, workspace, "B-tcp-cluster", "tcp", argon_cluster, ["--pbc", "auto"])
    run_committee_case(args, workspace, "C-unix-committee", "unix", triclinic_argon, "full", alpha=1.0)
    run_committee_case(args, workspace, "D-tcp-committee", "tcp", argon_cluster, "energies", alpha=1.5)


if __name__ == "__main__":
    run_test(main)
