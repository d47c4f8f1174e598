"""The variable-speed wave equation in 2-D, u_tt = c(t)^2 lap u on the periodic square, channels (u, u_t).

Every rfft2 mode is an oscillator ``v'' = -c(t)^2 |k|^2 v``: the 1-D solver of :mod:`.wave` applies
unchanged with ``k = |k|`` (exact cos/sin propagation for constant c; fourth-order Magnus steps of at
most ``dt`` for a time-varying c, exact for frozen coefficients so the fast modes keep their
amplitude). ``initial_rate``: ``rest`` (u_t(0) = 0: the profile spreads as rings) or ``transport``
(u_t(0) = c(0) u_x: a start moving along x, whose u_t channel does not start at zero).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from physode.problems.pde.coefficients import CoefficientLike, Constant
from physode.problems.pde.plane import initial_state_2d, setup_plane
from physode.problems.pde.wave import CHANNELS, solve_modes, velocity_and_step
from physode.trajectories import Trajectories

EQUATION = "u_tt = c(t)^2 (u_xx + u_yy)"


def simulate_wave2d(
    n_samples: int,
    n: int,
    times: ArrayLike,
    velocity: CoefficientLike,
    initial: str | np.ndarray = "fourier",
    seed: int = 0,
    length: float = 1.0,
    initial_rate: str = "rest",
    dt: float | None = None,
) -> Trajectories:
    """Wave trajectories ``u`` float64 ``(sample, t, channel, y, x)``, channels (u, u_t), on ``n`` x ``n`` points.

    ``velocity`` is c(t) (stored as ``c``); ``initial`` the profile u(0) (a 2-D family name or an
    ``(n_samples, n, n)`` array); ``dt`` the largest Magnus step (default: :func:`.wave.default_dt`
    at the largest |c| on the grid's diagonal spacing; unused for constant c, which is exact).
    """
    plane, t = setup_plane(n_samples, n, times, length)
    # The fastest 2-D mode has |k| sqrt(2) times the 1-D one: as a grid sqrt(2) times finer.
    c, c_of_t, dt = velocity_and_step(velocity, t, initial_rate, round(n * np.sqrt(2)), length, dt)
    u0 = initial_state_2d(initial, n_samples, plane, seed)
    v0 = np.fft.rfft2(u0)
    _, kx = plane.wavevectors(derivative=True)
    rate0 = 1j * kx * c_of_t[0] * v0 if initial_rate == "transport" else np.zeros_like(v0)
    modes_shape = v0.shape[1:]
    state0 = np.stack([v0, rate0], axis=1).reshape(n_samples, 2, -1)
    modes = solve_modes(state0, c, t, np.sqrt(plane.k_squared()).ravel(), dt)
    u = np.fft.irfft2(modes.reshape(n_samples, len(t), 2, *modes_shape), s=(n, n))
    solver = ("exact: cos/sin propagation per Fourier mode, float64" if isinstance(c, Constant)
              else "fourth-order Magnus (2 Gauss nodes) per Fourier mode, float64")
    settings = {
        "pde": "wave2d", "velocity": c.spec, "initial": initial if isinstance(initial, str) else "array",
        "initial_rate": initial_rate, "n_samples": n_samples, "nx": n, "times": t.tolist(), "length": length,
        "grid": "x_j = y_j = j L / nx, periodic", "solver": solver, "dt": dt,
    }
    return Trajectories(u, t, plane.space, EQUATION, settings, coefficients={"c": c_of_t}, channels=CHANNELS)
