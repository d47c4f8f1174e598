"""The physics benchmark's data and variants: the zoo's PDEs, PDEBench advection, and who fits them.

Each PDE's file is simulated deterministically (data seed ``DATA_SEED``) into ``--work``; the
PDEBench-layout advection files are written by the PDE package's PDEBench writer and checked
through the reader the fit uses.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from physode import trajectories
from physode.trajectories import TrajectoryFile
from physode.problems import pde

VARIANTS = ("anode", "neuralode", "anodev2")
PDEBENCH_VARIANTS = ("anode", "anodev2")
PDEBENCH_MODES = 16
N_SAMPLES, NX, NT, DATA_SEED, TEST_FRACTION = 160, 64, 41, 0, 0.2
# Linear PDEs: the transport benchmark's Fourier initial states (two sines, wavenumbers 1..8).
# Nonlinear PDEs: wavenumbers 1..3, so that 64 points resolve the steepened / sharpened solutions
# (with 1..8 every nonlinear file was flagged under-resolved: spectral tail 1e-2 .. 3e-1).
SMOOTH = pde.FourierSeries(max_wavenumber=3)
PDES: dict[str, dict[str, Any]] = {
    "diffusion": {
        "equation": "u_t = nu(t) u_xx", "coefficients": "nu(t) = 0.001 exp(1.5 t)", "t_final": 1.0,
        "initial": "fourier (k 1..8)",
        "simulate": lambda t: pde.simulate_diffusion(N_SAMPLES, NX, t, nu="exponential:c0=0.001,a=1.5",
                                                         seed=DATA_SEED),
    },
    "advection-diffusion": {
        "equation": "u_t = c(t) u_x + nu u_xx", "coefficients": "c(t) = 0.5 exp(1.5 t), nu = 0.001",
        "t_final": 1.0, "initial": "fourier (k 1..8)",
        "simulate": lambda t: pde.simulate_advection_diffusion(
            N_SAMPLES, NX, t, velocity="exponential:c0=0.5,a=1.5", nu=0.001, seed=DATA_SEED),
    },
    "burgers": {
        "equation": "u_t + u u_x = nu u_xx", "coefficients": "nu = 0.05", "t_final": 0.5,
        "initial": "fourier (k 1..3)",
        "simulate": lambda t: pde.simulate_burgers(N_SAMPLES, NX, t, nu=0.05, initial=SMOOTH, seed=DATA_SEED),
    },
    "fisher-kpp": {
        "equation": "u_t = D u_xx + r u (1 - u)", "coefficients": "D = 0.002, r = 5", "t_final": 1.0,
        "initial": "fourier (k 1..3) mapped onto [0, 1]",
        "simulate": lambda t: pde.simulate_fisher_kpp(N_SAMPLES, NX, t, diffusivity=0.002, rate=5.0,
                                                          initial=SMOOTH, seed=DATA_SEED),
    },
    "allen-cahn": {
        "equation": "u_t = eps^2 u_xx + u - u^3", "coefficients": "eps = 0.04", "t_final": 3.0,
        "initial": "fourier (k 1..3) mapped onto [-1, 1]",
        "simulate": lambda t: pde.simulate_allen_cahn(N_SAMPLES, NX, t, epsilon=0.04, initial=SMOOTH,
                                                          seed=DATA_SEED),
    },
}
# PDEBench 1D advection: u_t + beta u_x = 0 on [0, 1), sums of sines, Nx = 1024, t in [0, 2]
# (PDEBench stores 201 snapshots, dt = 0.01, and 10000 samples per beta; its loaders test on the
# first 10%). Here: 100 samples and every other PDEBench snapshot (101 times, dt = 0.02).
PDEBENCH = {"betas": (0.1, 0.4, 1.0), "n_samples": 100, "nx": 1024, "t_final": 2.0, "nt": 101,
            "initial": "fourier (k 1..8)", "seed": DATA_SEED}


def simulate(work: Path, name: str) -> tuple[Path, dict[str, Any]]:
    """The file of PDE ``name`` (deterministic), and what describes it (incl. the solver's spectral tail)."""
    spec = PDES[name]
    t = np.linspace(0.0, spec["t_final"], NT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tail is recorded and reported instead
        data = spec["simulate"](t)
    path = trajectories.write(work / f"{name}.h5", data, seed=DATA_SEED, test_fraction=TEST_FRACTION)
    u = data.u
    change = np.linalg.norm(u[:, -1] - u[:, 0], axis=1) / np.linalg.norm(u[:, 0], axis=1)
    info = {key: spec[key] for key in ("equation", "coefficients", "t_final", "initial")}
    info.update(n_samples=N_SAMPLES, nx=NX, nt=NT, spectral_tail=data.parameters.get("spectral_tail"),
                relative_change=float(change.mean()))
    return path, info


def simulate_pdebench(work: Path, beta: float) -> Path:
    """PDEBench-layout advection file for ``beta``, written by the PDE package's PDEBench writer."""
    t = np.linspace(0.0, PDEBENCH["t_final"], PDEBENCH["nt"])
    data = pde.simulate_advection(PDEBENCH["n_samples"], PDEBENCH["nx"], t, beta=beta, initial="fourier",
                                      seed=PDEBENCH["seed"], cell_centred=True)
    path = trajectories.write_pdebench(work / f"1D_Advection_Sols_beta{beta}.hdf5", data, seed=PDEBENCH["seed"])
    with TrajectoryFile(path) as f:  # the fit reads it back through the same reader
        assert f.layout == "pdebench", f.layout
        assert f.n_x == PDEBENCH["nx"] and f.n_times == PDEBENCH["nt"], (f.n_x, f.n_times)
    return path
