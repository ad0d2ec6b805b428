#!/usr/bin/python3
"""Cross-checks the golden i-PI byte files in this folder against writers and readers that share
no code with chorus: Python's struct module (the layouts of shared/protocol.md, as i-PI's
ipi/interfaces/sockets.py and drivers/py/driver.py write and read them) and ASE's own
IPIProtocol. Run it after regenerating the files: `/usr/bin/python3 crosscheck.py`."""
import pathlib
import struct
import sys

import numpy as np
from ase.calculators.socketio import IPIProtocol

HERE = pathlib.Path(__file__).resolve().parent


def golden(name):
    words = []
    for line in (HERE / f"{name}.hex").read_text().splitlines():
        if line and not line.startswith("#"):
            words += line.split()
    return bytes(int(w, 16) for w in words)


def header(name):
    return name.encode("ascii").ljust(12)


def f64(*values):
    return struct.pack(f"<{len(values)}d", *values)


def i32(value):
    return struct.pack("<i", value)


def init(replica, text):
    data = text.encode()
    return header("INIT") + i32(replica) + i32(len(data)) + data


def forceready(energy, atoms, forces, virial, extras):
    return header("FORCEREADY") + f64(energy) + i32(atoms) + f64(*forces) + f64(*virial) + i32(len(extras)) + extras


EXPECTED = {
    "status": header("STATUS"),
    "getforce": header("GETFORCE"),
    "exit": header("EXIT"),
    "ready": header("READY"),
    "needinit": header("NEEDINIT"),
    "havedata": header("HAVEDATA"),
    "init": init(3, "mode:test"),
    "init_batched": init(7, "mode:test, batch_size:2"),
    "init_ase": init(0, "\0"),
    # single: h, h^-1, nat, positions
    "posdata_single": header("POSDATA") + f64(2, 0, 0, 0, 4, 0, 0, 0, 8) + f64(0.5, 0, 0, 0, 0.25, 0, 0, 0, 0.125)
    + i32(2) + f64(0.5, -1.25, 3, 1, 2, -0.125),
    # batched: nat, B x (h, h^-1), B x positions
    "posdata_batched": header("POSDATA") + i32(2)
    + f64(0, 2, 0, 4, 0, 0, 0, 0, 8) + f64(0, 0.25, 0, 0.5, 0, 0, 0, 0, 0.125)
    + f64(*[0] * 9) + f64(*[0] * 9)
    + f64(1, 2, 3, 4, 5, 6) + f64(-1, -2, -3, -4, -5, -6),
    "forceready_single": forceready(-1.5, 2, (0.25, -0.5, 1, -1, 0.5, -0.25), (1, 2, 3, 2, 4, 5, 3, 5, 6), b""),
    "forceready_extras": forceready(-1.5, 2, (0.25, -0.5, 1, -1, 0.5, -0.25), (1, 2, 3, 2, 4, 5, 3, 5, 6),
                                    b'{"committee_pot":[1,2]}'),
    # batched: B energies, nat, B x forces, B x virials, B x (len, extras)
    "forceready_batched": header("FORCEREADY") + f64(-2, -4) + i32(1) + f64(1, 2, 3) + f64(-1, -2, -3)
    + f64(1, 0, 0, 0, 1, 0, 0, 0, 1) + f64(2, 0, 0, 0, 2, 0, 0, 0, 2)
    + i32(7) + b'{"a":1}' + i32(0),
}


class FakeSocket:
    """Records what ASE sends and replays bytes for ASE to read."""

    def __init__(self, incoming=b""):
        self.sent = b""
        self.incoming = incoming

    def sendall(self, data):
        self.sent += bytes(data)

    def recv(self, n):
        chunk, self.incoming = self.incoming[:n], self.incoming[n:]
        return chunk


def check_with_ase():
    # ASE writes INIT and headers itself.
    sock = FakeSocket()
    IPIProtocol(sock).sendinit()
    assert sock.sent == golden("init_ase"), "ASE's INIT differs from init_ase.hex"
    sock = FakeSocket()
    IPIProtocol(sock).sendmsg("GETFORCE")
    assert sock.sent == golden("getforce")

    # ASE reads chorus's POSDATA: it transposes h back into row vectors and converts to Å.
    sock = FakeSocket(golden("posdata_single")[12:])
    cell, _, positions = IPIProtocol(sock).recvposdata()
    from ase.units import Bohr
    assert np.allclose(cell / Bohr, np.diag([2, 4, 8]))
    assert np.allclose(positions / Bohr, [[0.5, -1.25, 3], [1, 2, -0.125]])

    # ASE reads chorus's FORCEREADY as its server would (after sending GETFORCE).
    sock = FakeSocket(golden("forceready_single"))
    energy, forces, virial, extras = IPIProtocol(sock).sendrecv_force()
    from ase.units import Ha
    assert np.isclose(energy / Ha, -1.5)
    assert np.allclose(forces / (Ha / Bohr), [[0.25, -0.5, 1], [-1, 0.5, -0.25]])
    assert np.allclose(virial / Ha, [[1, 2, 3], [2, 4, 5], [3, 5, 6]])  # symmetric: transpose-proof
    assert extras == b""


def main():
    failures = 0
    for name, expected in EXPECTED.items():
        actual = golden(name)
        if actual != expected:
            failures += 1
            print(f"MISMATCH {name}: {len(actual)} bytes in file, {len(expected)} expected")
    check_with_ase()
    print(f"{len(EXPECTED) - failures}/{len(EXPECTED)} golden files match struct.pack; ASE agrees")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
