"""The stiff PDEs' shared solve: u_t = L u + N(u) by ETDRK4, checked for resolution, packaged as Trajectories.

Burgers and the reaction-diffusion equations differ only in the linear symbol L(k), the nonlinear
term N and its largest rate; :func:`solve_semilinear` does the rest the same way for all of them.
"""

from __future__ import annotations

import warnings

import numpy as np

from physode.problems.pde.domain import positive
from physode.problems.pde.initial_conditions import InitialCondition
from physode.problems.pde.spectral import NonlinearTerm, integrate_etdrk4, spectral_tail
from physode.trajectories import Trajectories

STEP_FRACTION = 0.1
"""Default internal step of the ETDRK4 solvers: 0.1 / (largest rate of the nonlinear term)."""

RESOLUTION_WARNING = 1e-4
"""Spectral tail (see :func:`spectral.spectral_tail`) above which a simulator warns: under-resolved.

Measured on Burgers and reaction-diffusion data: a tail of 2e-5 went with a maximum error of 1e-7
against a 4x finer grid, 4e-4 with 1e-5; so 1e-4 is roughly an error of 1e-6.
"""


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
