"""Linear advection u_t + beta u_x = 0 (PDEBench's convention), exact, in physode or PDEBench layout.

This is the transport problem with the constant velocity c = -beta: u(x, t) = u0(x - beta t),
computed by the exact Fourier shift. The PDEBench layout reproduces PDEBench's 1D advection files
(``1D_Advection_Sols_beta{beta}.hdf5``): ``tensor`` (N, Nt, Nx) float32, ``x-coordinate`` at the
cell centres x_j = (j + 1/2) L / Nx, ``t-coordinate`` with Nt + 1 entries k dt_save (PDEBench also
stores the end of an output interval that has no snapshot) and the root attribute ``beta``.
PDEBench's own settings are sums of sines, Nx = 1024, t in [0, 2] (201 snapshots) and
beta in {0.1, 0.2, 0.4, 0.7, 1.0, 2.0, 4.0, 7.0}; PDEBench integrates numerically, this writer
exactly; :func:`physode.trajectories.write_pdebench` writes the layout.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from physode.errors import InputError
from physode.problems.pde.coefficients import Constant
from physode.problems.pde.domain import check_samples, check_times, grid
from physode.problems.pde.initial_conditions import InitialCondition, initial_state
from physode.problems.pde.spectral import propagate
from physode.trajectories import Trajectories

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
        propagate(u0, -beta * t, length=length), t, x, EQUATION, settings,
        coefficients={"c": Constant(c0=-beta).c(t)}, parameters={"beta": beta},
    )
