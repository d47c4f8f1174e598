"""The periodic domain every PDE of the package lives on, and the checks of sizes and times.

x in [0, L) with period L (default 1), grid x_j = j L / Nx for j = 0 .. Nx - 1; output times start
at 0 (the initial state) and increase strictly.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from physode.errors import InputError

MAX_INTERNAL_STEPS = 10**7
"""More internal time steps than any simulation here needs (the defaults take thousands): a step this
small (or a time span this long) is a typo that would hang, or overflow the step count to nonsense."""


def grid(nx: int, length: float = 1.0) -> np.ndarray:
    """The periodic grid x_j = j L / Nx, j = 0 .. Nx - 1 (the end point L is the start again)."""
    if not isinstance(nx, (int, np.integer)) or nx < 4:
        raise InputError(f"nx must be an integer >= 4, got {nx!r}")
    if not (math.isfinite(length) and length > 0):
        raise InputError(f"domain length must be positive and finite, got {length!r}")
    return np.arange(nx) * (length / nx)


def check_times(times: ArrayLike) -> np.ndarray:
    """Output times as float64: 1-D, finite, strictly increasing, starting at 0 (the initial state)."""
    t = np.asarray(times, dtype=np.float64)
    if t.ndim != 1 or t.size < 1:
        raise InputError(f"times must be a non-empty 1-D array, got shape {t.shape}")
    if not np.all(np.isfinite(t)):
        raise InputError("times contain NaN or Inf; pass finite times")
    if t[0] != 0.0:
        raise InputError(f"times must start at 0 (the initial condition), got t[0]={t[0]}")
    if np.any(np.diff(t) <= 0):
        raise InputError("times must be strictly increasing; sort them and drop duplicates")
    return t


def check_step_count(times: np.ndarray, max_step: float) -> None:
    """Refuse a solve of ``times`` in steps of at most ``max_step`` that needs over MAX_INTERNAL_STEPS steps."""
    with np.errstate(over="ignore"):  # an overflow to inf is refused below
        steps = float(np.sum(np.diff(times) / max_step))
    if not steps <= MAX_INTERNAL_STEPS:
        raise InputError(f"an internal time step of {max_step:.3g} over t in [0, {times[-1]:g}] needs {steps:.3g} "
                         f"steps, more than {MAX_INTERNAL_STEPS:.0e}; raise --dt or lower --t-final")


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
