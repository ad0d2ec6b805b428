#!/usr/bin/python3
"""Rebuilds the seed corpora in corpus/<target>/ from the project's real inputs.

Run from anywhere: /usr/bin/python3 tests/fuzz/make_corpus.py. Seeds are small, real inputs:
the golden i-PI messages of tests/data/protocol (alone and chained into conversations), the extxyz
test files and two waters of the shipped training data, the pretrained argon model files and a
tiny linear committee, and control-API request lines.
"""
import hashlib
import json
import pathlib
import shutil

here = pathlib.Path(__file__).resolve().parent
root = here.parents[1]
protocol = root / "tests" / "data" / "protocol"


def golden(name):
    lines = (protocol / f"{name}.hex").read_text().splitlines()
    return bytes.fromhex(" ".join(line for line in lines if not line.startswith("#")))


def write(target, name, content):
    folder = here / "corpus" / target
    folder.mkdir(parents=True, exist_ok=True)
    data = content.encode() if isinstance(content, str) else content
    (folder / name).write_bytes(data)


def server_decoder():
    for name in ["status", "init", "init_ase", "init_batched", "posdata_single", "getforce", "exit"]:
        write("server_decoder", name, golden(name))
    single = golden("status") + golden("init") + golden("posdata_single") + golden("status") + golden("getforce")
    write("server_decoder", "conversation_single", single + golden("exit"))
    batched = golden("init_batched") + golden("posdata_batched") + golden("getforce")
    write("server_decoder", "conversation_batched", batched + golden("init") + golden("posdata_single"))


def client_decoder():
    # First byte: batch size selector (0 = single layout, k = B of k structures).
    for name in ["ready", "havedata", "needinit", "forceready_single", "forceready_extras"]:
        write("client_decoder", name, b"\0" + golden(name))
    write("client_decoder", "forceready_batched", b"\2" + golden("forceready_batched"))
    write("client_decoder", "conversation",
          b"\0" + golden("ready") + golden("havedata") + golden("forceready_extras") + golden("needinit"))


def init_parameters():
    for i, text in enumerate(["mode:test", "\0", "mode:test, batch_size:2", "batch_size:64",
                              " a : b ,, c,batch_size: 3 ", "batch_size:0", "batch_size:-1", "x:1\0batch_size:9"]):
        write("init_parameters", f"init_{i}", text)


def extxyz():
    for path in sorted((root / "tests" / "data" / "extxyz").glob("*.xyz")):
        write("extxyz", path.name, path.read_bytes())
    lines = (root / "models" / "pretrained" / "data" / "liquid-water-qtip4pf.xyz").read_text().splitlines()
    write("extxyz", "two_waters.xyz", "\n".join(["6", lines[1]] + lines[2:8]) + "\n")


def tiny_linear_committee(features, feature_count, species):
    members = [{"baselines": [0.1 * (k + 1)] * len(species),
                "weights": [[0.01 * (k + 1) * (j + 1) for j in range(feature_count)] for _ in species]}
               for k in range(2)]
    document = {"kind": "linear-committee", "format_version": 1, "units": {"energy": "eV", "length": "angstrom"},
                "species": species, "features": dict(features, species=species), "feature_count": feature_count,
                "alpha": 1.5, "members": members, "training": {}}
    # The fuzzer repairs the checksum; this one is only a placeholder of the right shape.
    document["checksum"] = {"algorithm": "sha256", "value": hashlib.sha256(b"").hexdigest()}
    return json.dumps(document, indent=1)


def model_file():
    for path in sorted((root / "models" / "pretrained").glob("argon-*.json")):
        write("model_file", path.name, path.read_bytes())
    base = {"cutoff": 4.0, "cutoff_function": {"type": "cosine", "width": 0.5},
            "radial_basis": {"spline_accuracy": 1e-6, "type": "laplacian-eigenstate"}}
    write("model_file", "linear_nu1.json", tiny_linear_committee(dict(base, nu1={"n_max": 3}), 3, [18]))
    write("model_file", "linear_nu2.json",
          tiny_linear_committee(dict(base, nu1={"n_max": 2}, nu2={"n_max": 2, "l_max": 1}), 8, [1, 8]))


def control_request():
    for i, line in enumerate(['{"request": "status"}', '{"request": "uncertainty", "last": 5, "id": 7}',
                              '{"request": "reweight", "temperature": 300, "beads": 4, "token": "s3cret"}',
                              '{"request": "capture", "threshold": 0.01, "quantity": "max_force_sigma", '
                              '"per_minute": 5}', '{"request": "capture", "enable": false}',
                              '{"request": "metrics", "id": "a"}\r']):
        write("control_request", f"request_{i}", line)


if __name__ == "__main__":
    shutil.rmtree(here / "corpus", ignore_errors=True)
    for make in [server_decoder, client_decoder, init_parameters, extxyz, model_file, control_request]:
        make()
