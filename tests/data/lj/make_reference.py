#!/usr/bin/python3
"""Reference energies, forces and stresses of Lennard-Jones structures, computed by ASE.

This script is the only generator of tests/data/lj/*.json: the C++ tests
(tests/unit/models/test_lennard_jones.cpp) only compare against these files and never write
them, so `--regenerate` cannot overwrite them with chorus's own numbers. Rerun this script (with
Debian's /usr/bin/python3 and its ASE 3.22) only if the structures themselves should change.

The calculator is ase.calculators.lj.LennardJones(sigma, epsilon, rc) with smooth=False: pair
energies shifted to zero at rc, forces not shifted. Everything is in eV and Å; no unit
conversion is involved. Values are written with repr precision (round trip exact).
"""
import json
from pathlib import Path

import ase
import numpy as np
from ase.build import bulk
from ase.calculators.lj import LennardJones

HERE = Path(__file__).resolve().parent


def calculate(atoms, epsilon, sigma, cutoff):
    parameters = dict(epsilon=epsilon, sigma=sigma)
    if cutoff is not None:
        parameters["rc"] = cutoff
    atoms.calc = LennardJones(**parameters)
    return atoms.get_potential_energy(), atoms.get_forces(), atoms.get_stress(voigt=True)


def brute_force_energy(atoms, epsilon, sigma, cutoff):
    """Plain double sum over pairs and image shifts: a check on ASE's neighbour list."""
    cutoff = 3 * sigma if cutoff is None else cutoff
    cell = atoms.cell.array
    shift_range = [0, 0, 0]
    if atoms.pbc.any():
        widths = atoms.cell.volume / np.linalg.norm(np.cross(cell[[1, 2, 0]], cell[[2, 0, 1]]), axis=1)
        # positions may be unwrapped by up to a few cells: search generously
        shift_range = [int(np.ceil(cutoff / w)) + 6 for w in widths]
    shift_at_cutoff = 4 * epsilon * ((sigma / cutoff) ** 12 - (sigma / cutoff) ** 6)
    positions = atoms.positions
    energy = 0.0
    grids = [range(-n, n + 1) for n in shift_range]
    shifts = np.array([[a, b, c] for a in grids[0] for b in grids[1] for c in grids[2]]) @ cell
    for i in range(len(atoms)):
        vectors = positions[None, :, :] + shifts[:, None, :] - positions[i]
        r = np.linalg.norm(vectors, axis=2)
        r[r == 0.0] = np.inf  # the atom itself, unshifted
        r = r[r < cutoff]
        energy += 0.5 * np.sum(4 * epsilon * ((sigma / r) ** 12 - (sigma / r) ** 6) - shift_at_cutoff)
    return energy


def write(name, description, atoms, epsilon, sigma, cutoff):
    energy, forces, stress = calculate(atoms, epsilon, sigma, cutoff)
    check = brute_force_energy(atoms, epsilon, sigma, cutoff)
    assert abs(check - energy) <= 1e-10 * abs(energy), (name, check, energy)
    document = {
        "generator": f"tests/data/lj/make_reference.py with ASE {ase.__version__}",
        "description": description,
        "epsilon": epsilon,
        "sigma": sigma,
        "cutoff": cutoff,  # null: ASE's default 3 sigma
        "pbc": bool(atoms.pbc.all()),
        "cell": atoms.cell.array.tolist(),  # lattice vectors as rows, Å
        "numbers": atoms.numbers.tolist(),
        "positions": atoms.positions.tolist(),  # Å, as given to ASE (not wrapped)
        "energy": float(energy),  # eV
        "forces": forces.tolist(),  # eV/Å
        "stress_voigt": stress.tolist(),  # eV/Å³, xx yy zz yz xz xy; chorus's virial is −stress·V
        "volume": float(atoms.cell.volume),  # Å³
    }
    (HERE / f"{name}.json").write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    print(f"{name}: {len(atoms)} atoms, E = {energy:.10f} eV")


def main():
    rng = np.random.default_rng(20261123)
    argon = dict(epsilon=0.0104, sigma=3.40)

    # 108 argon atoms in a sheared fcc box, rattled, some atoms moved by whole lattice vectors.
    box = bulk("Ar", "fcc", a=5.26, cubic=True).repeat((3, 3, 3))
    shear = np.array([[1.0, 0.0, 0.0], [0.18, 1.0, 0.0], [-0.11, 0.07, 1.0]])
    box.set_cell(box.cell.array @ shear, scale_atoms=True)
    box.rattle(stdev=0.12, seed=1)
    box.positions += rng.integers(-2, 3, size=(len(box), 3)) @ box.cell.array
    write("argon_triclinic_108", "108 Ar, sheared fcc box, rattled, unwrapped; cutoff 8.5 Å (> half the box width)",
          box, cutoff=8.5, **argon)

    # 4 atoms in a cell much thinner than 2 rc: many images of every atom, including itself.
    small = bulk("Ar", "fcc", a=5.0, cubic=True)
    small.set_cell(small.cell.array @ np.array([[1.0, 0.05, 0.0], [0.2, 0.95, 0.0], [0.1, -0.15, 1.05]]),
                   scale_atoms=True)
    small.rattle(stdev=0.2, seed=2)
    write("small_cell", "4 atoms, triclinic cell of ~5 Å with the default cutoff 3 sigma = 8.7 Å",
          small, epsilon=0.0123, sigma=2.9, cutoff=None)

    # 24 atoms of a non-periodic cluster; the box is only there so that ASE reports a stress.
    points = []
    while len(points) < 24:
        candidate = rng.uniform(-5.5, 5.5, size=3)
        if all(np.linalg.norm(candidate - p) > 3.0 for p in points):
            points.append(candidate)
    cluster = ase.Atoms("Ar24", positions=np.array(points) + 20.0, cell=np.eye(3) * 40.0, pbc=False)
    write("argon_cluster_24", "24 Ar, random non-periodic cluster; cutoff 7.0 Å", cluster, cutoff=7.0, **argon)


if __name__ == "__main__":
    main()
