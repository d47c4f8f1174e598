"""Viscous Burgers u_t + u u_x = nu u_xx on a periodic domain, pseudo-spectral with ETDRK4.

Written in conservative form u_t = nu u_xx - (u^2 / 2)_x: the diffusion -nu k^2 is the exactly
integrated linear part, the flux derivative the nonlinear part, evaluated on the grid with Orszag's
2/3 rule so that the quadratic term cannot alias. PDEBench's Burgers data uses nu / pi in place of
nu (its u_xx coefficient is ``Nu / pi``): ``--nu`` here is the coefficient itself.

Small nu steepens fronts to a width ~ nu / |Delta u|; the grid must resolve it (the solver warns
when the spectral tail says it does not). The exact Cole-Hopf solution u = -2 nu phi_x / phi, phi
solving phi_t = nu phi_xx, is used by the tests to show spectral accuracy in x and fourth order
in t.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from physode.problems.pde.domain import positive, setup
from physode.problems.pde.initial_conditions import InitialCondition, initial_state
from physode.problems.pde.semilinear import solve_semilinear
from physode.problems.pde.spectral import dealias_mask, derivative_wavenumbers, wavenumbers
from physode.trajectories import Trajectories

EQUATION = "u_t + u u_x = nu u_xx"


def simulate_burgers(
    n_samples: int,
    nx: int,
    times: ArrayLike,
    nu: float = 0.03,
    initial: str | InitialCondition | np.ndarray = "fourier",
    seed: int = 0,
    length: float = 1.0,
    dt: float | None = None,
    progress: bool = False,
) -> Trajectories:
    """Trajectories of viscous Burgers for seeded initial states (or a given ``(n, nx)`` array).

    ``dt`` is the largest internal step (default 0.1 / (k_max max|u0|), the advective rate of the
    highest evolved mode; max|u| never grows for Burgers, so this bound holds for all times).
    """
    nu = positive("nu", nu)
    x, t = setup(n_samples, nx, times, length)
    u0 = initial_state(initial, n_samples, x, seed, length)
    kept = dealias_mask(nx)
    half_ik = -0.5j * derivative_wavenumbers(nx, length) * kept

    def flux_derivative(v: np.ndarray) -> np.ndarray:
        """-(u^2 / 2)_x with the 2/3 rule: square the kept modes, keep the kept modes of the square."""
        u = np.fft.irfft(v * kept, n=nx, axis=-1)
        return half_ik * np.fft.rfft(u * u, axis=-1)

    k = wavenumbers(nx, length)
    return solve_semilinear(
        "burgers", EQUATION, {"nu": nu}, u0=u0, x=x, t=t, length=length,
        linear=-nu * k**2, nonlinear=flux_derivative,
        nonlinear_rate=k[kept].max() * np.abs(u0).max(), kept=kept, dt=dt, initial=initial,
        progress=progress,
    )
