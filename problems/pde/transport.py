"""Transport (the paper's section 6 task): exact trajectories of dz/dt = c(t) dz/dx on a periodic domain.

A static-weight block can learn one velocity; an ANODEV2 block whose weights evolve can follow a
time-varying c(t). In the zoo this is advection with c(t) and nu = 0; ``physode simulate transport``
writes it to a trajectory file (see ``datasets/README.md``).

Domain and grid: x in [0, L) with period L (default L = 1), x_j = j L / Nx for j = 0 .. Nx - 1.

Exact solution by characteristics: z(x, t) = z0(x + C(t)) with C(t) = int_0^t c(s) ds. On the grid
this is a phase rotation of every Fourier mode, z^_k(t) = z^_k(0) exp(i k C(t)) with
k = 2 pi n / L, applied with real FFTs in float64. The result is the exact PDE solution for the
trigonometric interpolant of the sampled initial condition, so it is exact (to rounding) whenever
z0 is resolved on the grid; the built-in initial conditions are constructed so that they are
(Fourier modes below Nyquist, Gaussian widths of at least three grid cells).

The velocity is any coefficient of :mod:`.coefficients` (a closed-form family with its exact C(t),
a formula or a function integrated by quadrature) and the solver :func:`.spectral.propagate`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from physode.problems.pde.coefficients import CoefficientLike, coefficient, sample
from physode.problems.pde.domain import setup
from physode.problems.pde.initial_conditions import InitialCondition, initial_state
from physode.problems.pde.spectral import propagate
from physode.trajectories import Trajectories, write

EQUATION = "dz/dt = c(t) dz/dx"
SOLVER = "exact: Fourier phase shift exp(i k C(t)), float64"


def simulate_transport(
    n_samples: int,
    nx: int,
    times: ArrayLike,
    velocity: CoefficientLike,
    initial: str | InitialCondition | np.ndarray = "fourier",
    seed: int = 0,
    length: float = 1.0,
) -> Trajectories:
    """Exact transport trajectories z0(x + C(t)) for ``n_samples`` random initial conditions.

    ``initial`` is a family name (see INITIAL_CONDITIONS), a family object, or an array
    ``(n_samples, nx)`` of initial states on the grid. The same ``seed`` gives the same data.
    ``u`` is float64 ``(sample, time, x)`` with ``u[:, 0]`` the initial state; the velocity at
    the output times is the coefficient ``c``.
    """
    x, t = setup(n_samples, nx, times, length)
    c = coefficient("c", velocity)
    c_of_t, shifts = sample("c", c, t)
    z0 = initial_state(initial, n_samples, x, seed, length)
    settings = {
        "pde": "transport", "velocity": c.spec,
        "initial": initial if isinstance(initial, str) else "array", "n_samples": n_samples,
        "nx": nx, "times": t.tolist(), "length": length, "grid": "x_j = j L / nx, periodic",
        "solver": SOLVER,
    }
    return Trajectories(
        propagate(z0, shifts, length=length), t, x, EQUATION, settings, coefficients={"c": c_of_t}
    )


def simulate_transport_to_file(
    path: str | os.PathLike[str],
    n_samples: int,
    nx: int,
    times: ArrayLike,
    velocity: CoefficientLike,
    initial: str = "fourier",
    seed: int = 0,
    length: float = 1.0,
    test_fraction: float = 0.2,
    compression: str | None = None,
) -> Path:
    """Simulate and write a trajectory file (physode format) with a seeded random train/test split.

    The generator settings stored in the file are enough to regenerate it exactly.
    """
    data = simulate_transport(n_samples, nx, times, velocity, initial, seed, length)
    return write(path, data, seed=seed, test_fraction=test_fraction, compression=compression)
