#!/usr/bin/python3
"""Writes the extxyz fixtures of chorus's reader tests and what ASE (the oracle) reads from them.

Run from anywhere with Debian's python3 (ASE 3.22, numpy); it rewrites the files next to it:
  periodic_triclinic.xyz   written by ASE: triclinic cell, energy, forces, stress, info keys
  molecule_dipole.xyz      written by ASE: isolated molecules, energy, forces, dipole
  quoted_columns.xyz       frame 1 by ASE (quoted values with spaces and quotes, extra per-atom
                           columns, a non-symmetric virial); frame 2 by hand (columns reordered,
                           `force` instead of `forces`, bare flag, {} and '' quoting, key = value)
  reference.json           per file and frame, what ASE reads: numbers, positions, cell rows,
                           pbc, energy, forces, virial (i-PI sign: -stress*V, or info['virial']),
                           dipole, and the remaining info keys
  elements.txt             ase.data.chemical_symbols, one per line, line i+1 = atomic number i
"""
import json
import pathlib

import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.data import chemical_symbols
import ase.io

HERE = pathlib.Path(__file__).resolve().parent
RNG = np.random.default_rng(20261123)
# Keys chorus reads into Frame fields rather than Frame::info.
FIELD_KEYS = {"energy", "stress", "virial", "dipole"}


def periodic_triclinic():
    cell = np.array([[5.1, 0.0, 0.0], [1.2, 4.8, 0.0], [-0.7, 0.9, 6.3]])
    frames = []
    for index, symbols in enumerate(["SiO2Na2", "ClNaHeOgX", "HHO"]):
        atoms = Atoms(symbols, cell=cell * (1.0 + 0.01 * index), pbc=True)
        # Some atoms outside the box: extxyz must not wrap them.
        atoms.positions = RNG.uniform(-2.0, 8.0, size=(len(atoms), 3))
        stress = RNG.normal(scale=0.01, size=6)
        atoms.calc = SinglePointCalculator(
            atoms, energy=RNG.normal(scale=10.0), forces=RNG.normal(size=(len(atoms), 3)), stress=stress)
        atoms.info["source"] = f"run_{index}"
        atoms.info["temperature"] = 300.5 + index
        atoms.info["step"] = 42 * index
        frames.append(atoms)
    ase.io.write(HERE / "periodic_triclinic.xyz", frames, format="extxyz")


def molecule_dipole():
    frames = []
    for symbols in ["OH2", "CH4"]:
        atoms = Atoms(symbols)
        atoms.positions = RNG.normal(scale=1.5, size=(len(atoms), 3))
        atoms.calc = SinglePointCalculator(
            atoms, energy=RNG.normal(scale=100.0), forces=RNG.normal(size=(len(atoms), 3)),
            dipole=RNG.normal(size=3))
        atoms.info["method"] = "GFN2-xTB"
        frames.append(atoms)
    ase.io.write(HERE / "molecule_dipole.xyz", frames, format="extxyz")


HAND_WRITTEN_FRAME = """3
Properties=id:I:1:pos:R:3:species:S:1:force:R:3:label:S:1 energy = -12.5 converged comment='single quoted' tags={1 2 3} pbc=[F F F]
1 0.0 0.1 0.2 O 1.5 -2.5 0.25 oxygen
2 0.9 0.1 0.2 H -1.0 1.0 +0.5 first_h
3 -0.3 0.95 0.2 H -0.5 1.5 -0.75 second_h
"""


def quoted_columns():
    atoms = Atoms("NH3", positions=RNG.normal(size=(4, 3)))
    atoms.set_tags([7, 8, 9, 10])
    atoms.new_array("label", np.array(["n", "h1", "h2", "h3"]))
    atoms.new_array("fixed", np.array([True, False, False, True]))
    atoms.new_array("velocities", RNG.normal(size=(4, 3)))
    atoms.calc = SinglePointCalculator(atoms, energy=-3.25, forces=RNG.normal(size=(4, 3)))
    atoms.info["comment"] = "hello big world"
    atoms.info["note"] = 'say "hi" twice'
    atoms.info["virial"] = RNG.normal(size=(3, 3))  # not symmetric: checks the Fortran order
    path = HERE / "quoted_columns.xyz"
    ase.io.write(path, atoms, format="extxyz")
    with open(path, "a") as handle:
        handle.write(HAND_WRITTEN_FRAME)


def to_json(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def reference(path):
    lines = path.read_text().splitlines()
    count_lines = []
    line = 0
    while line < len(lines):
        count_lines.append(line + 1)
        line += int(lines[line]) + 2
    frames = []
    for atoms, count_line in zip(ase.io.read(path, index=":", format="extxyz"), count_lines):
        results = atoms.calc.results if atoms.calc is not None else {}
        frame = {
            "line": count_line,
            "numbers": atoms.numbers.tolist(),
            "positions": atoms.positions.tolist(),
            "cell": atoms.cell.array.tolist(),  # rows are lattice vectors
            "pbc": atoms.pbc.tolist(),
            "info": {key: to_json(value) for key, value in atoms.info.items() if key not in FIELD_KEYS},
        }
        if "energy" in results:
            frame["energy"] = float(results["energy"])
        forces = results.get("forces", atoms.arrays.get("force"))
        if forces is not None:
            frame["forces"] = forces.tolist()
        if "virial" in atoms.info:
            frame["virial"] = atoms.info["virial"].tolist()
        elif "stress" in results:
            xx, yy, zz, yz, xz, xy = results["stress"]
            stress = np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])
            frame["virial"] = (-stress * atoms.get_volume()).tolist()
        if "dipole" in results:
            frame["dipole"] = results["dipole"].tolist()
        frames.append(frame)
    return frames


def main():
    periodic_triclinic()
    molecule_dipole()
    quoted_columns()
    names = ["periodic_triclinic.xyz", "molecule_dipole.xyz", "quoted_columns.xyz"]
    references = {name: reference(HERE / name) for name in names}
    (HERE / "reference.json").write_text(json.dumps(references, indent=1) + "\n")
    (HERE / "elements.txt").write_text("\n".join(chemical_symbols) + "\n")


if __name__ == "__main__":
    main()
