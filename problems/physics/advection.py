"""Linear advection u_t + beta u_x = 0 (PDEBench's convention), exact, in physode or PDEBench layout.

This is the transport problem with the constant velocity c = -beta: u(x, t) = u0(x - beta t),
computed by the exact Fourier shift. The PDEBench layout reproduces PDEBench's 1D advection files
(``1D_Advection_Sols_beta{beta}.hdf5``): ``tensor`` (N, Nt, Nx) float32, ``x-coordinate`` at the
cell centres x_j = (j + 1/2) L / Nx, ``t-coordinate`` with Nt + 1 entries k dt_save (PDEBench also
stores the end of an output interval that has no snapshot) and the root attribute ``beta``.
PDEBench's own settings are sums of sines, Nx = 1024, t in [0, 2] (201 snapshots) and
beta in {0.1, 0.2, 0.4, 0.7, 1.0, 2.0, 4.0, 7.0}; PDEBench integrates numerically, this writer
exactly. :class:`physode.io.TrajectoryFile` reads both layouts.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import h5py
import numpy as np
from numpy.typing import ArrayLike

import physode
from physode.errors import InputError
from physode.io.atomic import atomic_path
from physode.problems.physics.common import Trajectories, check_samples, initial_state
from physode.problems.transport.simulate import (
    Constant,
    InitialCondition,
    check_times,
    grid,
    shift_periodic,
)

EQUATION = "u_t + beta u_x = 0"
SOLVER = "exact: Fourier phase shift u0(x - beta t), float64"


def _check_beta(beta: float) -> float:
    try:
        value = float(beta)
    except (TypeError, ValueError):
        raise InputError(f"beta must be a number, got {beta!r}") from None
    if not math.isfinite(value):
        raise InputError(f"beta must be finite, got {beta!r}")
    return value


def simulate_advection(
    n_samples: int,
    nx: int,
    times: ArrayLike,
    beta: float = 0.4,
    initial: str | InitialCondition | np.ndarray = "fourier",
    seed: int = 0,
    length: float = 1.0,
    cell_centred: bool = False,
) -> Trajectories:
    """Exact trajectories u0(x - beta t); ``cell_centred`` puts x at (j + 1/2) L / nx as PDEBench does.

    The file stores c = -beta over t (the transport convention) and ``beta`` as a root attribute.
    """
    beta = _check_beta(beta)
    check_samples(n_samples)
    x = grid(nx, length) + (0.5 * length / nx if cell_centred else 0.0)
    t = check_times(times)
    u0 = initial_state(initial, n_samples, x, seed, length)
    settings = {
        "pde": "advection", "beta": beta, "initial": initial if isinstance(initial, str) else "array",
        "n_samples": n_samples, "nx": nx, "times": t.tolist(), "length": length,
        "grid": "cell centres (j + 1/2) L / nx" if cell_centred else "x_j = j L / nx, periodic",
        "solver": SOLVER,
    }
    return Trajectories(
        shift_periodic(u0, -beta * t, length), t, x, EQUATION, settings,
        coefficients={"c": Constant(c0=-beta).c(t)}, parameters={"beta": beta},
    )


def write_pdebench(path: str | os.PathLike[str], data: Trajectories, *, seed: int) -> Path:
    """Write ``data`` (equally spaced times) in PDEBench's 1D layout, atomically.

    ``t-coordinate`` is PDEBench's ``arange(Nt + 1) * dt_save``; the constant parameters become
    root attributes (``beta``), and the generator settings are kept as JSON in ``generator``.
    """
    steps = np.diff(data.t)
    if len(data.t) < 2 or not np.allclose(steps, steps[0], rtol=1e-9, atol=0.0):
        raise InputError(
            "the PDEBench layout needs at least two equally spaced times (it stores only dt_save)"
        )
    with np.errstate(over="ignore"):
        tensor = data.u.astype(np.float32)
    if not np.all(np.isfinite(tensor)):
        raise InputError("u has NaN or Inf after conversion to float32; nothing was written")
    t_coordinate = np.arange(len(data.t) + 1) * steps[0]
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        f.create_dataset("tensor", data=tensor)
        f.create_dataset("x-coordinate", data=data.x.astype(np.float32))
        f.create_dataset("t-coordinate", data=t_coordinate.astype(np.float32))
        f.attrs.update(data.parameters)
        f.attrs.update(
            equation=data.equation, generator=json.dumps({**data.settings, "seed": seed}, sort_keys=True),
            seed=seed, physode_version=physode.__version__,
        )
    return Path(path)
