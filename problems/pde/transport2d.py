"""Transport in 2-D, u_t = c(t) . grad u on the periodic square, exact by Fourier phase shifts.

The velocity is a vector c(t) = (c_x(t), c_y(t)) that may turn in time (the default rotates:
c = 0.5 (cos pi t, sin pi t)), so a static-weight model can follow no single direction: the
transport task of the paper in 2-D. By characteristics u(x, y, t) = u0(x + C_x(t), y + C_y(t)) with
C = int_0^t c; every rfft2 mode is multiplied by exp(i (k_x C_x + k_y C_y)) in float64, exact for
the trigonometric interpolant of u0 (the built-in initial states are resolved, so exact to
rounding). The components are coefficients of :mod:`.coefficients` (spec strings, numbers,
objects), stored as ``cx`` and ``cy`` over t.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from physode.problems.pde.coefficients import CoefficientLike, coefficient, sample
from physode.problems.pde.plane import ROTATING_X, ROTATING_Y, Plane, initial_state_2d, setup_plane
from physode.trajectories import Trajectories

EQUATION = "u_t = c(t) . grad u, c = (cx, cy)"
SOLVER = "exact: Fourier phase shift exp(i (kx Cx(t) + ky Cy(t))), float64"


def shift(u0: np.ndarray, plane: Plane, shift_x: np.ndarray, shift_y: np.ndarray) -> np.ndarray:
    """``u0`` ``(n, ny, nx)`` moved to ``u0(x + shift_x, y + shift_y)`` for each time: ``(n, times, ny, nx)``."""
    ky, kx = plane.wavevectors()
    phase = np.exp(1j * (np.multiply.outer(shift_x, kx) + np.multiply.outer(shift_y, ky)))  # (times, ny, nkx)
    return np.fft.irfft2(np.fft.rfft2(u0)[:, None] * phase, s=(plane.n, plane.n))


def simulate_transport2d(
    n_samples: int,
    n: int,
    times: ArrayLike,
    velocity_x: CoefficientLike = ROTATING_X,
    velocity_y: CoefficientLike = ROTATING_Y,
    initial: str | np.ndarray = "fourier",
    seed: int = 0,
    length: float = 1.0,
) -> Trajectories:
    """Exact trajectories ``u`` float64 ``(sample, t, 1, y, x)`` on an ``n`` x ``n`` grid.

    ``initial`` is a 2-D family name (:data:`.plane.INITIAL_CONDITIONS_2D`) or an ``(n_samples, n, n)``
    array of initial states over (y, x).
    """
    plane, t = setup_plane(n_samples, n, times, length)
    cx, cy = coefficient("cx", velocity_x), coefficient("cy", velocity_y)
    (cx_of_t, shift_x), (cy_of_t, shift_y) = sample("cx", cx, t), sample("cy", cy, t)
    u0 = initial_state_2d(initial, n_samples, plane, seed)
    settings = {
        "pde": "transport2d", "velocity_x": cx.spec, "velocity_y": cy.spec,
        "initial": initial if isinstance(initial, str) else "array", "n_samples": n_samples, "nx": n,
        "times": t.tolist(), "length": length, "grid": "x_j = y_j = j L / nx, periodic", "solver": SOLVER,
    }
    u = shift(u0, plane, shift_x, shift_y)[:, :, None]
    return Trajectories(u, t, plane.space, EQUATION, settings, coefficients={"cx": cx_of_t, "cy": cy_of_t},
                        channels=("u",))
