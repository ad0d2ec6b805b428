#!/usr/bin/python3
"""Dipole committees end to end: `chorus train --target dipole`, `chorus eval` on the dipole model,
and `chorus serve --dipole-model` answering a real peer (ASE's SocketIOCalculator, patched to
accept extras: ase_patch.py).

Data: tests/data/dipole/water-clusters-gfn2-every6.xyz, every 6th frame of
../shared/data/water-clusters-gfn2.xyz beside the repository ((H2O)n, n = 1…8, GFN2-xTB dipoles in e·Å, see that
file's README), kept verbatim.

Cases:
  A. train a 4-member dipole committee with small λ-SOAP features: the model file has kind
     "linear-dipole-committee", records the split, and train prints the dipole table.
  B. `chorus eval --subset test --json --plot`: exactly the recorded test frames, finite errors,
     the three PNG plots; `chorus eval` of an energy model is untouched by the dispatch.
  C. one cluster through `chorus serve --model water-committee.json --dipole-model …` and ASE: the
     extras carry chorus_dipole / chorus_dipole_members / chorus_dipole_uncertainty in e·Bohr that
     equal `chorus eval`'s dipole (e·Å) converted with CODATA 2018 (to 2e-7: ASE sends positions
     converted with CODATA 2014); the mean of the members is the mean, σ their ddof-1 spread; the
     same cluster rotated gives the rotated dipole.
  E. `chorus eval --dipole-observable norm2 --observables-out` writes |μ_k|² of every member per frame,
     which `chorus reweight POT OBS --multi-obs` combines (σ_a of the dipole committee).
  F. a short trajectory of the trimer served with --dipole-model --committee-log --temperature --control:
     the log names the dipole columns and the dipole committee size, its mean dipole (e·Å) equals the
     extras' (e·Bohr) converted, and `chorus reweight --committee-log` reads it: observables mu_x, mu_y,
     mu_z, mu2 whose sampled averages are the plain means of the logged dipoles, equal (the same doubles)
     to the live `reweight` of the control API, and with --multi-obs one σ_a/σ_aV decomposition per
     scalar over the 4 dipole members.
  G. `reload` with --dipole-model re-reads both files: a corrupted dipole file, or one with another
     member count, is refused (the error names the file; the served dipole stays), a valid one
     (another seed) is swapped in on the same connection: the next dipole is `chorus eval`'s of the
     new model; one log line for the reload, and the committee log's `# reload:` line names the new
     dipole file's sha256.
  D. (when ../shared/data/water-clusters-gfn2.xyz exists beside the repository) the full data set with the default
     dipole features: test RMSE ≤ 10 % of the component std, ±σ coverage in [60, 76] %, ±2σ in
     [90, 98] % (validation and test pooled: the acceptance numbers of issue 10).
"""
import atexit
import hashlib
import json
import os
import shutil
import subprocess

import numpy as np
from ase.calculators.socketio import SocketIOCalculator
from ase.io import read

import ase_patch
from e2e_common import (BOHR_IN_ANGSTROM, Chorus, Workspace, check, check_close, parse_arguments, run_test,
                        unique_name, unix_socket_path)

RTOL_CODATA = 2e-7
# The project's shared data set, beside the repository (../shared/data), when it is there.
FULL_DATA_NAME = os.path.join("..", "shared", "data", "water-clusters-gfn2.xyz")


def run(command, env=None, cwd=None):
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=600)
    check(result.returncode == 0, f"{' '.join(command)} exits 0\n--- stdout ---\n{result.stdout}\n"
          f"--- stderr ---\n{result.stderr}", 0, result.returncode)
    return result.stdout


def serve_dipole(args, workspace, energy_model, dipole_model, atoms):
    """The extras of one ASE calculation of `atoms` through chorus serve."""
    name = unique_name("dipole")
    workspace.track_socket(unix_socket_path(name))
    calc = SocketIOCalculator(unixsocket=name, timeout=30)
    atexit.register(calc.close)
    chorus = Chorus(args.chorus, ["--model", energy_model, "--dipole-model", dipole_model, "--connect",
                                  f"unix:{name}", "--species", "O,H,H", "--extras", "energies"],
                    workspace, label="serve")
    atoms = atoms.copy()
    atoms.calc = calc
    atoms.get_potential_energy()
    extras = ase_patch.extras_json(calc)
    calc.server.protocol.end()
    calc.close()
    code = chorus.wait_exit(10)
    check(code == 0, "chorus serve exits 0 after EXIT", 0, code)
    return extras


def serve_dipole_log(args, workspace, energy_model, dipole_model, trajectory, log_path):
    """Every structure of `trajectory` through one chorus serve with a committee log; their extras."""
    name = unique_name("dipolelog")
    workspace.track_socket(unix_socket_path(name))
    calc = SocketIOCalculator(unixsocket=name, timeout=30)
    atexit.register(calc.close)
    control = workspace.file("dipolelog.ctl")
    chorus = Chorus(args.chorus, ["--model", energy_model, "--dipole-model", dipole_model, "--connect",
                                  f"unix:{name}", "--species", "O,H,H", "--extras", "energies",
                                  "--committee-log", log_path, "--temperature", "300", "--control", control],
                    workspace, label="serve-log")
    extras = []
    for atoms in trajectory:
        atoms = atoms.copy()
        atoms.calc = calc
        atoms.get_potential_energy()
        extras.append(ase_patch.extras_json(calc))
    # The live `reweight` while chorus still runs (every record is in the store once answered).
    live = json.loads(run([args.chorus, "query", control, "reweight", "--json"]))
    calc.server.protocol.end()
    calc.close()
    code = chorus.wait_exit(10)
    check(code == 0, "chorus serve --committee-log exits 0 after EXIT", 0, code)
    return extras, live


def check_dipole_log(args, workspace, energy_model, dipole_model, atoms):
    rng = np.random.default_rng(11)
    trajectory = []
    for _ in range(24):
        moved = atoms.copy()
        moved.positions += rng.normal(scale=0.05, size=moved.positions.shape)
        trajectory.append(moved)
    log_path = workspace.file("committee.log")
    extras, live = serve_dipole_log(args, workspace, energy_model, dipole_model, trajectory, log_path)
    with open(log_path) as stream:
        lines = stream.read().splitlines()
    header = [line for line in lines if line.startswith("#")]
    check("# dipole_members: 4" in header, "the log header says the dipole committee size", "# dipole_members: 4",
          header)
    columns = next(line for line in header if line.startswith("# columns:")).split()[2:]
    check(columns[-15:-12] == ["dipole_mean_x", "dipole_mean_y", "dipole_mean_z"] and columns[-1] == "dipole_4_z",
          "the columns line names the dipole columns", "… dipole_mean_x … dipole_4_z", columns[-15:])
    records = [line.split() for line in lines if not line.startswith("#")]
    check(len(records) == len(trajectory) and all(len(r) == len(columns) for r in records),
          "one record per structure, one field per named column", len(trajectory), len(records))
    logged = np.array([[float(v) for v in r[-15:]] for r in records])
    served = np.array([e["chorus_dipole"] for e in extras]) * BOHR_IN_ANGSTROM
    check_close(logged[:, :3], served, 1e-12, "logged mean dipole (e·Å) = served extras (e·Bohr) converted")
    check_close(logged[:, 3:].reshape(-1, 4, 3).mean(axis=1), logged[:, :3], 1e-12,
                "logged member dipoles average to the logged mean")

    result = json.loads(run([args.chorus, "reweight", "--committee-log", log_path, "--json", "-"]))
    names = result["observable_names"]
    check(len(names) == 5 and [n.split()[0] for n in names[1:]] == ["mu_x", "mu_y", "mu_z", "mu2"],
          "reweight offers mu_x, mu_y, mu_z, mu2 after the potential energy", "mu_x … mu2", names)
    expected = np.column_stack([logged[:, :3], (logged[:, :3] ** 2).sum(axis=1)]).mean(axis=0)
    sampled = np.array([o["sampled_average"] for o in result["observables"][1:]])
    check_close(sampled, expected, 1e-12, "sampled averages of the dipole scalars = plain means of the log")
    live_observables = {o["name"]: o for o in live["groups"][0]["observables"]}
    for k, name in enumerate(["mu_x", "mu_y", "mu_z", "mu2"]):
        check(name in live_observables, f"the live reweight reports {name}", name, sorted(live_observables))
        got = [live_observables[name][key] for key in ("sampled_average", "committee_spread")]
        offline = [result["observables"][1 + k][key] for key in ("sampled_average", "committee_spread")]
        check(got == offline, f"live {name} = offline, the same doubles", offline, got)
    multi = json.loads(run([args.chorus, "reweight", "--committee-log", log_path, "--multi-obs", "--json", "-"]))
    committees = multi["observable_committees"]
    check([c["name"] for c in committees] == ["mu_x", "mu_y", "mu_z", "mu2"] and all(c["models"] == 4
                                                                                      for c in committees),
          "--multi-obs: one decomposition per dipole scalar over the 4 dipole members", "mu_x … mu2",
          committees)
    members = logged[:, 3:].reshape(-1, 4, 3)
    check_close(committees[0]["sigma_a"], np.std(members[:, :, 0].mean(axis=0), ddof=1), 1e-9,
                "σ_a of mu_x = spread of the dipole members' plain averages")
    check(all(np.isfinite(c["sigma_av"]) and c["total"] >= c["sigma_a"] * 0.5 for c in committees),
          "finite σ_aV and totals")
    return committees[3]


def served_dipole_after_reload(args, workspace, energy_model, dipole_model, atoms, config, data):
    """G: `reload` with --dipole-model; returns the served dipoles (e·Bohr) before and after."""
    reloadable = workspace.file("reloadable-dipole.json")
    shutil.copyfile(dipole_model, reloadable)
    other = workspace.file("dipole-seed3.json")
    run([args.chorus, "train", "--target", "dipole", "--data", data, "--config", config, "--out", other, "--seed", "3",
         "--threads", "1"])
    with open(config) as stream:
        five_members = json.load(stream)
    five_members["committee"]["members"] = 5
    five = workspace.file("dipole-5.json")
    run([args.chorus, "train", "--target", "dipole", "--data", data, "--config",
         workspace.write_json("dipole-5-config.json", five_members), "--out", five, "--threads", "1"])
    single = workspace.file("reload-frame.xyz")
    from ase.io import write
    write(single, atoms, format="extxyz")
    expected = {}
    for label, path in (("before", dipole_model), ("after", other)):
        run([args.chorus, "eval", "--model", path, "--json", workspace.file(f"eval-{label}.json"), single])
        with open(workspace.file(f"eval-{label}.json")) as stream:
            expected[label] = np.array(json.load(stream)["frames"][0]["dipole"])
    check(np.abs(expected["before"] - expected["after"]).max() > 1e-4, "the two dipole models differ", "> 1e-4",
          expected["before"] - expected["after"])

    name = unique_name("dipolereload")
    workspace.track_socket(unix_socket_path(name))
    calc = SocketIOCalculator(unixsocket=name, timeout=30)
    atexit.register(calc.close)
    control = workspace.file("dipolereload.ctl")
    log_path = workspace.file("reload-committee.log")
    chorus = Chorus(args.chorus, ["--model", energy_model, "--dipole-model", reloadable, "--connect", f"unix:{name}",
                                  "--species", "O,H,H", "--extras", "energies", "--committee-log", log_path,
                                  "--temperature", "300", "--control", control], workspace, label="serve-reload")
    atoms = atoms.copy()

    def served():
        calc.calculate(atoms, system_changes=["positions"])  # not get_potential_energy: ASE would use its cache
        return np.array(ase_patch.extras_json(calc)["chorus_dipole"]) * BOHR_IN_ANGSTROM

    def reload():
        result = subprocess.run([args.chorus, "query", control, "reload", "--json"], capture_output=True, text=True,
                                timeout=60)
        return result.returncode, json.loads(result.stdout) if result.stdout.strip() else None

    before = served()
    check_close(before, expected["before"], RTOL_CODATA, "served dipole before the reload = eval of the model")
    with open(reloadable, "w") as stream:
        stream.write(open(other).read()[:-40])
    code, response = reload()
    check(code == 1 and "reloadable-dipole.json" in response["error"], "reload of a corrupted dipole file refused",
          "exit 1, error names the file", (code, response))
    check(np.array_equal(served(), before), "dipole unchanged after a refused reload")
    shutil.copyfile(five, reloadable)
    code, response = reload()
    check(code == 1 and "dipole model has 5 committee members" in response["error"],
          "reload of a dipole model with 5 instead of 4 members refused", "error about members", (code, response))
    check(np.array_equal(served(), before), "dipole unchanged after a refused reload")
    shutil.copyfile(other, reloadable)
    code, response = reload()
    check(code == 0 and response["ok"] and response["reloads"] == 1 and "dipole_model" in response,
          "reload of a valid dipole model", "ok, reloads 1, dipole_model", (code, response))
    after = served()
    check_close(after, expected["after"], RTOL_CODATA, "served dipole after the reload = eval of the new model")
    calc.server.protocol.end()
    calc.close()
    check(chorus.wait_exit(10) == 0, "chorus exits 0 after EXIT", 0, chorus.process.returncode)
    log = chorus.log()
    reloaded = [line for line in log.splitlines() if "model reloaded:" in line]
    check(len(reloaded) == 1 and "dipole model reloaded:" in reloaded[0], "one log line names both reloads",
          "1 line", reloaded)
    check(log.count("model reload refused") == 2, "one log line per refused reload", 2,
          log.count("model reload refused"))
    with open(other, "rb") as stream:
        digest = hashlib.sha256(stream.read()).hexdigest()
    with open(log_path) as stream:
        markers = [line for line in stream.read().splitlines() if line.startswith("# reload:")]
    check(len(markers) == 1 and f"dipole model sha256 {digest}" in markers[0],
          "the committee log's reload line names the new dipole file", digest, markers)
    return before, after


def main():
    args = parse_arguments(__doc__)
    args.chorus = os.path.abspath(args.chorus)
    ase_patch.apply()
    workspace = Workspace("dipole")
    data = os.path.join(args.repo_root, "tests", "data", "dipole", "water-clusters-gfn2-every6.xyz")
    energy_model = os.path.join(args.repo_root, "models", "pretrained", "water-committee.json")
    config = workspace.write_json("dipole.json", {
        "features": {"cutoff": 4.0, "lambda_soap": {"n_max": 4, "l_max": 2, "lambdas": [1]}},
        "committee": {"members": 4},
        "split": {"group_key": "temperature"},
        "regulariser": {"smallest": 1e-8, "largest": 1.0, "points": 9}})

    # A. train.
    model_path = workspace.file("dipole-model.json")
    stdout = run([args.chorus, "train", "--target", "dipole", "--data", data, "--config", config, "--out", model_path,
                  "--seed", "2", "--threads", "1"])
    check("RMSE (% of component std)" in stdout and "components within ±2σ (%)" in stdout,
          "train --target dipole prints the dipole table", "table", stdout[-2000:])
    with open(model_path) as stream:
        model = json.load(stream)
    check(model["kind"] == "linear-dipole-committee" and len(model["members"]) == 4,
          "a 4-member dipole committee", "linear-dipole-committee, 4", (model["kind"], len(model["members"])))
    recorded = model["training"]["data"][0]
    check(sorted(recorded["train"] + recorded["validation"] + recorded["test"]) == list(range(recorded["frames"])),
          "the recorded split covers every frame once")
    print(f"ok A: dipole committee trained on {len(recorded['train'])} frames")

    # B. eval on the recorded test frames, with plots.
    report_path = workspace.file("eval.json")
    plots = workspace.file("plots")
    stdout = run([args.chorus, "eval", "--model", model_path, "--subset", "test", "--json", report_path, "--plot",
                  plots, data])
    with open(report_path) as stream:
        report = json.load(stream)
    check([f["index"] for f in report["frames"]] == recorded["test"], "eval --subset test evaluates the test frames",
          recorded["test"], [f["index"] for f in report["frames"]])
    summary = report["summary"]
    check(np.isfinite(summary["component_rmse_e_angstrom"]) and summary["frames"] == len(recorded["test"]),
          "finite dipole errors on every test frame", "finite", summary["component_rmse_e_angstrom"])
    for png in ("parity_dipole.png", "parity_dipole_norm.png", "calibration_dipole.png"):
        check(os.path.getsize(os.path.join(plots, png)) > 1000, f"eval --plot writes {png}")
    print(f"ok B: eval --subset test: component RMSE {summary['component_rmse_e_angstrom']:.4f} e·Å "
          f"(reference std {summary['component_reference_std_e_angstrom']:.4f})")

    # C. serve one cluster (frame 30: a trimer) beside the shipped water committee.
    frame = 30
    atoms = read(data, index=frame)
    single = workspace.file("frame.xyz")
    from ase.io import write
    write(single, atoms, format="extxyz")
    eval_path = workspace.file("eval-frame.json")
    run([args.chorus, "eval", "--model", model_path, "--json", eval_path, single])
    with open(eval_path) as stream:
        evaluated = json.load(stream)["frames"][0]
    extras = serve_dipole(args, workspace, energy_model, model_path, atoms)
    for key in ("chorus_dipole", "chorus_dipole_members", "chorus_dipole_uncertainty", "chorus_dipole_alpha",
                "committee_pot"):
        check(key in extras, f"extras hold {key}", key, sorted(extras))
    dipole_e_bohr = np.array(extras["chorus_dipole"])
    check_close(dipole_e_bohr * BOHR_IN_ANGSTROM, np.array(evaluated["dipole"]), RTOL_CODATA,
                "served dipole (e·Bohr) = chorus eval's (e·Å) converted")
    members = np.array(extras["chorus_dipole_members"])
    check(members.shape == (4, 3), "one dipole per member", (4, 3), members.shape)
    check_close(members.mean(axis=0), dipole_e_bohr, 1e-12, "mean of the member dipoles = chorus_dipole")
    check_close(members.std(axis=0, ddof=1), np.array(extras["chorus_dipole_uncertainty"]), 1e-10,
                "chorus_dipole_uncertainty = ddof-1 spread of the members")
    check_close(members * BOHR_IN_ANGSTROM, np.array(evaluated["dipole_members"]), RTOL_CODATA,
                "served member dipoles = chorus eval's")

    rotation, _ = np.linalg.qr(np.random.default_rng(3).normal(size=(3, 3)))
    if np.linalg.det(rotation) < 0:
        rotation[:, 0] *= -1
    rotated = atoms.copy()
    rotated.positions = atoms.positions @ rotation.T + np.array([1.0, -2.0, 0.5])
    rotated_extras = serve_dipole(args, workspace, energy_model, model_path, rotated)
    check_close(np.array(rotated_extras["chorus_dipole"]), rotation @ dipole_e_bohr, RTOL_CODATA,
                "the rotated cluster's served dipole is the rotated dipole")
    print(f"ok C: served dipole {dipole_e_bohr} e·Bohr matches eval, members and σ consistent, rotates")

    # E. per-member dipole scalars in the layout of `chorus reweight --multi-obs`: |μ_k|² of every member,
    # one row per frame; with identical member potentials (ΔV = 0) the committee spread σ_a of the
    # average is the ddof-1 spread of the members' column means, and σ_aV vanishes.
    observables = workspace.file("mu2.dat")
    run([args.chorus, "eval", "--model", model_path, "--dipole-observable", "norm2", "--observables-out", observables,
         data])
    table = np.loadtxt(observables)
    check(table.shape == (recorded["frames"], 4), "one row per frame, one column per member",
          (recorded["frames"], 4), table.shape)
    run([args.chorus, "eval", "--model", model_path, "--json", workspace.file("eval-all.json"), data])
    with open(workspace.file("eval-all.json")) as stream:
        first = np.array(json.load(stream)["frames"][0]["dipole_members"])
    check_close(table[0], (first ** 2).sum(axis=1), 1e-9, "row 0 = |μ_k|² of frame 0's members")
    potentials = workspace.file("pot.dat")
    np.savetxt(potentials, np.zeros((table.shape[0], 3)))
    reweighted = workspace.file("reweight.json")
    run([args.chorus, "reweight", potentials, observables, "--kt", "0.00095", "--multi-obs", "--json", reweighted])
    with open(reweighted) as stream:
        committee = json.load(stream)["observable_committee"]
    check_close(committee["mean"], table.mean(), 1e-12, "reweighted ⟨|μ|²⟩ = plain mean at ΔV = 0")
    check_close(committee["sigma_a"], np.std(table.mean(axis=0), ddof=1), 1e-10,
                "σ_a = spread of the dipole members' averages")
    check(committee["sigma_av"] == 0.0, "σ_aV = 0 without potential spread", 0.0, committee["sigma_av"])
    print(f"ok E: reweight --multi-obs of |μ|²: {committee['mean']:.4f} ± {committee['sigma_a']:.4f} (e·Å)²")

    # F. a committee log with dipoles, read by chorus reweight.
    mu2 = check_dipole_log(args, workspace, energy_model, model_path, atoms)
    print(f"ok F: committee log with dipoles: reweight of |μ|² {mu2['mean']:.4f}, σ_a {mu2['sigma_a']:.2e}, "
          f"σ_aV {mu2['sigma_av']:.2e} (e·Å)²")

    # G. reload of the dipole model.
    before, after = served_dipole_after_reload(args, workspace, energy_model, model_path, atoms, config, data)
    print(f"ok G: reload swapped the dipole model: {before} -> {after} e·Å on the same connection")

    # D. the acceptance numbers on the full data set.
    full_data = os.path.normpath(os.path.join(args.repo_root, FULL_DATA_NAME))
    if not os.path.exists(full_data):
        print(f"skip D: {full_data} not present")
        return
    full_model = workspace.file("dipole-full.json")
    full_config = workspace.write_json("dipole-full-config.json", {"split": {"group_key": "temperature"}})
    run([args.chorus, "train", "--target", "dipole", "--data", full_data, "--config", full_config, "--out",
         full_model])
    with open(full_model) as stream:
        errors = json.load(stream)["training"]["errors"]
    test = errors["test"]
    ratio = test["component_rmse_e_angstrom"] / test["component_reference_std_e_angstrom"]
    check(ratio <= 0.10, "test dipole RMSE ≤ 10 % of the component std", "≤ 0.10", ratio)
    count = sum(errors[s]["component_calibration"]["count"] for s in ("validation", "test"))
    one = sum(errors[s]["component_calibration"]["within_one_sigma"] * errors[s]["component_calibration"]["count"]
              for s in ("validation", "test")) / count
    two = sum(errors[s]["component_calibration"]["within_two_sigma"] * errors[s]["component_calibration"]["count"]
              for s in ("validation", "test")) / count
    check(0.60 <= one <= 0.76, "components within ±σ in [60, 76] %", "[0.60, 0.76]", one)
    check(0.90 <= two <= 0.98, "components within ±2σ in [90, 98] %", "[0.90, 0.98]", two)
    print(f"ok D: full data: test RMSE {100 * ratio:.2f} % of the component std; ±σ {100 * one:.1f} %, "
          f"±2σ {100 * two:.1f} % (validation + test)")


if __name__ == "__main__":
    run_test(main)
