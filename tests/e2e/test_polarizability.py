"""Polarizability committees end to end: `chorus train --target polarizability` and `chorus eval`
on synthetic labels written by ASE.

The labels: every water molecule of the shared clusters carries a fixed molecular tensor (close to
gas-phase water's) rotated into its own frame, plus a short-ranged pair term between molecules,
written as ASE writes a 3×3 `info` array (9 numbers, row by row).

  A. train a 4-member committee with small λ-SOAP features: the model file has kind
     "linear-polarizability-committee", both calibration factors, the recorded split, and train
     prints the polarizability table.
  B. eval --subset test --json: the test frames of the split, symmetric tensors, the mean equal to
     the members' mean, σ their ddof-1 spread per element, and an element RMSE well below the
     reference spread.
  C. the same frames rotated (and shifted) by ASE: every predicted tensor becomes R α Rᵀ (1e-7: ASE
     writes positions with 8 decimals; the unit tests check 1e-10 on exact positions).
  D. eval refuses --plot for a polarizability model, naming the option.
"""
import json
import os
import subprocess
import warnings

import numpy as np
from ase.io import read, write

from e2e_common import Workspace, check, check_close, parse_arguments, run_test

MOLECULAR_TENSOR = np.diag([1.53, 1.42, 1.47]) / 14.3996  # Å³ → e·Å²/V, in the molecule's frame


def run(command):
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    check(result.returncode == 0, f"{' '.join(command)} exits 0\n--- stdout ---\n{result.stdout}\n"
          f"--- stderr ---\n{result.stderr}", 0, result.returncode)
    return result.stdout


def synthetic_polarizability(atoms):
    positions = atoms.get_positions()
    numbers = atoms.get_atomic_numbers()
    oxygens = np.where(numbers == 8)[0]
    hydrogens = np.where(numbers == 1)[0]
    alpha = np.zeros((3, 3))
    centres = []
    for o in oxygens:
        h1, h2 = hydrogens[np.argsort(np.linalg.norm(positions[hydrogens] - positions[o], axis=1))[:2]]
        bisector = (positions[h1] + positions[h2]) / 2 - positions[o]
        bisector /= np.linalg.norm(bisector)
        in_plane = positions[h1] - positions[h2]
        in_plane -= in_plane.dot(bisector) * bisector
        in_plane /= np.linalg.norm(in_plane)
        frame = np.stack([in_plane, np.cross(bisector, in_plane), bisector], axis=1)
        alpha += frame @ MOLECULAR_TENSOR @ frame.T
        centres.append(positions[o])
    for i in range(len(centres)):
        for j in range(i + 1, len(centres)):
            r = centres[j] - centres[i]
            d = np.linalg.norm(r)
            n = r / d
            alpha += 0.02 * (3 * np.outer(n, n) - np.eye(3)) / d**3 * np.exp(-(d / 4.0) ** 2)
    return alpha


def main():
    args = parse_arguments(__doc__)
    args.chorus = os.path.abspath(args.chorus)
    workspace = Workspace("polarizability")
    # The frames carry GFN2 forces that ASE rewrites from its single-point calculator: harmless.
    warnings.filterwarnings("ignore", message="write_xyz\\(\\) overwriting")
    frames = read(os.path.join(args.repo_root, "tests", "data", "dipole", "water-clusters-gfn2-every6.xyz"), ":")
    for atoms in frames:
        atoms.info["polarizability"] = synthetic_polarizability(atoms).reshape(-1)
        atoms.info.pop("dipole", None)
    data = workspace.file("labelled.xyz")
    write(data, frames, format="extxyz")
    config = workspace.write_json("polarizability.json", {
        "features": {"cutoff": 4.0, "lambda_soap": {"n_max": 3, "l_max": 2, "lambdas": [2]}},
        "committee": {"members": 4},
        "split": {"group_key": "temperature"},
        "regulariser": {"smallest": 1e-10, "largest": 1.0, "points": 11}})

    # A. train.
    model_path = workspace.file("polarizability-model.json")
    stdout = run([args.chorus, "train", "--target", "polarizability", "--data", data, "--config", config,
                  "--out", model_path, "--seed", "1", "--threads", "1"])
    check("λ=2 component RMSE" in stdout and "elements within ±2σ (%)" in stdout,
          "train --target polarizability prints the polarizability table", "table", stdout[-2000:])
    with open(model_path) as stream:
        model = json.load(stream)
    check(model["kind"] == "linear-polarizability-committee" and len(model["members"]) == 4,
          "a 4-member polarizability committee", "linear-polarizability-committee, 4",
          (model["kind"], len(model["members"])))
    check(model["alpha"] > 0 and model["alpha_isotropic"] > 0, "both calibration factors are stored", "> 0",
          (model["alpha"], model["alpha_isotropic"]))
    recorded = model["training"]["data"][0]
    test_frames = recorded["test"]
    check(len(test_frames) > 0 and recorded["frames"] == len(frames), "the split is recorded", len(frames),
          recorded["frames"])
    print(f"ok A: polarizability committee trained on {len(recorded['train'])} frames")

    # B. eval --subset test.
    report_path = workspace.file("report.json")
    run([args.chorus, "eval", "--model", model_path, "--subset", "test", "--json", report_path, data])
    with open(report_path) as stream:
        report = json.load(stream)
    check([f["index"] for f in report["frames"]] == test_frames, "eval --subset test evaluates the test frames",
          test_frames, [f["index"] for f in report["frames"]])
    for entry in report["frames"]:
        mean = np.array(entry["polarizability"])
        members = np.array(entry["polarizability_members"])
        check_close(mean, mean.T, 0, "the predicted tensor is symmetric", atol=1e-14)
        check_close(members.mean(axis=0), mean, 0, "the mean is the members' mean", atol=1e-12)
        check_close(members.std(axis=0, ddof=1), np.array(entry["polarizability_sigma"]), 1e-9,
                    "σ is the members' ddof-1 spread", atol=1e-14)
        check_close(np.array(entry["reference_polarizability"]), synthetic_polarizability(frames[entry["index"]]),
                    1e-12, "the reference is the label written by ASE", atol=1e-14)
    summary = report["summary"]
    check(summary["frames"] == len(test_frames) and
          summary["element_rmse"] < 0.1 * summary["element_reference_std"],
          "test element RMSE below 10 % of the reference spread", "< 10 %",
          (summary["element_rmse"], summary["element_reference_std"]))
    print(f"ok B: test element RMSE {summary['element_rmse']:.3g} of std {summary['element_reference_std']:.3g}, "
          f"λ=2 RMSE {summary['anisotropic_rmse']:.3g} of std {summary['anisotropic_reference_std']:.3g}")

    # C. rotated copies of the test frames.
    angle, axis = 1.234, np.array([0.3, -0.7, 0.65]) / np.linalg.norm([0.3, -0.7, 0.65])
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    rotation = np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k
    originals, rotated = [], []
    for index in test_frames:
        atoms = frames[index].copy()
        originals.append(atoms.copy())
        atoms.set_positions(atoms.get_positions() @ rotation.T + np.array([2.0, -1.0, 0.5]))
        rotated.append(atoms)
    before_path, after_path = workspace.file("before.xyz"), workspace.file("after.xyz")
    write(before_path, originals, format="extxyz")
    write(after_path, rotated, format="extxyz")
    reports = []
    for path in (before_path, after_path):
        out = workspace.file(os.path.basename(path) + ".json")
        run([args.chorus, "eval", "--model", model_path, "--json", out, path])
        with open(out) as stream:
            reports.append(json.load(stream)["frames"])
    worst = 0.0
    for one, two in zip(*reports):
        expected = rotation @ np.array(one["polarizability"]) @ rotation.T
        scale = np.abs(expected).max()
        worst = max(worst, np.abs(np.array(two["polarizability"]) - expected).max() / scale)
        for a, b in zip(one["polarizability_members"], two["polarizability_members"]):
            worst = max(worst, np.abs(np.array(b) - rotation @ np.array(a) @ rotation.T).max() / scale)
    check(worst <= 1e-7, "rotating the structures gives R α Rᵀ for the mean and every member", "≤ 1e-7", worst)
    print(f"ok C: rotated frames give R α Rᵀ to {worst:.2g}")

    # D. --plot is refused.
    result = subprocess.run([args.chorus, "eval", "--model", model_path, "--plot", workspace.file("plots"), data],
                            capture_output=True, text=True, timeout=60)
    check(result.returncode != 0 and "--plot" in result.stderr + result.stdout,
          "eval --plot is refused for a polarizability model", "error naming --plot",
          (result.returncode, result.stderr[-500:]))
    print("ok D: --plot refused")


if __name__ == "__main__":
    run_test(main)
