#!/usr/bin/python3
"""A committee trained as a correction to a baseline (`train --baseline`), evaluated and served with it.

Cases:
  A. `chorus train --baseline lj.json` on 18 water frames learns labels minus the baseline's
     predictions and records the baseline (path, SHA-256) in the model file.
  B. `chorus eval --baseline lj.json` predicts exactly the baseline plus the correction (both
     evaluated alone), and is far more accurate than the correction alone.
  C. `--baseline-uncertainty s_b`: energies follow V = V_b + w ΔV̄ with w = s_b²/(s_b² + σ²), the
     reported spread is √w σ (science.md §5, weighted baseline).
  D. `chorus serve --baseline … --baseline-uncertainty …` with ASE's SocketIOCalculator as the i-PI
     server returns what `chorus eval` predicts for the same frame (2e-7: CODATA 2014 vs 2018).
"""
import atexit
import hashlib
import json
import os

import numpy as np
from ase.calculators.socketio import SocketIOCalculator
from ase.io import read

from e2e_common import Chorus, Workspace, check, check_close, parse_arguments, run_test, unique_name, unix_socket_path
from test_train_eval import FRAME_LINES, RTOL_CODATA, run, small_data


def evaluate(chorus, workspace, name, model, data, extra=()):
    path = workspace.file(name)
    run([chorus, "eval", "--model", model, "--json", path, *extra, data])
    with open(path) as stream:
        return json.load(stream)


def main():
    args = parse_arguments(__doc__)
    workspace = Workspace("baseline")
    data, frame_count = small_data(args.repo_root, workspace)
    # "Any chorus model" as the baseline: a soft Lennard-Jones on every pair, harmless at O–H bond
    # lengths, so that the correction has something smooth but non-trivial to remove.
    baseline = workspace.lj_model(0.02, 1.1, 3.5, name="baseline-lj.json")
    config = workspace.write_json("train.json", {
        "features": {"cutoff": 4.0, "nu1": {"n_max": 4}, "nu2": {"n_max": 4, "l_max": 3}},
        "committee": {"members": 4},
        "regulariser": {"smallest": 1e-12, "largest": 1e-2, "points": 11}})

    # A.
    correction = workspace.file("correction.json")
    stdout = run([args.chorus, "train", "--data", data, "--config", config, "--out", correction, "--seed", "3",
                  "--threads", "2", "--baseline", baseline])
    check("baseline: " in stdout, "train announces the baseline", "baseline: …", stdout[:2000])
    with open(correction) as stream:
        recorded = json.load(stream)["training"].get("baseline")
    with open(baseline, "rb") as stream:
        digest = hashlib.sha256(stream.read()).hexdigest()
    check(recorded is not None and recorded["sha256"] == digest, "the model records the baseline's SHA-256",
          digest, recorded)
    print(f"ok A: trained a correction to {os.path.basename(baseline)} on {frame_count} frames")

    # B.
    alone = evaluate(args.chorus, workspace, "correction.json.eval", correction, data)
    base = evaluate(args.chorus, workspace, "baseline.eval", baseline, data)
    summed = evaluate(args.chorus, workspace, "sum.eval", correction, data, ["--baseline", baseline])
    # 1e-10: each run sums per-thread partial results in a scheduling-dependent order (~1e-12).
    for a, b, s in zip(alone["frames"], base["frames"], summed["frames"]):
        check_close(s["energy"], a["energy"] + b["energy"], 1e-10, "baseline + correction energy (eV)")
        check_close(np.array(s["forces"]), np.array(a["forces"]) + np.array(b["forces"]), 1e-10,
                    "baseline + correction forces (eV/Å)", atol=1e-12)
    f_sum, f_alone = summed["summary"]["force_rmse"], alone["summary"]["force_rmse"]
    check(f_sum < 0.5 * f_alone, "with its baseline the correction predicts the labels; alone it does not",
          f"< {0.5 * f_alone:.4f}", f_sum)
    print(f"ok B: eval --baseline = baseline + correction; force RMSE {f_sum:.4f} eV/Å (correction alone "
          f"{f_alone:.4f})")

    # C.
    sigmas = np.array([f["energy_sigma"] for f in alone["frames"]])
    s_b = float(np.median(sigmas))  # w spans both sides of 1/2 over the frames
    weighted = evaluate(args.chorus, workspace, "weighted.eval", correction, data,
                        ["--baseline", baseline, "--baseline-uncertainty", repr(s_b)])
    for a, b, w in zip(alone["frames"], base["frames"], weighted["frames"]):
        weight = s_b ** 2 / (s_b ** 2 + a["energy_sigma"] ** 2)
        # w depends on σ, a difference of nearly equal member energies: the ~1e-12 thread-order noise of
        # the members becomes ~1e-9 in σ, hence the looser tolerance.
        check_close(w["energy"], b["energy"] + weight * a["energy"], 1e-8, "V_b + w ΔV̄ (eV)")
        check_close(w["energy_sigma"], np.sqrt(weight) * a["energy_sigma"], 1e-8, "weighted spread √w σ (eV)")
    print(f"ok C: --baseline-uncertainty {s_b:.4g} eV weights every frame as V_b + w ΔV̄")

    # D.
    single = workspace.file("frame0.xyz")
    with open(data) as stream:
        lines = stream.readlines()[:FRAME_LINES]
    with open(single, "w") as out:
        out.writelines(lines)
    expected = evaluate(args.chorus, workspace, "frame0.eval", correction, single,
                        ["--baseline", baseline, "--baseline-uncertainty", repr(s_b)])["frames"][0]
    name = unique_name("baseline")
    workspace.track_socket(unix_socket_path(name))
    calc = SocketIOCalculator(unixsocket=name, timeout=30)
    atexit.register(calc.close)
    chorus = Chorus(args.chorus, ["--model", correction, "--baseline", baseline, "--baseline-uncertainty", repr(s_b),
                                  "--connect", f"unix:{name}", "--species", "O,H,H", "--extras", "none"],
                    workspace, label="serve")
    atoms = read(single, index=0)
    atoms.calc = calc
    energy, forces = atoms.get_potential_energy(), atoms.get_forces()
    check_close(energy, expected["energy"], RTOL_CODATA, "served weighted-baseline energy = chorus eval's (eV)")
    check_close(forces, np.array(expected["forces"]), RTOL_CODATA, "served forces = chorus eval's (eV/Å)",
                atol=1e-9)
    calc.server.protocol.end()
    calc.close()
    code = chorus.wait_exit(10)
    check(code == 0, "chorus serve exits 0 after EXIT", 0, code)
    print(f"ok D: served weighted baseline = chorus eval to {RTOL_CODATA:g} (E = {energy:.6f} eV)")


if __name__ == "__main__":
    run_test(main)
