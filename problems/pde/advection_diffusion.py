"""Diffusion u_t = nu(t) u_xx and advection-diffusion u_t = c(t) u_x + nu(t) u_xx, solved exactly.

Sign convention (the transport problem's): u_t = c(t) u_x moves profiles to the LEFT for c > 0,
u(x, t) = u0(x + C(t)); PDEBench's advection u_t + beta u_x = 0 is c = -beta.

Both equations are linear with coefficients constant in space, so every Fourier mode evolves on
its own: u_hat_k(t) = u_hat_k(0) exp(i k C(t) - k^2 N(t)) with C(t) = int_0^t c and
N(t) = int_0^t nu. With the cumulative integrals in closed form (or by adaptive quadrature for
formulas) the solution is exact in time for any nu(t), c(t), and exact in space for the
trigonometric interpolant of the initial state: no time step, no truncation error.

Coefficients use the spec strings of :mod:`.coefficients` (``sinusoidal:c0=0.01,amp=0.005,freq=2``,
``expr:0.01*(1+t)``, ...; see :data:`~.coefficients.COEFFICIENT_SPEC_HELP`) or a plain number for a constant.
nu(t) must be >= 0: diffusion backwards in time is ill-posed.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from physode.errors import InputError
from physode.problems.pde.coefficients import CoefficientLike, TimeCoefficient, coefficient, sample
from physode.problems.pde.domain import setup
from physode.problems.pde.initial_conditions import InitialCondition, initial_state
from physode.problems.pde.spectral import propagate
from physode.trajectories import Trajectories

DIFFUSION_EQUATION = "u_t = nu(t) u_xx"
ADVECTION_DIFFUSION_EQUATION = "u_t = c(t) u_x + nu(t) u_xx"
SOLVER = "exact: Fourier multiplier exp(i k C(t) - k^2 N(t)), C, N = integrals of c, nu; float64"


def _check_nonnegative(name: str, coef: TimeCoefficient, t_final: float) -> None:
    """nu(t) >= 0 on a fine grid of [0, t_final]: backward diffusion would amplify noise without bound."""
    probe = np.linspace(0.0, t_final, 4097)
    values = coef.c(probe)
    if np.any(values < 0):
        first = np.argmax(values < 0)
        raise InputError(
            f"{name}(t) = {coef.spec} is negative at t={probe[first]:.4g} ({name}={values[first]:.3g}); "
            "a diffusivity must stay >= 0 (backward diffusion is ill-posed)"
        )


def simulate_advection_diffusion(
    n_samples: int,
    nx: int,
    times: ArrayLike,
    velocity: CoefficientLike = 0.0,
    nu: CoefficientLike = 0.01,
    initial: str | InitialCondition | np.ndarray = "fourier",
    seed: int = 0,
    length: float = 1.0,
) -> Trajectories:
    """Exact trajectories of u_t = c(t) u_x + nu(t) u_xx on [0, L) for seeded initial states.

    The file stores c(t) and nu(t) at the output times as coefficients ``c`` and ``nu``.
    """
    x, t = setup(n_samples, nx, times, length)
    c_coef, nu_coef = coefficient("c", velocity), coefficient("nu", nu)
    _check_nonnegative("nu", nu_coef, t[-1])
    c_values, shifts = sample("c", c_coef, t)
    nu_values, spreads = sample("nu", nu_coef, t)
    u0 = initial_state(initial, n_samples, x, seed, length)
    settings = {
        "pde": "advection-diffusion", "velocity": c_coef.spec, "nu": nu_coef.spec,
        "initial": initial if isinstance(initial, str) else "array", "n_samples": n_samples,
        "nx": nx, "times": t.tolist(), "length": length, "solver": SOLVER,
    }
    return Trajectories(
        propagate(u0, shifts, spreads, length), t, x, ADVECTION_DIFFUSION_EQUATION, settings,
        coefficients={"c": c_values, "nu": nu_values},
    )


def simulate_diffusion(
    n_samples: int,
    nx: int,
    times: ArrayLike,
    nu: CoefficientLike = 0.01,
    initial: str | InitialCondition | np.ndarray = "fourier",
    seed: int = 0,
    length: float = 1.0,
) -> Trajectories:
    """Exact trajectories of the heat equation u_t = nu(t) u_xx (advection-diffusion with c = 0)."""
    data = simulate_advection_diffusion(n_samples, nx, times, 0.0, nu, initial, seed, length)
    settings = {key: value for key, value in data.settings.items() if key != "velocity"}
    return Trajectories(
        data.u, data.t, data.x, DIFFUSION_EQUATION, {**settings, "pde": "diffusion"},
        coefficients={"nu": data.coefficients["nu"]},
    )
