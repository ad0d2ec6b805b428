#!/usr/bin/python3
"""`chorus reweight` as a drop-in for i-PI's `i-pi-committee-reweight`, against that tool's own
outputs stored in tests/data/reweight (made once by make_reference.py; CI has no i-PI):

  1. stdout has i-PI's layout, line for line and column for column; the mean and member columns
     agree with i-PI to 1e-10 relative (CEA) and 1e-8 (exact; i-PI uses float128 without a shift)
     through --json, which carries every digit; the error column is the committee spread with
     ddof 1, i-PI's (ddof 0) times sqrt(M/(M-1)).
  2. --index, --stride 2 as in i-PI; --stride -2 (which crashes i-PI's tool) gives what i-PI's
     functions give on the thinned observables.
  3. --multi-obs: mean and sigma_a as i-PI; sigma_aV and the total as i-PI's Eqs. 26-28 with the
     CEA arguments in the right order (i-PI's tool swaps them).
  4. chorus's extras (block errors, effective sample sizes, warnings) go to stderr, or to stdout
     only with --table / --json -; --temperature uses CODATA 2018 k_B; bad input fails cleanly.
"""
import json
import os
import re
import subprocess
import tempfile

import numpy as np

from e2e_common import check, check_close, parse_arguments, run_test

KT = 9.5004e-4  # Hartree, as make_reference.py
MEMBERS = 4
HARTREE_IN_EV = 27.211386245988
BOLTZMANN_EV_PER_K = 8.617333262e-5


class Reweight:
    def __init__(self, chorus, data):
        self.chorus = chorus
        self.data = data

    def run(self, *arguments, expect_code=0):
        result = subprocess.run([self.chorus, "reweight", *arguments], cwd=self.data, capture_output=True,
                                text=True, timeout=60)
        check(result.returncode == expect_code, f"chorus reweight {' '.join(arguments)}: exit code", expect_code,
              f"{result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}")
        return result

    def json(self, *arguments):
        return json.loads(self.run(*arguments, "--json", "-").stdout)


def reference(data, name):
    return np.atleast_2d(np.loadtxt(os.path.join(data, name)))


def field_layout(line):
    """Where each field starts and ends: the layout, not the digits."""
    return [(m.start(), m.end()) for m in re.finditer(r"\S+", line)]


def check_ipi_layout(ours, theirs, what):
    ours_lines, their_lines = ours.splitlines(), theirs.splitlines()
    check(len(ours_lines) == len(their_lines), f"{what}: number of lines", len(their_lines), len(ours_lines))
    check(ours_lines[0] == their_lines[0], f"{what}: the '#' header line", their_lines[0], ours_lines[0])
    for ours_line, their_line in zip(ours_lines[1:], their_lines[1:]):
        check(field_layout(ours_line) == field_layout(their_line) and len(ours_line) == len(their_line),
              f"{what}: column layout", repr(their_line), repr(ours_line))


def check_rows(result_json, ref, rtol, what):
    """i-PI's rows: mean over members, std ddof 0, members. Mean and members to rtol of the row's
    scale; the error column after converting i-PI's ddof 0 to chorus's ddof 1."""
    ddof_factor = np.sqrt(MEMBERS / (MEMBERS - 1))
    observables = result_json["observables"]
    check(len(observables) == ref.shape[0], f"{what}: number of observables", ref.shape[0], len(observables))
    for k, (entry, row) in enumerate(zip(observables, ref)):
        got = np.array([entry["member_mean"], *entry["member_averages"]])
        check_close(got, np.array([row[0], *row[2:]]), rtol, f"{what}: observable {k} mean and member averages")
        check_close(entry["committee_spread"], row[1] * ddof_factor, 1e-9,
                    f"{what}: observable {k} committee spread (ddof 1 = i-PI's ddof 0 x sqrt(M/(M-1)))")


def check_stdout_numbers(stdout, ref, rtol, what):
    """stdout carries 9 significant digits; it must say what the full-precision reference says."""
    ddof_factor = np.sqrt(MEMBERS / (MEMBERS - 1))
    rows = np.atleast_2d(np.loadtxt(stdout.splitlines()))
    expected = ref.copy()
    expected[:, 1] *= ddof_factor
    for k in range(ref.shape[0]):
        check_close(rows[k], expected[k], max(rtol, 1e-8), f"{what}: stdout row {k}")


def drop_in(tool, data):
    for name, flags, ref_name, rtol in [("cea", [], "cea.ref", 1e-10), ("direct", ["--direct"], "direct.ref", 1e-8)]:
        arguments = ["potentials.dat", "observables.dat", "--kt", repr(KT), *flags]
        result = tool.run(*arguments)
        with open(os.path.join(data, f"ipi_{name}.out")) as f:
            check_ipi_layout(result.stdout, f.read(), name)
        ref = reference(data, ref_name)
        check_stdout_numbers(result.stdout, ref, rtol, name)
        check_rows(tool.json(*arguments), ref, rtol, name)
        check("statistical error" not in result.stdout and "effective sample size" in result.stderr,
              f"{name}: chorus's extras on stderr, not stdout", "stderr", result.stdout)
    print("ok: CEA (1e-10) and exact (1e-8) agree with i-PI's tool; layout identical; error column ddof 1")

    result = tool.run("potentials.dat", "observables.dat", "--kt", repr(KT), "--index", "1")
    with open(os.path.join(data, "ipi_index1.out")) as f:
        ipi = f.read()
    check_ipi_layout(result.stdout, ipi, "--index 1")
    check_rows(tool.json("potentials.dat", "observables.dat", "--kt", repr(KT), "--index", "1"),
               reference(data, "cea.ref")[1:2], 1e-10, "--index 1")

    stride_ref = reference(data, "stride.ref")
    thinned_potentials = ["potentials_every_step.dat", "observables_every_other_step.dat", "--stride", "2"]
    with open(os.path.join(data, "ipi_stride2.out")) as f:
        check_ipi_layout(tool.run(*thinned_potentials, "--kt", repr(KT)).stdout, f.read(), "--stride 2")
    check_rows(tool.json(*thinned_potentials, "--kt", repr(KT)), stride_ref, 1e-10, "--stride 2")
    thinned_observables = ["potentials_every_other_step.dat", "observables_every_step.dat", "--stride", "-2"]
    check_rows(tool.json(*thinned_observables, "--kt", repr(KT)), stride_ref, 1e-10, "--stride -2")
    print("ok: --index 1, --stride 2 as i-PI; --stride -2 (i-PI crashes) thins the observables instead")


def multi_obs(tool, data):
    arguments = ["potentials.dat", "observables_multi.dat", "--kt", repr(KT), "--multi-obs"]
    result = tool.run(*arguments)
    with open(os.path.join(data, "ipi_multi_swapped.out")) as f:
        check_ipi_layout(result.stdout, f.read(), "--multi-obs")
    fixed = reference(data, "multi.ref")[0]            # mean, total, sigma_a, sigma_aV
    shipped = reference(data, "multi_ipi_swapped.ref")[0]
    c = tool.json(*arguments)["observable_committee"]
    got = np.array([c["mean"], c["total"], c["sigma_a"], c["sigma_av"]])
    check_close(got, fixed, 1e-10, "--multi-obs: mean, total, sigma_a, sigma_aV (Eqs. 26-28, arguments in order)")
    check_close(got[[0, 2]], shipped[[0, 2]], 1e-10, "--multi-obs: mean and sigma_a as i-PI's tool prints them")
    check(abs(got[3] - shipped[3]) > 0.1 * got[3], "--multi-obs: sigma_aV differs from i-PI's swapped-argument value",
          f"not {shipped[3]}", got[3])
    check_close(np.loadtxt(result.stdout.splitlines()), fixed, 1e-8, "--multi-obs: stdout row")
    print("ok: --multi-obs: mean and sigma_a as i-PI; sigma_aV and total with CEA(pot, obs) in the right order")


def extras(tool, data):
    base = ["potentials.dat", "observables.dat"]
    table = tool.run(*base, "--kt", repr(KT), "--table")
    check("block size" in table.stdout and "effective sample size" in table.stdout and table.stderr == "",
          "--table: the readable table on stdout, nothing on stderr", "table", f"{table.stdout!r} / {table.stderr!r}")
    by_temperature = tool.json(*base, "--temperature", "300")
    check_close(by_temperature["kt_hartree"], 300 * BOLTZMANN_EV_PER_K / HARTREE_IN_EV, 1e-14,
                "--temperature 300: k_B T in Hartree with CODATA 2018")
    by_kt = tool.json(*base, "--kt", repr(by_temperature["kt_hartree"]))
    check_close([o["member_averages"] for o in by_kt["observables"]],
                [o["member_averages"] for o in by_temperature["observables"]], 1e-13,
                "--temperature T and --kt k_B T give the same averages")
    entry = by_kt["observables"][0]
    check(entry["block_size"] >= 1 and entry["blocks"] >= 2 and entry["statistical_error"] > 0,
          "--json: statistical error with block size and count", "present", entry)
    check(len(by_kt["effective_sample_size"]) == MEMBERS, "--json: one effective sample size per member",
          MEMBERS, by_kt["effective_sample_size"])

    # At a hundredth of the temperature the exact weights collapse onto a few frames.
    cold = tool.run(*base, "--kt", repr(KT / 100), "--direct")
    check("warning" in cold.stderr and "effective sample size" in cold.stderr and "below 10 %" in cold.stderr,
          "--direct at low kT warns about the effective sample size on stderr", "a warning", cold.stderr)
    check("warning" not in cold.stdout, "warnings stay off stdout", "", cold.stdout)
    print("ok: --table, --json -, --temperature (CODATA 2018), effective-sample-size warning on stderr")


def bad_input(tool, data, workspace):
    ragged = os.path.join(workspace, "ragged.dat")
    with open(ragged, "w") as f:
        f.write("1 2 3\n4 5\n")
    for arguments, needle in [
        (["missing.dat", "observables.dat", "--kt", "1e-3"], "missing.dat"),
        (["potentials.dat", "observables.dat"], "--kt"),
        (["potentials.dat", "observables.dat", "--kt", "1e-3", "--stride", "0"], "--stride 0"),
        (["potentials.dat", ragged, "--kt", "1e-3"], "ragged.dat:2"),
        (["potentials.dat", "observables_every_step.dat", "--kt", "1e-3"], "frames"),
        (["potentials.dat", "observables.dat", "--kt", "1e-3", "--index", "3"], "--index 3"),
        (["potentials.dat", "observables.dat", "--kt", "1e-3", "--index", "0", "--multi-obs"], "observable models"),
    ]:
        result = tool.run(*arguments, expect_code=2)
        check(needle in result.stderr and "Traceback" not in result.stderr and result.stdout == "",
              f"chorus reweight {' '.join(arguments)}: one clear error naming '{needle}'", needle, result.stderr)
    print("ok: missing file, no temperature, --stride 0, ragged rows, frame mismatch, bad --index: exit 2, clear message")


def main():
    args = parse_arguments(__doc__.split("\n\n")[0])
    data = os.path.join(args.repo_root, "tests", "data", "reweight")
    tool = Reweight(args.chorus, data)
    with tempfile.TemporaryDirectory(prefix="chorus-reweight-") as workspace:
        drop_in(tool, data)
        multi_obs(tool, data)
        extras(tool, data)
        bad_input(tool, data, workspace)


if __name__ == "__main__":
    run_test(main)
