#!/usr/bin/python3
"""Fault matrix of `chorus serve`, beyond test_faults.py (README "Control API", issue 9):

  1. `reload`: the --model file replaced while running is ignored until a `reload` request; a
     corrupted file or one with another committee size is refused and the forces stay those of the
     old model; a valid different model is swapped in, and the next answer on the same connection
     (never dropped) comes from it. With --committee-log, the log gets one `# reload:` line with the
     new file's sha256 between the records before and after, and `chorus reweight` warns about it.
  2. 1000 control-API clients and 1000 i-PI connections (--persist, the server sends EXIT) come
     and go: chorus's open descriptors (/proc/PID/fd) and threads (/proc/PID/status) do not grow.
  3. SIGKILL mid-run with --committee-log: every complete line of the log parses, only the last
     may be partial, `chorus reweight` reads the file, and a restarted chorus appends a new block
     starting on a fresh line.
  4. The committee log on a full disk (a 64 KiB tmpfs, or /dev/full): a clear error line, and
     every force is still answered, equal to ASE's Lennard-Jones.
  5. Control requests too long or not UTF-8: error responses, and the daemon keeps serving.
"""
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time

import numpy as np

from e2e_common import (Chorus, Workspace, check, check_close, parse_arguments, run_test, unique_name,
                        unix_socket_path)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from ipi_test_server import (ConnectionPlan, ConnectionRecord, IpiTestServer, _Conversation,  # noqa: E402
                             argon_cluster, header)

CUTOFF = 8.5
MEMBERS_A = [(0.0104, 3.40), (0.0101, 3.43)]
MEMBERS_B = [(0.0120, 3.38), (0.0095, 3.45)]
MEMBERS_C = [(0.0104, 3.40), (0.0101, 3.43), (0.0099, 3.41)]


def committee_energy_ev(structure, members):
    """Committee mean of ASE's LJ energies (what chorus answers for an LJ committee)."""
    from ase import Atoms
    from ase.calculators.lj import LennardJones
    energies = []
    for epsilon, sigma in members:
        atoms = Atoms(f"Ar{structure.atoms}", positions=structure.positions)
        atoms.calc = LennardJones(epsilon=epsilon, sigma=sigma, rc=CUTOFF)
        energies.append(atoms.get_potential_energy())
    return float(np.mean(energies))


def committee_model_json(members):
    return {"kind": "lennard-jones-committee", "members": [{"epsilon": e, "sigma": s} for e, s in members],
            "cutoff": CUTOFF, "alpha": 1.0}


def replace_file(path, text):
    """Replaces `path` as an editor or `cp` over it would (rename: never a half-written file)."""
    temporary = path + ".new"
    with open(temporary, "w") as out:
        out.write(text)
    os.replace(temporary, path)


def query(args, control, request, *fields):
    result = subprocess.run([args.chorus, "query", control, request, *fields, "--json"], capture_output=True,
                            text=True, timeout=60)
    response = json.loads(result.stdout) if result.stdout.strip() else None
    return result.returncode, response, result.stderr


class SteppedServer:
    """An i-PI server driven one step at a time by the test (one connection), through the
    conversation code of ipi_test_server.py."""

    def __init__(self, path, timeout=20.0):
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if os.path.exists(path):
            os.unlink(path)
        self.listener.bind(path)
        self.listener.listen(4)
        self.listener.settimeout(timeout)
        self.conversation = None
        self.state = None
        self.steps = 0
        self.timeout = timeout

    def accept(self):
        connection, _ = self.listener.accept()
        record = ConnectionRecord(index=0, plan=ConnectionPlan(steps=[]))
        self.conversation = _Conversation(connection, record, self.timeout, threading.Event())

    def step(self, structure):
        self.conversation.ready_for(self.steps, self.state)
        self.conversation.send(self.conversation.posdata([structure]) + header("GETFORCE"))
        answer = self.conversation.read_forceready(structure.atoms, 1)[0]
        self.state = self.conversation.status()
        self.steps += 1
        return answer

    def close(self):
        if self.conversation is not None:
            self.conversation.send(header("EXIT"))
            self.conversation.socket.close()
        self.listener.close()


def reload_model(args, workspace):
    model = workspace.write_json("reloadable.json", committee_model_json(MEMBERS_A))
    name = unique_name("reload")
    path = workspace.track_socket(unix_socket_path(name))
    control = workspace.file("reload.ctl")
    server = SteppedServer(path)
    committee_log = workspace.file("reload-committee.log")
    chorus = Chorus(args.chorus, ["--model", model, "--connect", f"unix:{name}", "--control", control,
                                  "--committee-log", committee_log, "--temperature", "300"],
                    workspace, label="reload")
    server.accept()
    structure = argon_cluster(13, seed=5)
    expected_a = committee_energy_ev(structure, MEMBERS_A)
    expected_b = committee_energy_ev(structure, MEMBERS_B)
    check(abs(expected_a - expected_b) > 1e-3, "the two test models differ", "> 1 meV", expected_a - expected_b)
    first = server.step(structure).energy_ev()
    check_close(first, expected_a, 1e-9, "model A before any reload")

    # Replaced, but not reloaded: ignored.
    replace_file(model, json.dumps(committee_model_json(MEMBERS_B)))
    check(server.step(structure).energy_ev() == first, "a replaced file is ignored until `reload`", first, "")

    # Corrupted: refused, the old model stays.
    replace_file(model, json.dumps(committee_model_json(MEMBERS_B))[:-20])
    code, response, stderr = query(args, control, "reload")
    check(code == 1 and response is not None and not response["ok"], "reload of a corrupted file is refused",
          "ok: false, exit 1", f"{code} {response} {stderr}")
    check("reloadable.json" in response["error"], "the error names the model file", "reloadable.json",
          response["error"])
    check(server.step(structure).energy_ev() == first, "forces unchanged after a refused reload", first, "")

    # Another committee size: refused (the committee log keeps one member count).
    replace_file(model, json.dumps(committee_model_json(MEMBERS_C)))
    code, response, _ = query(args, control, "reload")
    check(code == 1 and "committee members" in response["error"], "reload with 3 instead of 2 members refused",
          "error about committee members", response)
    check(server.step(structure).energy_ev() == first, "forces unchanged after a refused reload", first, "")

    # A field in the request cannot name another file.
    code, response, _ = query(args, control, "reload", f"path={model}")
    check(code == 1 and "unknown field 'path'" in response["error"], "reload takes no path", "unknown field",
          response)

    # Valid and different: swapped in, on the same connection.
    replace_file(model, json.dumps(committee_model_json(MEMBERS_B)))
    code, response, stderr = query(args, control, "reload")
    check(code == 0 and response["ok"] and response["reloads"] == 1, "reload of a valid model", "ok, reloads 1",
          f"{code} {response} {stderr}")
    after = server.step(structure).energy_ev()
    check_close(after, expected_b, 1e-9, "model B after the reload, same connection")
    code, status, _ = query(args, control, "status")
    check(status["model_reloads"] == 1 and status["connections"][0]["connected"]
          and status["connections"][0]["answers"] == 5,
          "status: one reload, the connection never dropped, 5 answers on it", "1, True, 5",
          (status["model_reloads"], status["connections"][0]["connected"], status["connections"][0]["answers"]))
    server.close()
    check(chorus.wait_exit(10) == 0, "chorus exits 0 after EXIT", 0, chorus.process.returncode)
    log = chorus.log()
    check(log.count("model reloaded:") == 1, "one log line per successful reload", 1, log.count("model reloaded:"))
    check(log.count("model reload refused") == 2, "one log line per refused reload", 2,
          log.count("model reload refused"))
    with open(committee_log) as stream:
        lines = [line for line in stream.read().splitlines() if not line.startswith("#") or "reload" in line]
    markers = [n for n, line in enumerate(lines) if line.startswith("# reload: ")]
    with open(model, "rb") as stream:
        digest = hashlib.sha256(stream.read()).hexdigest()
    check(markers == [4] and f" model sha256 {digest} " in lines[4],
          "the committee log has one `# reload:` line with the new file's sha256, after the 4 records of model A",
          f"[4], sha256 {digest}", lines)
    result = subprocess.run([args.chorus, "reweight", "--committee-log", committee_log, "--json", "-"],
                            capture_output=True, text=True, timeout=60)
    check(result.returncode == 0 and "model changed mid-log" in result.stderr,
          "chorus reweight reads the log and warns that the model changed mid-log", "warning",
          result.stderr)
    print("ok: reload: replaced file ignored until `reload`; corrupted and 3-member files refused (forces "
          f"unchanged, {first:.6f} eV); valid model swapped in ({after:.6f} eV) on the same connection; "
          "`# reload:` marker in the committee log")


def reload_checksum(args, workspace):
    """A linear committee whose numbers were edited (valid JSON, wrong checksum) is refused; the
    same file intact is accepted. No i-PI server is needed: chorus keeps retrying meanwhile."""
    with open(os.path.join(args.repo_root, "models", "pretrained", "water-committee.json")) as source:
        document = json.load(source)
    model = workspace.write_json("water.json", document)
    control = workspace.file("water.ctl")
    name = unique_name("nowhere")
    chorus = Chorus(args.chorus, ["--model", model, "--species", "O,H,H", "--connect", f"unix:{name}",
                                  "--control", control], workspace, label="checksum")
    chorus.wait_log(lambda text: "control: listening" in text, 30, "the control server listening")
    edited = json.loads(json.dumps(document))
    edited["members"][0]["weights"][0][0] += 1e-6  # weights: one list per species
    replace_file(model, json.dumps(edited))
    code, response, stderr = query(args, control, "reload")
    check(code == 1 and "checksum" in response["error"], "an edited linear committee (wrong checksum) is refused",
          "error naming the checksum", f"{code} {response} {stderr}")
    replace_file(model, json.dumps(document))
    code, response, stderr = query(args, control, "reload")
    check(code == 0 and response["reloads"] == 1, "the intact file reloads", "ok", f"{code} {response} {stderr}")
    check(chorus.terminate(10) == 0, "chorus exits 0 on SIGTERM", 0, chorus.process.returncode)
    print("ok: reload: a linear committee with an edited weight (checksum mismatch) refused, the intact one taken")


def descriptor_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def thread_count(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    raise AssertionError("no Threads line")


def settled(pid, limit_fds, timeout=10.0):
    """Descriptor count, waiting (bounded) for closes in flight to land."""
    deadline = time.monotonic() + timeout
    count = descriptor_count(pid)
    while count > limit_fds and time.monotonic() < deadline:
        time.sleep(0.05)
        count = descriptor_count(pid)
    return count


def control_round_trip(path, line):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(10)
        client.connect(path)
        client.sendall(line)
        received = b""
        while not received.endswith(b"\n"):
            chunk = client.recv(65536)
            if not chunk:
                break
            received += chunk
        return received


def connection_cycles(args, workspace):
    model = workspace.write_json("cycles.json", committee_model_json(MEMBERS_A))
    name = unique_name("cycles")
    address = f"unix:{name}"
    workspace.track_socket(unix_socket_path(name))
    control = workspace.file("cycles.ctl")
    clients = 10
    structure = argon_cluster(8, seed=3)
    server = IpiTestServer(address, lambda index: ConnectionPlan(steps=[[structure]]), timeout=20).start()
    chorus = Chorus(args.chorus, ["--model", model, "--connect", address, "--clients", str(clients), "--persist",
                                  "--threads", "2", "--control", control], workspace, label="cycles")
    pid = chorus.process.pid
    warm = server.wait_for(lambda records: len(records) >= 3 * clients, timeout=30)
    check(warm, "warm-up: every client connected a few times", 3 * clients, len(server.records))
    for _ in range(5):
        control_round_trip(control, b'{"request": "status"}\n')
    fds_before, threads_before = descriptor_count(pid), thread_count(pid)

    # 1000 control clients: a request each, or connect and leave at once, or leave mid-line.
    for cycle in range(1000):
        if cycle % 3 == 0:
            response = control_round_trip(control, b'{"request": "status"}\n')
            check(b'"ok":true' in response.replace(b" ", b""), "status answered", "ok", response[:200])
        else:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
                client.connect(control)
                if cycle % 3 == 2:
                    client.sendall(b'{"request": "sta')
    total = 1000 + 3 * clients
    done = server.wait_for(lambda records: len(records) >= total and all(r.finished for r in records[:total]),
                           timeout=60)
    check(done, "1000 i-PI connections came and went (EXIT, --persist reconnects)", total, len(server.records))
    failed = [r for r in server.records[:total] if r.error or len(r.answers) != 1 or not r.exit_closed]
    check(not failed, "every i-PI connection: one answer, EXIT, closed by chorus", 0,
          [(r.index, r.error, len(r.answers), r.exit_closed) for r in failed[:3]])

    # At any moment each session may hold one connection and the control server a client or two.
    fds_after = settled(pid, fds_before + 2)
    threads_after = thread_count(pid)
    server.stop()
    check(fds_after <= fds_before + 2, "no descriptor leak over 1000+1000 connections", f"<= {fds_before + 2}",
          fds_after)
    # TBB may still start a worker late; a leak would be hundreds.
    check(threads_after <= threads_before + 2, "no thread leak over 1000+1000 connections",
          f"<= {threads_before + 2}", threads_after)
    check(chorus.running(), "chorus still running", "running", chorus.process.returncode)
    check(chorus.terminate(10) == 0, "chorus exits 0 on SIGTERM", 0, chorus.process.returncode)
    print(f"ok: {len(server.records)} i-PI connections and 1000 control clients: descriptors {fds_before} → "
          f"{fds_after}, threads {threads_before} → {threads_after}")


def parse_log_lines(text, members, what):
    """Every line is a header line or a full record; returns (headers, records). The last line
    may lack its newline (a killed writer) and is then ignored."""
    lines = text.split("\n")
    complete, tail = lines[:-1], lines[-1]
    headers, records = 0, 0
    for number, line in enumerate(complete, 1):
        if line.startswith("# chorus-committee-log "):
            headers += 1
        elif line.startswith("#"):
            continue
        else:
            fields = line.split()
            check(len(fields) == 6 + members + 2, f"{what}: line {number} is a whole record",
                  f"{6 + members + 2} fields", line)
            [float(value) for value in fields[5:]]
            check(int(fields[3]) >= 0 and fields[0].endswith("Z"), f"{what}: line {number} fields", "", line)
            records += 1
    return headers, records, tail


def killed_mid_run(args, workspace):
    model = workspace.write_json("killed.json", committee_model_json(MEMBERS_A))
    log = workspace.file("killed-committee.log")
    name = unique_name("killed")
    address = f"unix:{name}"
    workspace.track_socket(unix_socket_path(name))
    structures = [[argon_cluster(13, seed=s)] for s in range(20000)]
    arguments = ["--model", model, "--connect", address, "--committee-log", log]
    with IpiTestServer(address, lambda index: ConnectionPlan(steps=structures), timeout=20) as server:
        chorus = Chorus(args.chorus, arguments, workspace, label="killed")
        running = server.wait_for(lambda records: records and len(records[0].answers) >= 2000, timeout=30)
        check(running, "chorus answers a long run", ">= 2000 answers", server.records and len(server.records[0].answers))
        chorus.wait_log(lambda _: os.path.getsize(log) > 100_000, 10, "a committee log over 100 kB")
        chorus.process.kill()
        chorus.process.wait(10)
        answered = len(server.records[0].answers)
    with open(log) as source:
        text = source.read()
    headers, records, tail = parse_log_lines(text, len(MEMBERS_A), "log after SIGKILL")
    check(headers == 1 and records > 0, "after SIGKILL: one header block and records", "1 header, > 0", (headers, records))
    check(records <= answered, "no record of an unanswered structure", f"<= {answered}", records)

    # The reader tolerates a cut last line (here made on purpose, as a kill inside a write would).
    cut = workspace.file("cut-committee.log")
    with open(cut, "w") as out:
        out.write(text + (text.rstrip("\n").rsplit("\n", 1)[1][:30] if not tail else ""))
    result = subprocess.run([args.chorus, "reweight", "--committee-log", cut, "--temperature", "300", "--json", "-"],
                            capture_output=True, text=True, timeout=60)
    check(result.returncode == 0, "`chorus reweight` reads a log whose last line is cut", 0,
          f"{result.returncode}: {result.stderr[-500:]}")

    # Restart on the same log, with the partial line: the new block starts on a fresh line.
    with open(log, "a") as out:
        out.write("2026-01-01T00:00:00.000Z unix:x#0 -1 7 13 -0.1")
    with IpiTestServer(address, lambda index: ConnectionPlan(steps=structures[:20]), timeout=20) as server:
        chorus = Chorus(args.chorus, arguments, workspace, label="restarted")
        check(chorus.wait_exit(30) == 0, "the restarted chorus serves 20 steps and exits 0", 0,
              chorus.process.returncode)
    with open(log) as source:
        text = source.read()
    lines = text.split("\n")
    check(text.endswith("\n"), "after a clean exit the log ends with a newline", "\\n", repr(text[-40:]))
    partial = [n for n, line in enumerate(lines[:-1]) if not line.startswith("#") and len(line.split()) != 10]
    check(len(partial) == 1 and lines[partial[0] + 1].startswith("# chorus-committee-log "),
          "only the cut line is incomplete, and the new header starts on the next line", "1 cut line",
          [lines[n] for n in partial[:3]])
    headers = [n for n, line in enumerate(lines) if line.startswith("# chorus-committee-log ")]
    block = [line for line in lines[headers[-1]:] if line and not line.startswith("#")]
    check(len(headers) == 2 and len(block) == 20 and [int(line.split()[3]) for line in block] == list(range(20)),
          "the restarted chorus appended one block of 20 records, counters 0..19", "2 headers, 20",
          (len(headers), len(block)))
    print(f"ok: SIGKILL after {answered} answers: {records} whole records, nothing partial; reweight reads a cut "
          "last line; the restart appends a new block on a fresh line")


class Tmpfs:
    """A 64 KiB tmpfs (root), else None."""

    def __init__(self, directory):
        self.directory = directory
        os.makedirs(directory, exist_ok=True)
        self.mounted = False
        if os.environ.get("CHORUS_TEST_NO_TMPFS") is None:  # set it to test the /dev/full fallback
            result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", directory],
                                    capture_output=True)
            self.mounted = result.returncode == 0

    def cleanup(self):
        if self.mounted:
            subprocess.run(["umount", "-l", self.directory], capture_output=True)
            self.mounted = False


def disk_full(args, workspace):
    model = workspace.write_json("full.json", committee_model_json(MEMBERS_A))
    tmpfs = Tmpfs(workspace.file("small-disk"))
    try:
        if tmpfs.mounted:
            log, kind = os.path.join(tmpfs.directory, "committee.log"), "64 KiB tmpfs"
        else:
            log, kind = workspace.file("full.log"), "/dev/full"
            os.symlink("/dev/full", log)
        name = unique_name("full")
        address = f"unix:{name}"
        workspace.track_socket(unix_socket_path(name))
        structures = [[argon_cluster(13, seed=s)] for s in range(3000)]
        with IpiTestServer(address, lambda index: ConnectionPlan(steps=structures), timeout=20) as server:
            chorus = Chorus(args.chorus, ["--model", model, "--connect", address, "--committee-log", log], workspace,
                            label="full")
            done = server.wait_for(lambda records: records and records[0].finished, timeout=60)
            check(done and server.records[0].error is None and len(server.records[0].answers) == len(structures),
                  f"every force answered with the committee log on a full disk ({kind})", len(structures),
                  (len(server.records[0].answers) if server.records else 0, server.records and server.records[0].error))
            code = chorus.wait_exit(20)
        check(code == 0, "chorus exits 0 after EXIT", 0, code)
        for index in (0, 1500, 2999):
            check_close(server.records[0].answers[index][0].energy_ev(),
                        committee_energy_ev(structures[index][0], MEMBERS_A), 1e-9, f"answer {index} on a full disk")
        text = chorus.log()
        check("write failed (No space left on device)" in text, "a clear error line names the cause",
              "write failed (No space left on device)", text[-1500:])
        check(text.count("write failed") <= 5, "the error is rate limited", "<= 5 lines", text.count("write failed"))
        if tmpfs.mounted:
            with open(log) as source:
                content = source.read()
            parse_log_lines(content, len(MEMBERS_A), "log on the full disk")
    finally:
        tmpfs.cleanup()
    print(f"ok: committee log on a full disk ({kind}): {len(structures)} answers correct, clear rate-limited error")


def bad_control_requests(args, workspace):
    model = workspace.write_json("bad-control.json", committee_model_json(MEMBERS_A))
    name = unique_name("badctl")
    address = f"unix:{name}"
    workspace.track_socket(unix_socket_path(name))
    control = workspace.file("bad.ctl")
    structures = [[argon_cluster(13, seed=s)] for s in range(40)]
    release = threading.Event()
    with IpiTestServer(address, lambda index: ConnectionPlan(steps=structures, hold_before_exit=release),
                       timeout=30) as server:
        chorus = Chorus(args.chorus, ["--model", model, "--connect", address, "--control", control], workspace,
                        label="badctl")
        chorus.wait_log(lambda text: "control: listening" in text, 10, "the control server listening")
        cases = {
            "invalid UTF-8 in a string": b'{"request": "st\xffatus"}\n',
            "a lone continuation byte": b'{"request": "status", "id": "\x80"}\n',
            "an overlong encoding": b'{"request": "\xc0\xafstatus"}\n',
            "a UTF-16 surrogate": b'{"request": "\xed\xa0\x80"}\n',
            "bytes outside a string": b'\xfe\xff{"request": "status"}\n',
            "60 KiB of fields": json.dumps({"request": "status", **{f"k{i}": i for i in range(6000)}})[:60000]
            .encode() + b"}\n",
        }
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(10)
            client.connect(control)
            reader = client.makefile("rb")
            for what, line in cases.items():
                client.sendall(line)
                response = reader.readline()
                check(response.endswith(b"\n"), f"{what}: one response line", "a line", response[:200])
                decoded = json.loads(response.decode("utf-8"))  # the response itself is valid UTF-8
                check(decoded["ok"] is False and decoded["error"], f"{what}: an error response", "ok: false", decoded)
            client.sendall(b'{"request": "status"}\n')
            check(json.loads(reader.readline())["ok"], "the same connection still answers", True, False)
            # Over 64 KiB: an error, then the server closes this connection.
            client.sendall(b'{"request": "status", "pad": "' + b"x" * 70000 + b'"}\n')
            response = reader.readline()
            check(b"longer than" in response, "an oversized line gets an error", "longer than", response[:200])
            try:
                rest = reader.readline()
            except ConnectionResetError:  # closed with the rest of our line unread
                rest = b""
            check(rest == b"", "and the connection is closed", b"", rest[:200])
        # A line that never ends (1 MiB without a newline).
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(10)
            client.connect(control)
            try:
                client.sendall(b"{" * (1 << 20))
            except (BrokenPipeError, ConnectionResetError):
                pass
            try:
                response = client.makefile("rb").readline()
            except ConnectionResetError:
                response = b""
            check(response == b"" or b"longer than" in response, "an endless line: error or closed", "", response[:200])
        code, status, _ = query(args, control, "status")
        check(code == 0 and status["ok"], "the daemon answers `status` afterwards", 0, code)
        release.set()
        done = server.wait_for(lambda records: records and records[0].finished, timeout=30)
        check(done and server.records[0].error is None and len(server.records[0].answers) == len(structures),
              "every force answered meanwhile", len(structures), server.records and len(server.records[0].answers))
        check(chorus.wait_exit(10) == 0, "chorus exits 0", 0, chorus.process.returncode)
    print(f"ok: {len(cases)} malformed/oversized control requests answered with errors; a > 64 KiB line closes "
          "its connection; the daemon kept serving")


def main():
    args = parse_arguments(__doc__.split("\n\n")[0])
    workspace = Workspace("faults_more")
    reload_model(args, workspace)
    reload_checksum(args, workspace)
    bad_control_requests(args, workspace)
    disk_full(args, workspace)
    killed_mid_run(args, workspace)
    connection_cycles(args, workspace)


if __name__ == "__main__":
    run_test(main)
