#!/usr/bin/python3
"""A small i-PI protocol SERVER for testing clients such as chorus, written from
shared/protocol.md (it does not use ASE or i-PI).

It listens on one address, accepts any number of client connections and runs one conversation per
connection in its own thread, following a ConnectionPlan: N steps with chosen structures, in i-PI
order (POSDATA and GETFORCE in one write, no STATUS in between, a STATUS probe after every
FORCEREADY) or ASE order (STATUS between POSDATA and GETFORCE), optionally batched (INIT carrying
`batch_size:B`). It records every answer (energy, forces, virial, extras) and can inject one fault
on a connection: see FAULT_KINDS.

As a library:
    plans = lambda index: ConnectionPlan(steps=[[argon_cluster(13, seed)] for seed in range(5)])
    with IpiTestServer("unix:my_test", plans) as server:
        ... start the client ...
        server.wait_for(lambda records: len(records) == 1 and records[0].finished, timeout=10)
        answers = server.records[0].answers

As a command line tool (structures: random argon-like clusters):
    ipi_test_server.py --address unix:NAME --connections 2 --steps 5 --atoms 13 --order ipi
It prints LISTENING, one line per accepted/finished connection, and writes --results as JSON.

Units: the server takes structures in Å and converts to atomic units with CODATA 2018 (the
constants chorus uses), so comparisons through it are exact up to rounding.
"""
import argparse
import dataclasses
import json
import math
import os
import socket
import struct
import sys
import threading
import time

import numpy as np

BOHR_IN_ANGSTROM = 0.529177210903
HARTREE_IN_EV = 27.211386245988

HEADER_SIZE = 12
CLIENT_STATES = ("READY", "NEEDINIT", "HAVEDATA")

# Faults the server can inject on a connection (at a chosen step):
FAULT_KINDS = (
    "garbage_header",      # a 12-byte header that is no i-PI message: GARBAGE_HEADER
    "truncated_posdata",   # POSDATA cut in the middle of the positions, then the server closes
    "nan_positions",       # a complete POSDATA + GETFORCE whose positions contain a NaN
    "atom_count_change",   # POSDATA with one atom more than the connection started with
    "close_mid_message",   # the first bytes of a header, then the server closes
    "absurd_atom_count",   # POSDATA announcing ABSURD_ATOM_COUNT atoms (and never sending them)
)
GARBAGE_HEADER = b"HELLOCHORUS!"
ABSURD_ATOM_COUNT = 1_987_654_321


def header(text):
    return text.encode("ascii").ljust(HEADER_SIZE)


@dataclasses.dataclass
class Structure:
    """Lattice vectors as ROWS of `cell` (ASE convention, all zeros: not periodic), positions
    N×3, both in Å."""
    cell: np.ndarray
    positions: np.ndarray

    @property
    def atoms(self):
        return len(self.positions)

    def wire_cell(self):
        """i-PI's h (lattice vectors as columns) in Bohr, and h⁻¹ (zeros if singular)."""
        h = np.asarray(self.cell, dtype=float).T / BOHR_IN_ANGSTROM
        try:
            h_inverse = np.linalg.inv(h)
        except np.linalg.LinAlgError:
            h_inverse = np.zeros((3, 3))
        return h, h_inverse

    def wire_positions(self):
        return np.asarray(self.positions, dtype=float) / BOHR_IN_ANGSTROM


@dataclasses.dataclass
class Answer:
    """One FORCEREADY result in atomic units, as received."""
    energy: float
    forces: np.ndarray   # N×3, Hartree/Bohr
    virial: np.ndarray   # 3×3, Hartree, as sent row-major
    extras: bytes

    def energy_ev(self):
        return self.energy * HARTREE_IN_EV

    def forces_ev_per_angstrom(self):
        return self.forces * (HARTREE_IN_EV / BOHR_IN_ANGSTROM)

    def virial_ev(self):
        return self.virial * HARTREE_IN_EV

    def extras_json(self):
        return json.loads(self.extras.decode("utf-8")) if self.extras else None


@dataclasses.dataclass
class Fault:
    kind: str
    step: int = 0

    def __post_init__(self):
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {self.kind!r}; known: {', '.join(FAULT_KINDS)}")
        if self.kind == "atom_count_change" and self.step < 1:
            raise ValueError("atom_count_change needs step >= 1 (the first POSDATA fixes the count)")


@dataclasses.dataclass
class ConnectionPlan:
    """What the server does on one connection. `steps[i]` is the list of structures of request i
    (one structure, or B for a batch of batch_size B)."""
    steps: list
    order: str = "ipi"                 # "ipi" or "ase"
    batch_size: int = None             # None: classic single-structure messages
    replica_ids: list = None           # INIT id sent when the client asks before step i (default i)
    init_text: str = ""
    fault: Fault = None                # injected instead of step fault.step
    send_exit: bool = True
    hold_before_exit: threading.Event = None  # wait for this (bounded by the timeout) before EXIT
    keep_open: bool = False            # after the steps, neither EXIT nor close (to be killed)

    def __post_init__(self):
        if self.order not in ("ipi", "ase"):
            raise ValueError(f"order must be 'ipi' or 'ase', not {self.order!r}")
        for i, step in enumerate(self.steps):
            expected = self.batch_size or 1
            if len(step) != expected:
                raise ValueError(f"step {i} has {len(step)} structures, expected {expected}")


@dataclasses.dataclass
class ConnectionRecord:
    index: int                        # accept order, from 0
    plan: ConnectionPlan
    answers: list = dataclasses.field(default_factory=list)   # one Answer list per step
    status_replies: list = dataclasses.field(default_factory=list)
    init_sent: list = dataclasses.field(default_factory=list)  # replica ids sent in INIT
    fault_outcome: str = None         # what the client did after the fault
    error: str = None                 # why the conversation failed, if it did
    finished: bool = False            # the conversation ended (successfully or not)
    exit_closed: bool = None          # after EXIT, the client closed the connection


class ConversationError(Exception):
    pass


class _Conversation:
    def __init__(self, connection, record, timeout, stop):
        self.socket = connection
        self.record = record
        self.plan = record.plan
        self.timeout = timeout
        self.stop = stop
        self.atoms = None
        self.socket.settimeout(timeout)

    # --- wire helpers ---
    def send(self, data):
        self.socket.sendall(data)

    def receive_exact(self, count):
        chunks = []
        remaining = count
        while remaining > 0:
            try:
                chunk = self.socket.recv(min(remaining, 1 << 20))
            except socket.timeout:
                raise ConversationError(f"client sent nothing for {self.timeout} s "
                                        f"({count - remaining} of {count} bytes received)") from None
            if not chunk:
                raise ConversationError(f"client closed the connection ({count - remaining} of "
                                        f"{count} bytes of a message received)")
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def receive_header(self):
        return self.receive_exact(HEADER_SIZE).decode("ascii", errors="replace").rstrip()

    def status(self):
        self.send(header("STATUS"))
        reply = self.receive_header()
        self.record.status_replies.append(reply)
        if reply not in CLIENT_STATES:
            raise ConversationError(f"STATUS answered with {reply!r}, expected one of {CLIENT_STATES}")
        return reply

    def send_init(self, step):
        ids = self.plan.replica_ids
        replica = ids[min(step, len(ids) - 1)] if ids else step
        text = self.plan.init_text
        if self.plan.batch_size:
            text = f"{text},batch_size:{self.plan.batch_size}" if text else f"batch_size:{self.plan.batch_size}"
        payload = text.encode("utf-8")
        self.send(header("INIT") + struct.pack("<ii", replica, len(payload)) + payload)
        self.record.init_sent.append(replica)

    def posdata(self, structures, atoms=None):
        """POSDATA bytes (single or batched layout); `atoms` overrides the announced count."""
        count = structures[0].atoms if atoms is None else atoms
        if self.plan.batch_size:
            cells = b"".join(np.concatenate([h.ravel(), hi.ravel()]).astype("<f8").tobytes()
                             for h, hi in (s.wire_cell() for s in structures))
            positions = b"".join(s.wire_positions().astype("<f8").tobytes() for s in structures)
            return header("POSDATA") + struct.pack("<i", count) + cells + positions
        h, h_inverse = structures[0].wire_cell()
        return (header("POSDATA") + h.astype("<f8").tobytes() + h_inverse.astype("<f8").tobytes()
                + struct.pack("<i", count) + structures[0].wire_positions().astype("<f8").tobytes())

    def read_forceready(self, atoms, count):
        reply = self.receive_header()
        if reply != "FORCEREADY":
            raise ConversationError(f"expected FORCEREADY after GETFORCE, got {reply!r}")
        energies = np.frombuffer(self.receive_exact(8 * count), "<f8")
        (answered_atoms,) = struct.unpack("<i", self.receive_exact(4))
        if answered_atoms != atoms:
            raise ConversationError(f"FORCEREADY for {answered_atoms} atoms, sent {atoms}")
        forces = np.frombuffer(self.receive_exact(8 * count * 3 * atoms), "<f8").reshape(count, atoms, 3)
        virials = np.frombuffer(self.receive_exact(8 * count * 9), "<f8").reshape(count, 3, 3)
        answers = []
        for k in range(count):
            (length,) = struct.unpack("<i", self.receive_exact(4))
            if not 0 <= length <= 1 << 28:
                raise ConversationError(f"FORCEREADY extras length {length} is absurd")
            extras = self.receive_exact(length) if length else b""
            answers.append(Answer(float(energies[k]), forces[k].copy(), virials[k].copy(), extras))
        return answers

    def expect_client_close(self):
        """After a fault: the client must close the connection. Returns what it did."""
        received = 0
        deadline = time.monotonic() + self.timeout
        try:
            while time.monotonic() < deadline:
                chunk = self.socket.recv(65536)
                if not chunk:
                    return "closed by client" + (f" after sending {received} bytes" if received else "")
                received += len(chunk)
        except socket.timeout:
            pass
        except (ConnectionResetError, BrokenPipeError):
            return "reset by client"
        return f"client kept the connection open for {self.timeout} s"

    # --- the conversation ---
    def ready_for(self, step, state):
        if state is None:
            state = self.status()
        while state == "NEEDINIT":
            self.send_init(step)
            state = self.status()
        if state != "READY":
            raise ConversationError(f"before step {step} the client is {state!r}, expected READY")

    def run(self):
        state = None
        fault = self.plan.fault
        for step, structures in enumerate(self.plan.steps):
            if fault is not None and fault.step == step:
                self.ready_for(step, state)
                self.record.fault_outcome = self.inject(fault, structures)
                return
            self.ready_for(step, state)
            if self.atoms is None:
                self.atoms = structures[0].atoms
            count = len(structures)
            if self.plan.order == "ipi":
                self.send(self.posdata(structures) + header("GETFORCE"))
                self.record.answers.append(self.read_forceready(structures[0].atoms, count))
                state = self.status()  # i-PI probes after every answer
            else:
                self.send(self.posdata(structures))
                reply = self.status()
                if reply != "HAVEDATA":
                    raise ConversationError(f"after POSDATA the client is {reply!r}, expected HAVEDATA")
                self.send(header("GETFORCE"))
                self.record.answers.append(self.read_forceready(structures[0].atoms, count))
                state = None
        if fault is not None and fault.step >= len(self.plan.steps):
            raise ConversationError(f"fault step {fault.step} is past the {len(self.plan.steps)} steps")
        if self.plan.keep_open:
            while not self.stop.wait(0.1):
                pass
            return
        if self.plan.hold_before_exit is not None:
            self.plan.hold_before_exit.wait(self.timeout)
        if self.plan.send_exit:
            self.send(header("EXIT"))
            self.record.exit_closed = self.expect_client_close().startswith(("closed", "reset"))

    def inject(self, fault, structures):
        kind = fault.kind
        if kind == "garbage_header":
            self.send(GARBAGE_HEADER)
            return self.expect_client_close()
        if kind == "truncated_posdata":
            message = self.posdata(structures)
            self.send(message[:len(message) - 8 * 3 * structures[0].atoms // 2])
            self.socket.shutdown(socket.SHUT_RDWR)
            return "server closed"
        if kind == "nan_positions":
            bad = [Structure(s.cell, np.array(s.positions, dtype=float)) for s in structures]
            bad[0].positions[0, 1] = math.nan
            self.send(self.posdata(bad) + header("GETFORCE"))
            return self.expect_client_close()
        if kind == "atom_count_change":
            grown = [Structure(s.cell, np.vstack([s.positions, s.positions[-1] + [0.0, 0.0, 4.0]]))
                     for s in structures]
            self.send(self.posdata(grown) + header("GETFORCE"))
            return self.expect_client_close()
        if kind == "close_mid_message":
            self.send(header("POSDATA")[:4])
            self.socket.shutdown(socket.SHUT_RDWR)
            return "server closed"
        if kind == "absurd_atom_count":
            message = self.posdata(structures, atoms=ABSURD_ATOM_COUNT)
            cut = HEADER_SIZE + (4 + 18 * 8 * len(structures) if self.plan.batch_size else 18 * 8 + 4)
            self.send(message[:cut])
            return self.expect_client_close()
        raise ValueError(kind)


def _parse_address(address):
    if address.startswith("unix:"):
        name = address[len("unix:"):]
        return socket.AF_UNIX, (name if name.startswith("/") else f"/tmp/ipi_{name}")
    if address.startswith("tcp:"):
        host, _, port = address[len("tcp:"):].rpartition(":")
        return socket.AF_INET, (host or "127.0.0.1", int(port))
    raise ValueError(f"address {address!r}: use unix:NAME, unix:/absolute/path or tcp:HOST:PORT")


class IpiTestServer:
    """Listens on `address`; connection number i (in accept order) follows `plan_for(i)`."""

    def __init__(self, address, plan_for, timeout=10.0):
        self.address = address
        self.plan_for = plan_for
        self.timeout = timeout
        self.records = []
        self._lock = threading.Condition()
        self._stop = threading.Event()
        self._threads = []
        self._connections = []
        self._family, self._bind_to = _parse_address(address)
        self._listener = None

    @property
    def unix_path(self):
        return self._bind_to if self._family == socket.AF_UNIX else None

    def start(self):
        listener = socket.socket(self._family, socket.SOCK_STREAM)
        if self._family == socket.AF_UNIX:
            # A test server may replace a stale file (a killed predecessor's); i-PI would refuse.
            if os.path.exists(self._bind_to):
                os.unlink(self._bind_to)
        else:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(self._bind_to)
        listener.listen(64)
        listener.settimeout(0.1)
        self._listener = listener
        thread = threading.Thread(target=self._accept_loop, name="accept", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def _accept_loop(self):
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            if self._family == socket.AF_INET:
                connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                index = len(self.records)
                record = ConnectionRecord(index=index, plan=self.plan_for(index))
                self.records.append(record)
                self._connections.append(connection)
                self._lock.notify_all()
            thread = threading.Thread(target=self._converse, args=(connection, record),
                                      name=f"connection-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _converse(self, connection, record):
        try:
            _Conversation(connection, record, self.timeout, self._stop).run()
        except (ConversationError, OSError) as error:
            record.error = f"{type(error).__name__}: {error}" if isinstance(error, OSError) else str(error)
        finally:
            try:
                connection.close()
            except OSError:
                pass
            with self._lock:
                record.finished = True
                self._lock.notify_all()

    def wait_for(self, predicate, timeout):
        """Waits until predicate(records) holds; returns whether it did within `timeout`."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate(self.records):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._lock.wait(min(remaining, 0.1))
            return True

    def stop(self, abrupt=False):
        """Stops listening and closes every connection (abrupt: TCP reset, no goodbye)."""
        self._stop.set()
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                if abrupt and self._family == socket.AF_INET:
                    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in self._threads:
            thread.join(timeout=self.timeout + 1)
        if self.unix_path and os.path.exists(self.unix_path):
            os.unlink(self.unix_path)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def argon_cluster(atoms, seed, spacing=3.8, noise=0.15):
    """A compact, non-periodic argon-like cluster: grid points around the origin, jittered."""
    rng = np.random.default_rng(seed)
    side = math.ceil(atoms ** (1 / 3))
    grid = np.array([(i, j, k) for i in range(side) for j in range(side) for k in range(side)], dtype=float)
    grid = grid[np.argsort(np.linalg.norm(grid - (side - 1) / 2, axis=1), kind="stable")][:atoms]
    positions = spacing * grid + rng.normal(scale=noise, size=grid.shape)
    return Structure(np.zeros((3, 3)), positions)


def _main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--address", required=True, help="unix:NAME, unix:/path or tcp:HOST:PORT")
    parser.add_argument("--connections", type=int, default=1, help="conversations to run before exiting")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--atoms", type=int, default=13)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--order", choices=("ipi", "ase"), default="ipi")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--fault", action="append", default=[], metavar="INDEX:KIND[:STEP]",
                        help=f"inject a fault on connection INDEX; KIND in {', '.join(FAULT_KINDS)}")
    parser.add_argument("--keep-open", action="store_true",
                        help="after the steps send no EXIT and keep connections open (to be killed)")
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--results", help="write energies (Ha) per connection as JSON here")
    args = parser.parse_args()

    faults = {}
    for text in args.fault:
        index, kind, *step = text.split(":")
        faults[int(index)] = Fault(kind, int(step[0]) if step else 0)
    batch = args.batch_size or 1

    def plan_for(index):
        steps = [[argon_cluster(args.atoms, args.seed + step * batch + k) for k in range(batch)]
                 for step in range(args.steps)]
        return ConnectionPlan(steps=steps, order=args.order, batch_size=args.batch_size,
                              fault=faults.get(index), keep_open=args.keep_open)

    server = IpiTestServer(args.address, plan_for, timeout=args.timeout).start()
    print(f"LISTENING {args.address}", flush=True)
    reported = set()
    try:
        while len(reported) < args.connections:
            server.wait_for(lambda records: any(r.index not in reported and (r.finished or
                            (args.keep_open and len(r.answers) == args.steps)) for r in records), 3600)
            for record in list(server.records):
                done = record.finished or (args.keep_open and len(record.answers) == args.steps)
                if record.index in reported or not done:
                    continue
                reported.add(record.index)
                energies = [a.energy for step in record.answers for a in step]
                outcome = record.error or record.fault_outcome or "ok"
                print(f"CONNECTION {record.index} answers={len(record.answers)} outcome={outcome} "
                      f"energies_ha={energies}", flush=True)
        if args.results:
            with open(args.results, "w") as out:
                json.dump([{"index": r.index, "energies_ha": [a.energy for s in r.answers for a in s],
                            "error": r.error, "fault_outcome": r.fault_outcome} for r in server.records], out)
        if args.keep_open:
            print("HOLDING connections open until killed", flush=True)
            threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    failed = [r for r in server.records if r.error]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(_main())
