"""What every simulator of the zoo shares: seeded initial states, checks, and the trajectory file.

Initial conditions are the transport problem's families (``fourier``, ``gaussian``, ``windowed``,
see :data:`physode.problems.transport.INITIAL_CONDITIONS`), drawn with ``default_rng(seed)``; a PDE
whose state must lie in an interval (Fisher-KPP in [0, 1], Allen-Cahn in [-1, 1]) rescales each
sample affinely onto it.
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from physode.errors import InputError
from physode.io.trajectories import make_test_mask, write_trajectories
from physode.problems.physics.spectral import NonlinearTerm, integrate_etdrk4, spectral_tail
from physode.problems.transport.simulate import InitialCondition, check_times, grid, initial_profile

STEP_FRACTION = 0.1
"""Default internal step of the ETDRK4 solvers: 0.1 / (largest rate of the nonlinear term)."""

RESOLUTION_WARNING = 1e-4
"""Spectral tail (see :func:`spectral.spectral_tail`) above which a simulator warns: under-resolved.

Measured on Burgers and reaction-diffusion data: a tail of 2e-5 went with a maximum error of 1e-7
against a 4x finer grid, 4e-4 with 1e-5; so 1e-4 is roughly an error of 1e-6.
"""


@dataclass(frozen=True)
class Trajectories:
    """Simulated data and everything the trajectory file records about it.

    ``u`` is float64 (sample, t, x); ``coefficients`` are time-varying PDE coefficients over ``t``
    (stored as variables), ``parameters`` constant ones (stored as root attributes) and
    ``settings`` the generator settings (stored as JSON), enough to regenerate the data.
    """

    u: np.ndarray
    t: np.ndarray
    x: np.ndarray
    equation: str
    settings: dict[str, Any]
    coefficients: dict[str, np.ndarray] = field(default_factory=dict)
    parameters: dict[str, float] = field(default_factory=dict)


def check_samples(n_samples: int) -> None:
    if not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise InputError(f"n_samples must be a positive integer, got {n_samples!r}")


def positive(name: str, value: float) -> float:
    """``value`` as a float if it is positive and finite, else one InputError naming ``name``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {value!r}") from None
    if not (math.isfinite(number) and number > 0):
        raise InputError(f"{name} must be positive and finite, got {value!r}")
    return number


def setup(n_samples: int, nx: int, times: ArrayLike, length: float) -> tuple[np.ndarray, np.ndarray]:
    """Check the sizes and return the periodic grid x_j = j L / nx and the output times (t_0 = 0)."""
    check_samples(n_samples)
    return grid(nx, length), check_times(times)


def initial_state(
    initial: str | InitialCondition | np.ndarray,
    n_samples: int,
    x: np.ndarray,
    seed: int,
    length: float,
    value_range: tuple[float, float] | None = None,
) -> np.ndarray:
    """Initial states (n_samples, nx) in float64: a seeded draw from a family, or a given array.

    With ``value_range = (low, high)`` a drawn sample is mapped affinely so that its minimum is
    ``low`` and its maximum ``high``; a given array is used as it is.
    """
    nx = len(x)
    if isinstance(initial, np.ndarray):
        u0 = np.asarray(initial, dtype=np.float64)
        if u0.shape != (n_samples, nx) or not np.all(np.isfinite(u0)):
            raise InputError(
                f"initial array must be finite with shape (n_samples, nx) = {(n_samples, nx)}, "
                f"got shape {u0.shape}"
            )
        return u0
    u0 = initial_profile(initial, n_samples, nx, seed, length)(x)
    if value_range is None:
        return u0
    low, high = value_range
    u_min, u_max = u0.min(axis=1, keepdims=True), u0.max(axis=1, keepdims=True)
    spread = np.maximum(u_max - u_min, np.finfo(np.float64).tiny)
    return low + (high - low) * (u0 - u_min) / spread


def warn_if_under_resolved(label: str, tail: float) -> None:
    """Warn (not fail) when the spectral tail says the grid does not resolve the solution."""
    if tail > RESOLUTION_WARNING:
        warnings.warn(
            f"{label}: the solution is under-resolved (spectral tail {tail:.1e} of the peak in the "
            f"top third of the evolved modes, want < {RESOLUTION_WARNING:g}); raise --nx, or make "
            "the solution smoother (larger viscosity, diffusivity or epsilon)",
            stacklevel=4,  # the caller of simulate_<pde>
        )


def solve_semilinear(
    pde: str,
    equation: str,
    parameters: dict[str, float],
    *,
    u0: np.ndarray,
    x: np.ndarray,
    t: np.ndarray,
    length: float,
    linear: np.ndarray,
    nonlinear: NonlinearTerm,
    nonlinear_rate: float,
    kept: np.ndarray | None = None,
    dt: float | None = None,
    initial: str | InitialCondition | np.ndarray = "array",
    progress: bool = False,
) -> Trajectories:
    """Integrate u_t = L u + N(u) with ETDRK4 and package the result with its settings.

    ``linear`` is the diagonal Fourier symbol L(k), ``nonlinear`` maps rfft coefficients to those
    of N(u), ``kept`` marks the modes a dealiased N evolves. The internal step is ``dt`` or, by
    default, STEP_FRACTION / ``nonlinear_rate`` (the stiff linear part is integrated exactly,
    so only the nonlinearity limits it); it is shortened so that the output times are hit exactly.
    The resolution of the computed states (t > 0) is recorded as the root attribute
    ``spectral_tail`` and a warning is issued when it is above RESOLUTION_WARNING.
    """
    max_step = STEP_FRACTION / max(nonlinear_rate, 1e-300) if dt is None else positive("dt", dt)
    u = integrate_etdrk4(u0, linear, nonlinear, t, max_step, label=pde, progress=progress)
    tail = spectral_tail(u[:, 1:], kept) if len(t) > 1 else 0.0  # the solver's output, not the given u0
    warn_if_under_resolved(pde, tail)
    settings = {
        "pde": pde, **parameters, "initial": initial if isinstance(initial, str) else "array",
        "n_samples": u.shape[0], "nx": len(x), "times": t.tolist(), "length": length,
        "dt": max_step,
        "solver": "pseudo-spectral float64, ETDRK4 (Cox & Matthews 2002) with contour-integral "
        "coefficients (Kassam & Trefethen 2005)" + ("" if kept is None else ", 2/3-rule dealiasing"),
    }
    return Trajectories(u, t, x, equation, settings, parameters={**parameters, "spectral_tail": tail})


def write(
    path: str | os.PathLike[str],
    data: Trajectories,
    *,
    seed: int,
    test_fraction: float = 0.2,
    compression: str | None = None,
) -> Path:
    """Write ``data`` as a physode trajectory file with a seeded random train/test split."""
    mask = make_test_mask(data.u.shape[0], test_fraction, seed)
    settings = {**data.settings, "seed": seed, "test_fraction": test_fraction}
    return write_trajectories(
        path, data.u, data.t, data.x, equation=data.equation, coefficients=data.coefficients,
        test_mask=mask, generator=settings, seed=seed, attrs=data.parameters,
        compression=compression,
    )
