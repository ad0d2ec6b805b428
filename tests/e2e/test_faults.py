#!/usr/bin/python3
"""Faults on some connections must not disturb the others.

chorus serves 8 concurrent connections (`--clients 8`) to ipi_test_server.py. The first six
connections accepted each get one injected fault at step 1 (after one correct answer), one of
every kind in ipi_test_server.FAULT_KINDS; every other connection — the two remaining initial ones
and chorus's reconnections of the faulted slots — runs 6 correct steps and then waits for EXIT.

Checked:
  - for each fault, chorus logs a line that names it (e.g. "protocol error" and the bad value),
    and closes that connection without answering;
  - chorus keeps running and reconnects every faulted slot (6 more connections are accepted);
  - all answers on the other connections equal ASE's LJ (CODATA 2018 on both sides: 1e-9);
  - after EXIT on all 8 live connections chorus exits 0.
"""
import re
import threading

from e2e_common import (ARGON_EPSILON, ARGON_SIGMA, Chorus, Workspace, check, check_answer, parse_arguments,
                        run_test, unique_name, unix_socket_path)
from ipi_test_server import (ABSURD_ATOM_COUNT, FAULT_KINDS, GARBAGE_HEADER, ConnectionPlan, Fault,
                             IpiTestServer, argon_cluster)

CLIENTS = 8
ATOMS = 13
STEPS = 6
CUTOFF = 7.5

# What chorus's log must show for each fault: a regular expression matched against single lines.
# Each fault needs a line of its own (two faults may not both be explained by one line).
EXPECTED_LOG = {
    "garbage_header": rf"protocol error.*{re.escape(GARBAGE_HEADER.decode())}",
    "absurd_atom_count": rf"protocol error.*{ABSURD_ATOM_COUNT}",
    "atom_count_change": rf"protocol error.*({ATOMS + 1}\D.*\D{ATOMS}\D|\D{ATOMS}\D.*\D{ATOMS + 1}\D)",
    "nan_positions": r"(?i)error.*(\bnan\b|not finite|non-finite)",
    # The server hangs up in the middle of a message: chorus must say that the peer closed.
    "truncated_posdata": r"(?i)^(?!.*protocol error).*(disconnected|end of file|\beof\b|reset by|closed by)",
    "close_mid_message": r"(?i)^(?!.*protocol error).*(disconnected|end of file|\beof\b|reset by|closed by)",
}


def main():
    args = parse_arguments(__doc__.split("\n\n")[0])
    workspace = Workspace("faults")
    model = workspace.lj_model(ARGON_EPSILON, ARGON_SIGMA, CUTOFF)
    name = unique_name("faults")
    workspace.track_socket(unix_socket_path(name))
    release = threading.Event()

    def plan_for(index):
        seed = 1000 * (index + 1)
        steps = [[argon_cluster(ATOMS, seed + k)] for k in range(STEPS)]
        if index < len(FAULT_KINDS):
            return ConnectionPlan(steps=steps[:3], fault=Fault(FAULT_KINDS[index], step=1))
        return ConnectionPlan(steps=steps, hold_before_exit=release, order="ipi" if index % 2 else "ase")

    faulted = len(FAULT_KINDS)

    def normal_done(records):
        return [r for r in records if r.plan.fault is None and len(r.answers) == STEPS]

    with IpiTestServer(f"unix:{name}", plan_for, timeout=20) as server:
        chorus = Chorus(args.chorus, ["--model", model, "--connect", f"unix:{name}", "--clients", str(CLIENTS)],
                        workspace, label="faults")
        settled = server.wait_for(lambda records: len(normal_done(records)) == CLIENTS
                                  and all(r.finished for r in records[:faulted]), timeout=40)
        records = list(server.records)
        check(settled, f"{faulted} faulted connections ended and {CLIENTS} healthy ones answered {STEPS} steps",
              f"{faulted} faults, {CLIENTS} healthy", f"{len(records)} connections: "
              + "; ".join(f"#{r.index} answers={len(r.answers)} error={r.error} fault={r.fault_outcome}"
                          for r in records))
        check(chorus.running(), "chorus is still running after all faults", "running",
              f"exited with {chorus.process.returncode}")
        check(len(records) == faulted + CLIENTS,
              "every faulted slot was reconnected (and nothing else)", faulted + CLIENTS, len(records))

        log_lines = chorus.log().splitlines()
        explained = set()
        for record in records[:faulted]:
            kind = record.plan.fault.kind
            check(record.error is None, f"fault {kind}: the conversation up to the fault was clean", None, record.error)
            check(len(record.answers) == 1, f"fault {kind}: one correct answer before the fault", 1, len(record.answers))
            check_answer(record.answers[0][0], record.plan.steps[0][0], ARGON_EPSILON, ARGON_SIGMA, CUTOFF,
                         f"fault {kind}, step 0")
            if record.fault_outcome != "server closed":
                check(record.fault_outcome in ("closed by client", "reset by client"),
                      f"fault {kind}: chorus closes the connection without answering",
                      "closed by client", record.fault_outcome)
            pattern = re.compile(EXPECTED_LOG[kind])
            matching = [i for i, line in enumerate(log_lines) if i not in explained and pattern.search(line)]
            check(matching, f"fault {kind}: chorus logs a line of its own matching /{pattern.pattern}/",
                  pattern.pattern, "no such line in:\n" + "\n".join(log_lines))
            explained.add(matching[0])
            print(f"ok fault {kind}: {record.fault_outcome}; logged: {log_lines[matching[0]].strip()}")

        protocol_lines = [line for line in log_lines if "protocol error" in line]
        check(all(name in line for line in protocol_lines), "every 'protocol error' line names the address",
              f"a line containing {name}", "\n".join(protocol_lines))

        healthy = normal_done(records)
        for record in healthy:
            check(record.error is None, f"connection #{record.index}: no error", None, record.error)
            for k, (answer,) in enumerate(record.answers):
                check_answer(answer, record.plan.steps[k][0], ARGON_EPSILON, ARGON_SIGMA, CUTOFF,
                             f"connection #{record.index} ({record.plan.order} order) step {k}")
        print(f"ok: {len(healthy)} healthy connections ({sum(r.index >= CLIENTS for r in healthy)} of them "
              f"reconnections of faulted slots), {STEPS} steps each equal ASE LJ")

        release.set()
        finished = server.wait_for(lambda records: all(r.finished for r in records), timeout=20)
        check(finished and all(r.exit_closed for r in healthy), "chorus closes every connection after EXIT",
              "all closed", [(r.index, r.exit_closed) for r in healthy])
        code = chorus.wait_exit(10)
    check(code == 0, "chorus exits 0 once every connection ended by EXIT", 0, code)
    print(f"ok: all {CLIENTS} connections ended by EXIT, chorus exited 0")


if __name__ == "__main__":
    run_test(main)
