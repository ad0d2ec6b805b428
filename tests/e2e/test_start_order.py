#!/usr/bin/python3
"""Start order and restarts, as users meet them with i-PI (which creates its socket 1–2 s after
it starts, and may be killed and restarted on the same address):

  1. chorus started before the server (UNIX, then TCP): it keeps retrying, connects when the
     server appears 1.5 s later, serves correct answers, and exits 0 after EXIT (no --persist).
  2. --persist: the server (ipi_test_server.py as a separate process) is killed with SIGKILL —
     no EXIT, a stale UNIX socket file left behind — and restarted on the same address: chorus
     reconnects and serves again; after EXIT it reconnects once more (daemon); SIGTERM then
     makes it exit 0.
"""
import os
import signal
import subprocess
import sys
import time

from e2e_common import (ARGON_EPSILON, ARGON_SIGMA, Chorus, LineReader, Workspace, check, check_answer,
                        free_tcp_port, parse_arguments, run_test, unique_name, unix_socket_path)
from ipi_test_server import ConnectionPlan, IpiTestServer, argon_cluster

CUTOFF = 7.5
ATOMS = 13
HERE = os.path.dirname(os.path.abspath(__file__))


def plan(steps, seed, **options):
    return ConnectionPlan(steps=[[argon_cluster(ATOMS, seed + k)] for k in range(steps)], **options)


def check_record(record, steps, what):
    check(record.error is None, f"{what}: conversation without error", None, record.error)
    check(len(record.answers) == steps, f"{what}: answers received", steps, len(record.answers))
    for k, (answer,) in enumerate(record.answers):
        check_answer(answer, record.plan.steps[k][0], ARGON_EPSILON, ARGON_SIGMA, CUTOFF, f"{what} step {k}")


def late_server(args, workspace, model, transport):
    if transport == "unix":
        name = unique_name("late")
        address = f"unix:{name}"
        workspace.track_socket(unix_socket_path(name))
    else:
        address = f"tcp:127.0.0.1:{free_tcp_port()}"
    chorus = Chorus(args.chorus, ["--model", model, "--connect", address, "--retry-for", "30"], workspace,
                    label=f"late-{transport}")
    time.sleep(1.5)
    check(chorus.running(), f"{transport}: chorus keeps retrying while no server listens",
          "running", f"exited with {chorus.process.returncode}")
    with IpiTestServer(address, lambda index: plan(3, seed=20 + index)) as server:
        done = server.wait_for(lambda records: records and records[0].finished, timeout=20)
        check(done, f"{transport}: chorus connected to the late server and finished the conversation",
              "1 finished connection", f"{len(server.records)} connections, finished: "
              f"{[r.finished for r in server.records]}")
        check_record(server.records[0], 3, f"late {transport} server")
        check(server.records[0].exit_closed, f"{transport}: chorus closed the connection after EXIT", True, False)
        code = chorus.wait_exit(10)
    check(code == 0, f"{transport}: chorus exits 0 after EXIT without --persist", 0, code)
    print(f"ok: chorus started 1.5 s before the {transport} server connected, served 3 steps, exited 0")


def killed_and_restarted(args, workspace, model):
    name = unique_name("restart")
    address = f"unix:{name}"
    path = workspace.track_socket(unix_socket_path(name))
    first = subprocess.Popen([sys.executable, os.path.join(HERE, "ipi_test_server.py"), "--address", address,
                              "--steps", "3", "--atoms", str(ATOMS), "--seed", "40", "--keep-open"],
                             stdout=subprocess.PIPE, text=True)
    try:
        lines = LineReader(first.stdout)
        lines.wait_for("LISTENING", 10)
        chorus = Chorus(args.chorus, ["--model", model, "--connect", address, "--persist"], workspace,
                        label="persist")
        line = lines.wait_for("CONNECTION 0", 20)
        check("answers=3 outcome=ok" in line, "first server: 3 answers", "answers=3 outcome=ok", line)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    check(os.path.exists(path), "a killed server leaves its socket file behind (the stale-file case)",
          "file exists", "missing")
    time.sleep(0.5)
    check(chorus.running(), "chorus survives the server being killed (--persist)", "running",
          f"exited with {chorus.process.returncode}")

    # The restarted server replaces the stale file, as a user would by deleting it.
    with IpiTestServer(address, lambda index: plan(3 if index == 0 else 1, seed=60 + 10 * index)) as server:
        done = server.wait_for(lambda records: records and records[0].finished, timeout=20)
        check(done, "chorus reconnected to the restarted server and finished the conversation",
              "1 finished connection", f"{len(server.records)} connections")
        check_record(server.records[0], 3, "restarted server")
        check(server.records[0].exit_closed, "chorus closed the connection after EXIT", True, False)
        reconnected = server.wait_for(lambda records: len(records) >= 2 and records[1].finished, timeout=20)
        check(reconnected, "with --persist chorus reconnects after EXIT and serves again",
              "a second connection", f"{len(server.records)} connections")
        check_record(server.records[1], 1, "reconnection after EXIT")
        check(chorus.running(), "chorus is still running after EXIT with --persist", "running", "exited")
        code = chorus.terminate(10)
    check(code == 0, "chorus exits 0 on SIGTERM", 0, code)
    print("ok: --persist: server killed (stale socket file), restarted, chorus reconnected and served; "
          "reconnected after EXIT; SIGTERM → exit 0")


def main():
    args = parse_arguments(__doc__.split("\n\n")[0])
    workspace = Workspace("start_order")
    model = workspace.lj_model(ARGON_EPSILON, ARGON_SIGMA, CUTOFF)
    late_server(args, workspace, model, "unix")
    late_server(args, workspace, model, "tcp")
    killed_and_restarted(args, workspace, model)


if __name__ == "__main__":
    run_test(main)
