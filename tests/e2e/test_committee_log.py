#!/usr/bin/python3
"""`chorus serve --committee-log`: the log against the answers chorus sent and ASE's own LJ
(per-member and per-atom energies), the at-most-one-second loss on SIGKILL, flush on SIGTERM,
append after a restart, a full disk (/dev/full) that must not stop force answers, and
`chorus reweight --committee-log` against numbers computed here with numpy.

Beads are tracked (--track-beads) and the test server cycles INIT ids 0..P-1, as i-PI does for P
beads on one connection.
"""
import json
import os
import subprocess
import time

import numpy as np

from e2e_common import (ARGON_EPSILON, ARGON_SIGMA, Chorus, Workspace, check, check_close, parse_arguments,
                        run_test, unique_name, unix_socket_path)
from ipi_test_server import HARTREE_IN_EV, ConnectionPlan, IpiTestServer, argon_cluster

BOLTZMANN_EV_PER_K = 8.617333262e-5  # CODATA 2018, as chorus
CUTOFF = 8.0
MEMBERS = [(ARGON_EPSILON * f, ARGON_SIGMA * g) for f, g in [(1.0, 1.0), (1.08, 0.99), (0.93, 1.01), (1.03, 1.02)]]
BEADS = 3
TEMPERATURE = 94.0


def ase_member_energies(structure):
    """Per member: total energy and per-atom energies from ASE's LennardJones (eV)."""
    from ase import Atoms
    from ase.calculators.lj import LennardJones
    totals, per_atom = [], []
    for epsilon, sigma in MEMBERS:
        atoms = Atoms(f"Ar{structure.atoms}", positions=structure.positions)
        atoms.calc = LennardJones(epsilon=epsilon, sigma=sigma, rc=CUTOFF)
        totals.append(atoms.get_potential_energy())
        per_atom.append(atoms.get_potential_energies())
    return np.array(totals), np.array(per_atom).T  # M, N×M


def read_log(path):
    """Header blocks as (header dict, records); a record is the list of its fields."""
    blocks = []
    with open(path) as source:
        for line in source:
            line = line.rstrip("\n")
            if line.startswith("# chorus-committee-log "):
                blocks.append(({"version": line.split()[2]}, []))
            elif line.startswith("# "):
                key, _, value = line[2:].partition(": ")
                blocks[-1][0][key] = value
            elif line.strip():
                blocks[-1][1].append(line.split())
    return blocks


def check_records(records, answers, structures, beads, what):
    check(len(records) == len(answers), f"{what}: one record per answered request", len(answers), len(records))
    for index, (fields, answer, structure, bead) in enumerate(zip(records, answers, structures, beads)):
        where = f"{what} record {index}"
        check(len(fields) == 6 + len(MEMBERS) + 2, f"{where}: column count", 6 + len(MEMBERS) + 2, len(fields))
        check(fields[0].endswith("Z") and "T" in fields[0] and len(fields[0]) == 24, f"{where}: ISO-8601 UTC ms",
              "YYYY-MM-DDTHH:MM:SS.mmmZ", fields[0])
        check(fields[1].startswith("unix:") and fields[1].endswith("#0"), f"{where}: connection label",
              "unix:...#0", fields[1])
        check(int(fields[2]) == bead, f"{where}: bead id", bead, fields[2])
        check(int(fields[3]) == index, f"{where}: counter", index, fields[3])
        check(int(fields[4]) == structure.atoms, f"{where}: atoms", structure.atoms, fields[4])
        values = np.array([float(v) for v in fields[5:]])
        mean, members, sigma, max_atomic_sigma = values[0], values[1:-2], values[-2], values[-1]
        # The mean logged is the energy answered: identical up to the wire's unit conversion.
        check_close(mean, answer.energy_ev(), 1e-14, f"{where}: mean energy = answered energy")
        committee_pot = np.array(answer.extras_json()["committee_pot"]) * HARTREE_IN_EV
        check_close(members, committee_pot, 1e-14, f"{where}: member energies = extras committee_pot")
        totals, per_atom = ase_member_energies(structure)
        check_close(members, totals, 1e-9, f"{where}: member energies = ASE LJ")
        check_close(sigma, np.std(members, ddof=1), 1e-12, f"{where}: sigma_energy (ddof 1)")
        check_close(max_atomic_sigma, np.max(np.std(per_atom, axis=1, ddof=1)), 1e-9,
                    f"{where}: largest per-atom sigma = ASE per-atom energies")


def plan_for(structures, beads, **options):
    return ConnectionPlan(steps=[[s] for s in structures], replica_ids=beads, **options)


def serve(args, workspace, model, log, name, extra=()):
    workspace.track_socket(unix_socket_path(name))
    return Chorus(args.chorus, ["--model", model, "--connect", f"unix:{name}", "--track-beads",
                                "--committee-log", log, *extra], workspace, label="serve")


def kill_after_idle(args, workspace, model, log):
    """Answers, > 1 s idle, SIGKILL: every answered record must be in the file."""
    structures = [argon_cluster(13, seed) for seed in range(5 * BEADS)]
    beads = [k % BEADS for k in range(len(structures))]
    name = unique_name("commlog_kill")
    with IpiTestServer(f"unix:{name}", lambda index: plan_for(structures, beads, keep_open=True)) as server:
        chorus = serve(args, workspace, model, log, name, ["--temperature", str(TEMPERATURE)])
        check(server.wait_for(lambda r: r and len(r[0].answers) == len(structures), 30), "all requests answered",
              len(structures), len(server.records[0].answers) if server.records else 0)
        time.sleep(1.3)
        chorus.process.kill()
        chorus.process.wait(10)
        answers = [a for (a,) in server.records[0].answers]
    blocks = read_log(log)
    check(len(blocks) == 1, "one header block", 1, len(blocks))
    header, records = blocks[0]
    check(header["version"] == "1" and header["members"] == str(len(MEMBERS)), "header: version 1, members",
          ("1", len(MEMBERS)), (header["version"], header.get("members")))
    check(float(header["temperature_K"]) == TEMPERATURE, "header: temperature_K", TEMPERATURE,
          header.get("temperature_K"))
    check("lennard-jones-committee" in header["model"], "header: model description", "lennard-jones-committee",
          header["model"])
    check(header["units"].startswith("energies eV"), "header: units eV", "energies eV ...", header["units"])
    check(header["columns"].split()[-2:] == ["sigma_energy", "max_atomic_sigma"], "header: column legend",
          "... sigma_energy max_atomic_sigma", header["columns"])
    check_records(records, answers, structures, beads, "after SIGKILL")
    print(f"ok: SIGKILL after 1.3 s idle: all {len(records)} answered records are in the log, equal to the answers "
          "and to ASE's per-member and per-atom LJ energies")
    return structures, beads


def restart_and_terminate(args, workspace, model, log):
    """A second run appends a header block; SIGTERM right after the answers flushes everything."""
    with open(log, "rb") as source:
        before = source.read()
    structures = [argon_cluster(13, 100 + seed) for seed in range(2 * BEADS)]
    beads = [k % BEADS for k in range(len(structures))]
    name = unique_name("commlog_term")
    with IpiTestServer(f"unix:{name}", lambda index: plan_for(structures, beads, keep_open=True)) as server:
        chorus = serve(args, workspace, model, log, name, ["--temperature", str(TEMPERATURE)])
        check(server.wait_for(lambda r: r and len(r[0].answers) == len(structures), 30), "all requests answered",
              len(structures), len(server.records[0].answers) if server.records else 0)
        code = chorus.terminate(10)  # at once: no idle second for the periodic flush
        answers = [a for (a,) in server.records[0].answers]
    check(code == 0, "chorus exits 0 after SIGTERM", 0, code)
    with open(log, "rb") as source:
        after = source.read()
    check(after.startswith(before), "the restart appended: the first run's bytes are unchanged", True, False)
    blocks = read_log(log)
    check(len(blocks) == 2, "a second header block after the restart", 2, len(blocks))
    check_records(blocks[1][1], answers, structures, beads, "after SIGTERM")
    check("6 records written" in chorus.log(), "chorus reports what it wrote", "6 records written", chorus.log())
    print("ok: restart appends a new header block (old bytes untouched); SIGTERM flushes all 6 records, exit 0")


def full_disk(args, workspace, model):
    """/dev/full: every write fails; forces are still answered, one error line, drops counted."""
    structures = [argon_cluster(13, 200 + seed) for seed in range(4)]
    name = unique_name("commlog_full")
    with IpiTestServer(f"unix:{name}", lambda index: plan_for(structures, [0], keep_open=True)) as server:
        chorus = serve(args, workspace, model, "/dev/full", name)
        check(server.wait_for(lambda r: r and len(r[0].answers) == len(structures), 30),
              "forces answered although the log cannot be written", len(structures),
              len(server.records[0].answers) if server.records else 0)
        time.sleep(0.6)  # several flush attempts
        code = chorus.terminate(10)
    log = chorus.log()
    check(code == 0, "exit 0 after SIGTERM with a failing log", 0, code)
    failures = [line for line in log.splitlines() if "write failed" in line]
    check(len(failures) == 1, "exactly one (rate-limited) write-failure line", 1, failures)
    check("No space left on device" in failures[0], "the error says why", "No space left on device", failures[0])
    check(f"{len(structures)} dropped" in log, "the dropped records are counted at the end",
          f"{len(structures)} dropped", log)
    print(f"ok: /dev/full: {len(structures)} forces answered, one error line, '{len(structures)} dropped' at exit")


def reweight_checks(args, workspace, log):
    """chorus reweight --committee-log against numpy on the log's own numbers."""
    blocks = read_log(log)
    steps = []
    for _, records in blocks:
        values = np.array([[float(v) for v in fields[6:6 + len(MEMBERS)]] for fields in records])
        beads = [int(fields[2]) for fields in records]
        check(beads == [k % BEADS for k in range(len(beads))], "records in bead order", None, beads)
        steps.append(values.reshape(-1, BEADS, len(MEMBERS)).mean(axis=1))  # bead average per step
    potentials = np.vstack(steps)
    beta = 1.0 / (BOLTZMANN_EV_PER_K * TEMPERATURE)
    observable = potentials.mean(axis=1)
    deviations = potentials - observable[:, None]
    cea = observable.mean() - beta * (np.mean(observable[:, None] * deviations, axis=0)
                                      - observable.mean() * deviations.mean(axis=0))
    weights = np.exp(-beta * (deviations - deviations.min(axis=0)))
    exact = (weights * observable[:, None]).sum(axis=0) / weights.sum(axis=0)

    def run(*options):
        result = subprocess.run([args.chorus, "reweight", "--committee-log", log, "--json", "-", *options],
                                capture_output=True, text=True, timeout=60)
        check(result.returncode == 0, f"chorus reweight {' '.join(options)} exits 0", 0,
              f"{result.returncode}: {result.stderr}")
        return json.loads(result.stdout)

    for options, expected, what in [((), cea, "CEA, kT from the header"),
                                     (("--temperature", str(TEMPERATURE), "--beads", str(BEADS)), cea,
                                      "CEA, --temperature and --beads"),
                                     (("--direct",), exact, "exact")]:
        report = run(*options)
        check(report["frames"] == len(potentials), f"{what}: steps after bead grouping", len(potentials),
              report["frames"])
        got = report["observables"][0]["member_averages"]
        check_close(got, expected, 1e-10, f"{what}: <V>_i per member")
        check_close(report["observables"][0]["sampled_average"], observable.mean(), 1e-12, f"{what}: <V>")
    print(f"ok: chorus reweight --committee-log: {len(potentials)} bead-averaged steps, CEA and exact member "
          "averages equal numpy's to 1e-10")

    plot = os.path.join(workspace.path, "running.png")
    result = subprocess.run([args.chorus, "reweight", "--committee-log", log, "--plot", plot], capture_output=True,
                            text=True, timeout=60)
    check(result.returncode == 0, "--plot exits 0", 0, f"{result.returncode}: {result.stderr}")
    with open(plot, "rb") as image:
        check(image.read(8) == b"\x89PNG\r\n\x1a\n", "--plot wrote a PNG", "PNG signature", "something else")
    print("ok: --plot running.png written by gnuplot")


def main():
    args = parse_arguments(__doc__)
    workspace = Workspace("committee_log")
    model = workspace.lj_committee_model(MEMBERS, CUTOFF)
    log = workspace.file("committee.log")
    kill_after_idle(args, workspace, model, log)
    restart_and_terminate(args, workspace, model, log)
    full_disk(args, workspace, model)
    reweight_checks(args, workspace, log)


if __name__ == "__main__":
    run_test(main)
