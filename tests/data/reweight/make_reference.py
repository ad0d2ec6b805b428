#!/usr/bin/python3
"""Generates the golden inputs and outputs of `chorus reweight` from i-PI's own tool.

Run ONCE, by hand, with an i-PI checkout (CI cannot fetch i-PI; the outputs are committed):

    /usr/bin/python3 tests/data/reweight/make_reference.py --ipi /path/to/i-pi

See README.md in this directory for what each file is and how the tests use it.
"""
import argparse
import importlib.machinery
import importlib.util
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
KT = 9.5004e-4  # Hartree, about 300 K; passed to i-PI's tool and to chorus as --kt
FRAMES = 1500
MEMBERS = 4
OBS_MODELS = 5


def ar1(rng, n, phi, sigma):
    """A correlated series, so that the data look like a trajectory and not like iid draws."""
    x = np.empty(n)
    x[0] = rng.normal(0.0, sigma / np.sqrt(1.0 - phi * phi))
    for t in range(1, n):
        x[t] = phi * x[t - 1] + rng.normal(0.0, sigma)
    return x


def synthetic(rng, frames):
    """Potentials (Hartree) of a committee whose members disagree by a few kT, with an absolute
    offset like a condensed-phase system's (-1100 Ha), and observables correlated with them."""
    q = ar1(rng, frames, 0.9, 0.3)
    base = -1100.0 + 0.02 * ar1(rng, frames, 0.95, 0.1)
    spring = np.array([0.8, 1.0, 1.15, 1.3]) * 3.0e-3       # member i adds k_i q²/2
    offsets = np.array([2.0e-4, -1.0e-4, 0.5e-4, -1.5e-4])
    pot = base[:, None] + 0.5 * spring[None, :] * q[:, None] ** 2 + offsets[None, :] \
        + 2.0e-5 * rng.normal(size=(frames, MEMBERS))
    obs = np.column_stack([
        q ** 2,                                        # positive, strongly coupled to ΔV
        1000.0 + 3.0 * q + rng.normal(0.0, 0.5, frames),  # large offset, weakly coupled
        q * np.cos(q) + 0.1 * rng.normal(size=frames),    # mean near zero
    ])
    # A property committee: each model a slightly different function of the same coordinate.
    slopes = 1.0 + 0.05 * np.arange(OBS_MODELS)
    obs_multi = slopes[None, :] * q[:, None] ** 2 + 0.01 * rng.normal(size=(frames, OBS_MODELS))
    return pot, obs, obs_multi


def load_ipi_tool(ipi):
    path = os.path.join(ipi, "bin", "i-pi-committee-reweight")
    loader = importlib.machinery.SourceFileLoader("ipi_committee_reweight", path)
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def run_ipi(ipi, arguments, name):
    """i-PI's tool as users run it; its stdout is the drop-in layout chorus must reproduce."""
    env = dict(os.environ, PYTHONPATH=ipi)
    tool = os.path.join(ipi, "bin", "i-pi-committee-reweight")
    out = subprocess.run([sys.executable, tool, *arguments, "--kt", repr(KT)], cwd=HERE, env=env,
                         check=True, capture_output=True, text=True).stdout
    with open(os.path.join(HERE, name), "w") as f:
        f.write(out)


def save(name, rows, header):
    np.savetxt(os.path.join(HERE, name), np.atleast_2d(rows), fmt="%.17e", header=header)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ipi", required=True, help="root of an i-PI checkout (with bin/ and ipi/)")
    args = parser.parse_args()
    sys.path.insert(0, args.ipi)
    tool = load_ipi_tool(args.ipi)

    rng = np.random.default_rng(20261123)
    pot, obs, obs_multi = synthetic(rng, FRAMES)
    fmt = "%.17e"
    np.savetxt(os.path.join(HERE, "potentials.dat"), pot, fmt=fmt,
               header="committee potentials, Hartree: one row per frame, one column per member")
    np.savetxt(os.path.join(HERE, "observables.dat"), obs, fmt=fmt,
               header="observables: one row per frame, one column per observable")
    np.savetxt(os.path.join(HERE, "observables_multi.dat"), obs_multi, fmt=fmt,
               header="one observable predicted by a committee of 5 models: one column per model")
    # Stride inputs: potentials printed twice as often as the observables (--stride 2), and
    # observables printed twice as often as the potentials (--stride -2, which crashes i-PI's tool).
    pot2, obs2, _ = synthetic(np.random.default_rng(7), 2 * 400)
    np.savetxt(os.path.join(HERE, "potentials_every_step.dat"), pot2, fmt=fmt, header="800 frames")
    np.savetxt(os.path.join(HERE, "observables_every_other_step.dat"), obs2[::2], fmt=fmt, header="400 frames")
    np.savetxt(os.path.join(HERE, "potentials_every_other_step.dat"), pot2[::2], fmt=fmt, header="400 frames")
    np.savetxt(os.path.join(HERE, "observables_every_step.dat"), obs2, fmt=fmt, header="800 frames")

    columns = "one row per observable: mean over members, committee std (ddof 0, as i-PI), member averages"
    cea, _ = tool.CEA(pot, obs, KT)
    save("cea.ref", np.column_stack([cea.mean(axis=1), cea.std(axis=1), cea]), "i-PI CEA(), " + columns)
    direct, _ = tool.direct_reweight(pot, obs, KT)
    direct = np.asarray(direct, dtype=np.float64)
    save("direct.ref", np.column_stack([direct.mean(axis=1), direct.std(axis=1), direct]),
         "i-PI direct_reweight() (float128 weights), " + columns)
    strided, _ = tool.CEA(pot2[::2], obs2[::2], KT)
    save("stride.ref", np.column_stack([strided.mean(axis=1), strided.std(axis=1), strided]),
         "i-PI CEA() on potentials[::2] and observables[::2] (what --stride 2 and --stride -2 mean), " + columns)

    # Multiple observable models. i-PI's uncertainty_CEA_multiple_models() calls CEA(obs, pot, kT)
    # with the arguments swapped; the reference below is its own formula with CEA(pot, obs, kT).
    # The tool's (wrong) output is stored too, to show what changes.
    mean, s2a, s2av, s2t = tool.uncertainty_CEA_multiple_models(pot, obs_multi, KT)
    save("multi_ipi_swapped.ref", [mean, np.sqrt(s2t), np.sqrt(s2a), np.sqrt(s2av)],
         "i-PI uncertainty_CEA_multiple_models() as shipped (CEA arguments swapped): mean, error, sigma_a, sigma_aV")
    members, _ = tool.CEA(pot, obs_multi, KT)  # (observable models) x (potential members)
    m, n = pot.shape[1], obs_multi.shape[1]
    fac_a = (m * (n - 1)) / (m * n - 1)
    fac_av = ((m - 1) * n) / (m * n - 1)
    s2a = np.var(np.mean(obs_multi, axis=0), ddof=1)
    s2av = np.mean(np.var(members, axis=1, ddof=1))
    save("multi.ref", [np.mean(obs_multi), np.sqrt(fac_a * s2a + fac_av * s2av), np.sqrt(s2a), np.sqrt(s2av)],
         "i-PI's Eqs. 26-28 with CEA(pot, obs, kT) in the right order: mean, error, sigma_a, sigma_aV")

    run_ipi(args.ipi, ["potentials.dat", "observables.dat"], "ipi_cea.out")
    run_ipi(args.ipi, ["potentials.dat", "observables.dat", "--direct"], "ipi_direct.out")
    run_ipi(args.ipi, ["potentials.dat", "observables.dat", "--index", "1"], "ipi_index1.out")
    run_ipi(args.ipi, ["potentials_every_step.dat", "observables_every_other_step.dat", "--stride", "2"],
            "ipi_stride2.out")
    run_ipi(args.ipi, ["potentials.dat", "observables_multi.dat", "--multi-obs"], "ipi_multi_swapped.out")
    print("written to", HERE)


if __name__ == "__main__":
    main()
