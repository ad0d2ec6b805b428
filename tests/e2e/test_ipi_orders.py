#!/usr/bin/python3
"""The conversation variants i-PI itself uses, played by ipi_test_server.py against chorus with a
committee model on periodic argon boxes (cell narrower than 2·cutoff, so periodic images count):

  1. --track-beads, i-PI order: chorus answers NEEDINIT after every FORCEREADY, gets an INIT with
     the bead of each request, and reports it as chorus_bead (replica ids 5, 2, 7, 0).
  2. batched (INIT with batch_size:3): one POSDATA carries three structures, one FORCEREADY
     answers all three, each with its own extras.
  3. two --connect addresses at once (UNIX in i-PI order, TCP in ASE order).

Every answer is compared with ASE's LJ per committee member (CODATA 2018 on both sides: 1e-9).
"""
import numpy as np

from e2e_common import (Chorus, Workspace, check, check_close, free_tcp_port, lj_reference, parse_arguments,
                        run_test, unique_name, unix_socket_path)
from ipi_test_server import HARTREE_IN_EV, ConnectionPlan, IpiTestServer, Structure

CUTOFF = 7.5
MEMBERS = [(0.0104, 3.40), (0.0099, 3.37), (0.0108, 3.44)]
RTOL = 1e-9


def argon_box(seed):
    """27 atoms in a 10.8 Å cubic box, jittered, some outside the cell."""
    rng = np.random.default_rng(seed)
    length = 10.8
    grid = np.array([(i, j, k) for i in range(3) for j in range(3) for k in range(3)], dtype=float)
    positions = grid * length / 3 + rng.normal(scale=0.12, size=grid.shape)
    positions[::4] -= length
    return Structure(np.eye(3) * length, positions)


def check_committee_answer(answer, structure, what, bead=None):
    references = [lj_reference(structure, e, s, CUTOFF) for e, s in MEMBERS]
    mean_energy = np.mean([r[0] for r in references])
    check_close(answer.energy_ev(), mean_energy, RTOL, f"{what}: energy = committee mean of ASE LJ (eV)")
    check_close(answer.forces_ev_per_angstrom(), np.mean([r[1] for r in references], axis=0), RTOL,
                f"{what}: forces = committee mean (eV/Å)")
    check_close(answer.virial_ev(), np.mean([r[2] for r in references], axis=0), RTOL,
                f"{what}: virial = committee mean (eV)")
    extras = answer.extras_json()
    check(isinstance(extras, dict), f"{what}: extras JSON object", "dict", extras)
    check_close(np.array(extras["committee_pot"]) * HARTREE_IN_EV, [r[0] for r in references], RTOL,
                f"{what}: committee_pot per member (eV)")
    if bead is not None:
        check(extras.get("chorus_bead") == bead, f"{what}: chorus_bead", bead, extras.get("chorus_bead"))


def tracked_beads(args, workspace, model):
    name = unique_name("beads")
    workspace.track_socket(unix_socket_path(name))
    beads = [5, 2, 7, 0]
    plan = ConnectionPlan(steps=[[argon_box(seed)] for seed in range(4)], replica_ids=beads)
    with IpiTestServer(f"unix:{name}", lambda index: plan) as server:
        chorus = Chorus(args.chorus, ["--model", model, "--connect", f"unix:{name}", "--track-beads"], workspace,
                        label="beads")
        check(server.wait_for(lambda r: r and r[0].finished, 20), "--track-beads conversation finished",
              "finished", "timeout")
        record = server.records[0]
        check(record.error is None, "--track-beads: no error", None, record.error)
        check(record.init_sent == beads, "an INIT before every request (NEEDINIT after each FORCEREADY)",
              beads, record.init_sent)
        for step, (answer,) in enumerate(record.answers):
            check_committee_answer(answer, plan.steps[step][0], f"track-beads step {step}", bead=beads[step])
        code = chorus.wait_exit(10)
    check(code == 0, "chorus exits 0 after EXIT", 0, code)
    print(f"ok: --track-beads: INIT before each of 4 requests, chorus_bead = {beads}, answers = ASE LJ committee")


def batched(args, workspace, model):
    name = unique_name("batch")
    workspace.track_socket(unix_socket_path(name))
    plan = ConnectionPlan(steps=[[argon_box(10 + 3 * step + k) for k in range(3)] for step in range(2)],
                          batch_size=3, init_text="seed:1", replica_ids=[4, 4])
    with IpiTestServer(f"unix:{name}", lambda index: plan) as server:
        chorus = Chorus(args.chorus, ["--model", model, "--connect", f"unix:{name}"], workspace, label="batch")
        check(server.wait_for(lambda r: r and r[0].finished, 20), "batched conversation finished", "finished", "timeout")
        record = server.records[0]
        check(record.error is None, "batched: no error", None, record.error)
        for step, answers in enumerate(record.answers):
            check(len(answers) == 3, f"batch {step}: three results", 3, len(answers))
            for k, answer in enumerate(answers):
                check_committee_answer(answer, plan.steps[step][k], f"batch {step} structure {k}")
        code = chorus.wait_exit(10)
    check(code == 0, "chorus exits 0 after EXIT", 0, code)
    print("ok: batched INIT batch_size:3: 2 batches of 3 structures answered, each = ASE LJ committee")


def two_addresses(args, workspace, model):
    name = unique_name("multi")
    workspace.track_socket(unix_socket_path(name))
    port = free_tcp_port()
    unix_plan = ConnectionPlan(steps=[[argon_box(30 + k)] for k in range(3)], order="ipi")
    tcp_plan = ConnectionPlan(steps=[[argon_box(40 + k)] for k in range(3)], order="ase")
    with IpiTestServer(f"unix:{name}", lambda index: unix_plan) as unix_server, \
            IpiTestServer(f"tcp:127.0.0.1:{port}", lambda index: tcp_plan) as tcp_server:
        chorus = Chorus(args.chorus, ["--model", model, "--connect", f"unix:{name}",
                                      "--connect", f"tcp:127.0.0.1:{port}"], workspace, label="multi")
        for label, server in (("unix/i-PI order", unix_server), ("tcp/ASE order", tcp_server)):
            check(server.wait_for(lambda r: r and r[0].finished, 20), f"{label}: conversation finished",
                  "finished", "timeout")
            record = server.records[0]
            check(record.error is None, f"{label}: no error", None, record.error)
            for step, (answer,) in enumerate(record.answers):
                check_committee_answer(answer, record.plan.steps[step][0], f"{label} step {step}")
        code = chorus.wait_exit(10)
    check(code == 0, "chorus exits 0 after EXIT on both addresses", 0, code)
    print("ok: two --connect addresses (unix i-PI order, tcp ASE order) served at once, exit 0")


def main():
    args = parse_arguments(__doc__.split("\n\n")[0])
    workspace = Workspace("ipi_orders")
    model = workspace.lj_committee_model(MEMBERS, CUTOFF)
    tracked_beads(args, workspace, model)
    batched(args, workspace, model)
    two_addresses(args, workspace, model)


if __name__ == "__main__":
    run_test(main)
