#!/usr/bin/python3
"""`chorus serve --dipole-model … --born-charges`: the "dipole" and "BEC" keys that i-PI's driven
dynamics (eda-nve / eda-nvt with <bec mode="driver"/>) reads from the extras, checked against a real
serve driven by ipi_test_server.py (the project's i-PI stand-in, CODATA 2018 like chorus).

Cases:
  A. a small dipole committee trained as in test_dipole.py (tests/data/dipole, λ-SOAP λ = 1).
  B. a water trimer and the same trimer with one atom displaced by ±h, h = 1e-4 Bohr, along x, y, z
     (and a second atom along y), all on one connection: "BEC" has 3N rows of 3 in i-PI's layout
     BEC[3j+β][α] = ∂μ_α/∂R_{jβ}; its rows of the displaced atoms equal the central differences
     (μ(+h) − μ(−h)) / 2h of the served "dipole" (e·Bohr / Bohr) to 1e-5 of the BEC's scale;
     "dipole" equals chorus_dipole; Σ_j BEC[3j+β][α] passes i-PI's acoustic-sum-rule check
     (|mean over atoms| ≤ 1e-8 · N) and is in fact 0 to 1e-10.
  C. the CLI refuses --born-charges without --dipole-model (also as CHORUS_BORN_CHARGES=1) and with
     --extras none: exit code ≠ 0, the message names the missing option, nothing served.
"""
import os
import subprocess

import numpy as np
from ase.io import read

from e2e_common import (BOHR_IN_ANGSTROM, Chorus, Workspace, check, check_close, parse_arguments, run_test,
                        unique_name, unix_socket_path)
from ipi_test_server import ConnectionPlan, IpiTestServer, Structure

STEP_BOHR = 1e-4
# (atom, direction) pairs displaced by ±STEP_BOHR.
DISPLACEMENTS = [(0, 0), (0, 1), (0, 2), (4, 1)]


def run(command, env=None):
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    check(result.returncode == 0, f"{' '.join(command)} exits 0\n--- stderr ---\n{result.stderr}", 0,
          result.returncode)
    return result.stdout


def train_dipole_model(args, workspace):
    data = os.path.join(args.repo_root, "tests", "data", "dipole", "water-clusters-gfn2-every6.xyz")
    config = workspace.write_json("dipole.json", {
        "features": {"cutoff": 4.0, "lambda_soap": {"n_max": 4, "l_max": 2, "lambdas": [1]}},
        "committee": {"members": 4},
        "split": {"group_key": "temperature"},
        "regulariser": {"smallest": 1e-8, "largest": 1.0, "points": 9}})
    model = workspace.file("dipole-model.json")
    run([args.chorus, "train", "--target", "dipole", "--data", data, "--config", config, "--out", model, "--seed",
         "2", "--threads", "1"])
    return data, model


def structures_to_send(atoms):
    """The trimer, then for every displacement the + and − structures (positions in Å for the test
    server, which converts with CODATA 2018 as chorus does)."""
    base = np.asarray(atoms.get_positions(), dtype=float)
    cell = np.zeros((3, 3))
    structures = [Structure(cell, base.copy())]
    for atom, direction in DISPLACEMENTS:
        for sign in (1.0, -1.0):
            moved = base.copy()
            moved[atom, direction] += sign * STEP_BOHR * BOHR_IN_ANGSTROM
            structures.append(Structure(cell, moved))
    return structures


def case_b(args, workspace, energy_model, dipole_model, atoms):
    structures = structures_to_send(atoms)
    name = unique_name("born")
    address = f"unix:{name}"
    workspace.track_socket(unix_socket_path(name))
    with IpiTestServer(address, lambda index: ConnectionPlan(steps=[[s] for s in structures]), timeout=60) as server:
        chorus = Chorus(args.chorus, ["--model", energy_model, "--dipole-model", dipole_model, "--born-charges",
                                      "--connect", address, "--species", "O,H,H", "--extras", "energies"],
                        workspace, label="serve")
        server.wait_for(lambda records: len(records) == 1 and records[0].finished, timeout=60)
        record = server.records[0]
        check(record.error is None, "the conversation succeeds", None, record.error)
        check(len(record.answers) == len(structures), "one answer per structure", len(structures),
              len(record.answers))
        extras = [step[0].extras_json() for step in record.answers]
    code = chorus.wait_exit(10)
    check(code == 0, "chorus serve exits 0 after EXIT", 0, code)
    check("born charges" in chorus.log(), "the log announces the born charges", "born charges", chorus.log())

    n = len(atoms)
    bec = np.asarray(extras[0]["BEC"], dtype=float)
    check(bec.shape == (3 * n, 3), "BEC has 3N rows of 3 (i-PI's layout)", (3 * n, 3), bec.shape)
    check(np.all(np.isfinite(bec)), "BEC is finite")
    dipole = np.asarray(extras[0]["dipole"], dtype=float)
    check(dipole.shape == (3,), "dipole has 3 components", (3,), dipole.shape)
    check(np.array_equal(dipole, np.asarray(extras[0]["chorus_dipole"], dtype=float)),
          "dipole equals chorus_dipole (the same e·Bohr numbers)", extras[0]["chorus_dipole"], dipole.tolist())

    # i-PI's _get_driver_BEC check, and the exact identity behind it.
    sum_rule = bec.reshape(n, 3, 3).sum(axis=0)
    check(np.allclose(sum_rule / n, 0.0, atol=1e-8 * n), "BEC passes i-PI's acoustic sum rule check", 0.0,
          sum_rule.tolist())
    check(np.abs(sum_rule).max() < 1e-10, "Σ_j BEC = 0 to 1e-10", 0.0, np.abs(sum_rule).max())

    scale = np.abs(bec).max()
    check(scale > 1e-3, "BEC is not trivially zero", "> 1e-3", scale)
    worst = 0.0
    for k, (atom, direction) in enumerate(DISPLACEMENTS):
        plus = np.asarray(extras[1 + 2 * k]["dipole"], dtype=float)
        minus = np.asarray(extras[2 + 2 * k]["dipole"], dtype=float)
        finite_difference = (plus - minus) / (2.0 * STEP_BOHR)
        check_close(bec[3 * atom + direction], finite_difference, 1e-5,
                    f"BEC row of atom {atom}, direction {'xyz'[direction]} vs. central differences of the dipole",
                    atol=1e-5 * scale)
        worst = max(worst, np.abs(bec[3 * atom + direction] - finite_difference).max() / scale)
        # The layout matters: atom j's 3 × 3 block is not symmetric, so its transpose would fail.
        block = bec[3 * atom:3 * atom + 3]
        check(np.abs(block - block.T).max() > 1e-3 * scale, f"atom {atom}'s Born charge is not symmetric")
    print(f"ok B: BEC of {n} atoms, |Z|max {scale:.4f} e, {len(DISPLACEMENTS)} rows match central differences "
          f"(h = {STEP_BOHR:g} Bohr) to {worst:.1e} of the scale, sum rule {np.abs(sum_rule).max():.1e}")


def expect_refusal(args, arguments, needle, what, env=None):
    result = subprocess.run([args.chorus, "serve", *arguments], capture_output=True, text=True, env=env,
                            timeout=60, stdin=subprocess.DEVNULL)
    output = result.stdout + result.stderr
    check(result.returncode != 0, f"{what}: chorus serve refuses (exit code ≠ 0)", "≠ 0", result.returncode)
    check(needle in output, f"{what}: the message names {needle}", needle, output[-2000:])


def case_c(args, energy_model, dipole_model):
    address = f"unix:{unique_name('born-refused')}"
    common = ["--model", energy_model, "--connect", address, "--species", "O,H,H", "--retry-for", "0"]
    expect_refusal(args, [*common, "--born-charges"], "--dipole-model", "--born-charges without --dipole-model")
    env = dict(os.environ, CHORUS_BORN_CHARGES="1")
    expect_refusal(args, common, "--dipole-model", "CHORUS_BORN_CHARGES=1 without --dipole-model", env=env)
    expect_refusal(args, [*common, "--dipole-model", dipole_model, "--born-charges", "--extras", "none"],
                   "--extras none", "--born-charges with --extras none")
    print("ok C: --born-charges refused without --dipole-model (flag and environment) and with --extras none")


def main():
    args = parse_arguments(__doc__)
    args.chorus = os.path.abspath(args.chorus)
    workspace = Workspace("born-charges")
    energy_model = os.path.join(args.repo_root, "models", "pretrained", "water-committee.json")
    data, dipole_model = train_dipole_model(args, workspace)
    print("ok A: dipole committee trained")
    frames = read(data, index=":")
    trimers = [atoms for atoms in frames if len(atoms) == 9]
    check(bool(trimers), "the data set has a water trimer", "9 atoms", sorted({len(a) for a in frames}))
    trimer = trimers[0]
    check(trimer.get_chemical_symbols() == ["O", "H", "H"] * 3, "the trimer is ordered O,H,H",
          "OHH", trimer.get_chemical_symbols())
    case_b(args, workspace, energy_model, dipole_model, trimer)
    case_c(args, energy_model, dipole_model)


if __name__ == "__main__":
    run_test(main)
