"""The one workaround chorus's tests and demo apply to ASE 3.22's i-PI server.

ASE 3.22's IPIProtocol.sendrecv_force returns the extras of FORCEREADY as a numpy int8 array, and
IPIProtocol.calculate then tests it with `if morebytes:`, which raises "The truth value of an
array with more than one element is ambiguous" as soon as a client sends more than one byte of
extras. chorus sends its committee JSON there by default.

Stock ASE users therefore need `chorus serve --extras none` (zero-length extras work unpatched).
With `apply()`, sendrecv_force returns bytes, calculate works, and the extras end up in
`calc.results['morebytes']`; `extras_json(calc)` decodes them.
"""
import json

from ase.calculators import socketio

_original_sendrecv_force = socketio.IPIProtocol.sendrecv_force


def _sendrecv_force_returning_bytes(self):
    energy, forces, virial, morebytes = _original_sendrecv_force(self)
    return energy, forces, virial, bytes(morebytes)


def apply():
    """Makes ASE's socket server accept extras of any length (idempotent)."""
    socketio.IPIProtocol.sendrecv_force = _sendrecv_force_returning_bytes


def restore():
    """Back to stock ASE behaviour."""
    socketio.IPIProtocol.sendrecv_force = _original_sendrecv_force


def is_applied():
    return socketio.IPIProtocol.sendrecv_force is _sendrecv_force_returning_bytes


def extras_json(calc):
    """The client's extras of the last calculation as parsed JSON (None if it sent none)."""
    extras = calc.results.get("morebytes")
    if not extras:
        return None
    return json.loads(bytes(extras).decode("utf-8"))
