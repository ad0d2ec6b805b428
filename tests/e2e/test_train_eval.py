#!/usr/bin/python3
"""`chorus train` and `chorus eval` end to end, and the trained committee served to a real peer.

Cases:
  A. `chorus train` on 18 frames of the repository's liquid-water data (small features, so it
     runs in seconds) writes a loadable linear committee; run twice with --threads 1 and the same
     SOURCE_DATE_EPOCH, the two files are identical bytes; the model records the split and the
     data's SHA-256.
  B. `chorus eval --json --subset test` on that model: the frames are exactly the recorded test
     frames, and the summary is finite.
  C. One water frame through `chorus serve --species O,H,H` with ASE's SocketIOCalculator as the
     i-PI server gives the energy and forces `chorus eval --json` reports for the same frame, to
     2e-7 relative (ASE converts with CODATA 2014, chorus with CODATA 2018: ~1e-8 apart).
"""
import atexit
import hashlib
import json
import os
import subprocess

import numpy as np
from ase.calculators.socketio import SocketIOCalculator
from ase.io import read

from e2e_common import Chorus, Workspace, check, check_close, parse_arguments, run_test, unique_name, unix_socket_path

RTOL_CODATA = 2e-7
FRAME_LINES = 194  # 192 atoms + count line + comment line


def small_data(repo_root, workspace):
    """Every 27th frame of the shipped data: 18 frames from all three sources, kept verbatim."""
    source = os.path.join(repo_root, "models", "pretrained", "data", "liquid-water-qtip4pf.xyz")
    with open(source) as stream:
        lines = stream.readlines()
    frames = [lines[i:i + FRAME_LINES] for i in range(0, len(lines), FRAME_LINES)]
    path = workspace.file("water-small.xyz")
    with open(path, "w") as out:
        for frame in frames[::27]:
            out.writelines(frame)
    return path, len(frames[::27])


def run(command, env=None, cwd=None):
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=600)
    check(result.returncode == 0, f"{' '.join(command)} exits 0\n--- stdout ---\n{result.stdout}\n"
          f"--- stderr ---\n{result.stderr}", 0, result.returncode)
    return result.stdout


def main():
    args = parse_arguments(__doc__)
    args.chorus = os.path.abspath(args.chorus)  # the training runs change directory
    workspace = Workspace("train_eval")
    data, frame_count = small_data(args.repo_root, workspace)
    config = workspace.write_json("train.json", {
        "features": {"cutoff": 4.0, "nu1": {"n_max": 4}, "nu2": {"n_max": 4, "l_max": 3}},
        "committee": {"members": 4},
        "regulariser": {"smallest": 1e-12, "largest": 1e-2, "points": 11}})

    # A. train, twice, bit for bit (same command line, so --out is the same relative path, in two
    # directories: the model file records its command line).
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")
    models = []
    for attempt in range(2):
        directory = workspace.file(f"run-{attempt}")
        os.mkdir(directory)
        stdout = run([args.chorus, "train", "--data", data, "--config", config, "--out", "model.json", "--seed", "4",
                      "--threads", "1"], env=env, cwd=directory)
        out = os.path.join(directory, "model.json")
        check("E RMSE (meV/atom)" in stdout and "F within ±2σ (%)" in stdout, "train prints the summary table",
              "table", stdout[-2000:])
        models.append(out)
    with open(models[0], "rb") as a, open(models[1], "rb") as b:
        check(a.read() == b.read(), "two --threads 1 runs with the same seed write identical model files")
    with open(models[0]) as stream:
        model = json.load(stream)
    check(model["kind"] == "linear-committee" and len(model["members"]) == 4, "a 4-member linear committee",
          "linear-committee, 4", (model["kind"], len(model["members"])))
    recorded = model["training"]["data"][0]
    with open(data, "rb") as stream:
        digest = hashlib.sha256(stream.read()).hexdigest()
    check(recorded["sha256"] == digest, "the model records the data's SHA-256", digest, recorded["sha256"])
    check(recorded["frames"] == frame_count, "the model records the frame count", frame_count, recorded["frames"])
    split = sorted(recorded["train"] + recorded["validation"] + recorded["test"])
    check(split == list(range(frame_count)), "the recorded split covers every frame once")
    check(model["training"]["date"] == "2023-11-14T22:13:20Z", "SOURCE_DATE_EPOCH sets the recorded date",
          "2023-11-14T22:13:20Z", model["training"]["date"])
    print(f"ok A: trained on {frame_count} frames, identical bytes twice, split and hash recorded")

    # B. eval on the recorded test frames.
    report_path = workspace.file("eval.json")
    run([args.chorus, "eval", "--model", models[0], "--subset", "test", "--json", report_path, data])
    with open(report_path) as stream:
        report = json.load(stream)
    check([f["index"] for f in report["frames"]] == recorded["test"], "eval --subset test evaluates the test frames",
          recorded["test"], [f["index"] for f in report["frames"]])
    summary = report["summary"]
    check(np.isfinite(summary["force_rmse"]) and np.isfinite(summary["energy_rmse_per_atom"]),
          "finite test errors", "finite", summary)
    print(f"ok B: eval --subset test: force RMSE {summary['force_rmse']:.4f} eV/Å, "
          f"energy RMSE {1e3 * summary['energy_rmse_per_atom']:.3f} meV/atom")

    # C. the same frame through chorus serve and ASE's socket calculator.
    atoms = read(data, index=0)
    single = workspace.file("frame0.xyz")
    with open(data) as stream:
        lines = stream.readlines()[:FRAME_LINES]
    with open(single, "w") as out:
        out.writelines(lines)
    eval_path = workspace.file("eval-frame0.json")
    run([args.chorus, "eval", "--model", models[0], "--json", eval_path, single])
    with open(eval_path) as stream:
        evaluated = json.load(stream)["frames"][0]

    name = unique_name("train_eval")
    workspace.track_socket(unix_socket_path(name))
    calc = SocketIOCalculator(unixsocket=name, timeout=30)
    atexit.register(calc.close)
    chorus = Chorus(args.chorus, ["--model", models[0], "--connect", f"unix:{name}", "--species", "O,H,H",
                                  "--extras", "none"], workspace, label="serve")
    atoms.calc = calc
    energy, forces = atoms.get_potential_energy(), atoms.get_forces()
    check_close(energy, evaluated["energy"], RTOL_CODATA, "served energy = chorus eval's (eV)")
    check_close(forces, np.array(evaluated["forces"]), RTOL_CODATA, "served forces = chorus eval's (eV/Å)")
    calc.server.protocol.end()
    calc.close()
    code = chorus.wait_exit(10)
    check(code == 0, "chorus serve exits 0 after EXIT", 0, code)
    print(f"ok C: served water frame = chorus eval to {RTOL_CODATA:g} (E = {energy:.6f} eV)")


if __name__ == "__main__":
    run_test(main)
