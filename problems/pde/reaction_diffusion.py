"""Reaction-diffusion on a periodic domain, pseudo-spectral with ETDRK4.

- Fisher-KPP u_t = D u_xx + r u (1 - u): a population u in [0, 1] invades the unstable state 0
  behind fronts of speed 2 sqrt(D r). Initial states are mapped per sample onto [0, 1] (PDEBench's
  reaction-diffusion data normalises its initial conditions the same way); the maximum principle
  keeps u in [0, 1].
  The state u = 0 is unstable: rounding noise (~1e-16) where u ~ 0 grows like exp(r t), reaching
  O(1e-2) at r t ~ 32, and negative noise then runs away (u' = r u (1 - u) blows up for u < 0).
  The simulator therefore refuses r t_final > MAX_GROWTH_EXPONENT.
- Allen-Cahn u_t = eps^2 u_xx + u - u^3: phase separation into u = +-1 with interfaces of width
  ~ sqrt(2) eps, which then coarsen slowly. Initial states are mapped onto [-1, 1].

The linear parts (-D k^2 + r, -eps^2 k^2 + 1) are integrated exactly, the polynomial reactions
(-r u^2, -u^3) on the grid. They are not dealiased: they hold no derivative, and for resolved
fields their aliasing error is as small as the truncation error (the convergence tests against a
finer reference show spectral accuracy); the solver warns when a field is not resolved.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from physode.errors import InputError
from physode.problems.pde.domain import positive, setup
from physode.problems.pde.initial_conditions import InitialCondition, initial_state
from physode.problems.pde.semilinear import solve_semilinear
from physode.problems.pde.spectral import wavenumbers
from physode.trajectories import Trajectories

MAX_GROWTH_EXPONENT = 30.0
"""Largest r t_final for Fisher-KPP: exp(30) * 1e-16 ~ 1e-3, the noise growth still tolerated."""

FISHER_KPP_EQUATION = "u_t = D u_xx + r u (1 - u)"
ALLEN_CAHN_EQUATION = "u_t = eps^2 u_xx + u - u^3"


def simulate_fisher_kpp(
    n_samples: int,
    nx: int,
    times: ArrayLike,
    diffusivity: float = 0.001,
    rate: float = 5.0,
    initial: str | InitialCondition | np.ndarray = "fourier",
    seed: int = 0,
    length: float = 1.0,
    dt: float | None = None,
    progress: bool = False,
) -> Trajectories:
    """Fisher-KPP trajectories; drawn initial states span [0, 1]; a given array is used as it is.

    ``dt`` is the largest internal step (default 0.1 / (2 r max u0), the rate of -r u^2).
    """
    diffusivity, rate = positive("diffusivity D", diffusivity), positive("rate r", rate)
    x, t = setup(n_samples, nx, times, length)
    if rate * t[-1] > MAX_GROWTH_EXPONENT:
        raise InputError(
            f"fisher-kpp: r t_final = {rate * t[-1]:g} > {MAX_GROWTH_EXPONENT:g}: rounding noise around "
            "the unstable state u = 0 would grow like exp(r t) to visible size; shorten the time "
            "span (--t-final) or lower the rate (--rate)"
        )
    u0 = initial_state(initial, n_samples, x, seed, length, value_range=(0.0, 1.0))

    def logistic_loss(v: np.ndarray) -> np.ndarray:
        u = np.fft.irfft(v, n=nx, axis=-1)
        return -rate * np.fft.rfft(u * u, axis=-1)

    k = wavenumbers(nx, length)
    return solve_semilinear(
        "fisher-kpp", FISHER_KPP_EQUATION, {"D": diffusivity, "r": rate}, u0=u0, x=x, t=t,
        length=length, linear=rate - diffusivity * k**2, nonlinear=logistic_loss,
        nonlinear_rate=2 * rate * max(np.abs(u0).max(), 1.0), dt=dt, initial=initial,
        progress=progress,
    )


def simulate_allen_cahn(
    n_samples: int,
    nx: int,
    times: ArrayLike,
    epsilon: float = 0.02,
    initial: str | InitialCondition | np.ndarray = "fourier",
    seed: int = 0,
    length: float = 1.0,
    dt: float | None = None,
    progress: bool = False,
) -> Trajectories:
    """Allen-Cahn trajectories; drawn initial states span [-1, 1]; a given array is used as it is.

    ``dt`` is the largest internal step (default 0.1 / (3 max u0^2), the rate of -u^3).
    """
    epsilon = positive("epsilon", epsilon)
    x, t = setup(n_samples, nx, times, length)
    u0 = initial_state(initial, n_samples, x, seed, length, value_range=(-1.0, 1.0))

    def cubic_loss(v: np.ndarray) -> np.ndarray:
        u = np.fft.irfft(v, n=nx, axis=-1)
        return -np.fft.rfft(u * u * u, axis=-1)

    k = wavenumbers(nx, length)
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow to inf (inf * 0 at k = 0) is refused below
        diffusion_rates = np.float64(epsilon) ** 2 * k**2
    if not np.all(np.isfinite(diffusion_rates)):
        raise InputError(f"allen-cahn: epsilon = {epsilon:g} makes the diffusion rate eps^2 k^2 overflow; "
                         "lower --epsilon (the interface width, a fraction of the domain)")
    return solve_semilinear(
        "allen-cahn", ALLEN_CAHN_EQUATION, {"epsilon": epsilon}, u0=u0, x=x, t=t, length=length,
        linear=1.0 - epsilon**2 * k**2, nonlinear=cubic_loss,
        nonlinear_rate=3 * max(np.abs(u0).max(), 1.0) ** 2, dt=dt, initial=initial,
        progress=progress,
    )
