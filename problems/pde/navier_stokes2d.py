"""Incompressible Navier-Stokes in 2-D, vorticity form, periodic square, with forcing:

    w_t + u . grad w = nu(t) lap w + a(t) f(x, y),   u = (psi_y, -psi_x),   lap psi = -w,

with f = sin(2 pi (x + y) / L) + cos(2 pi (x + y) / L) (the forcing of FNO's Navier-Stokes data)
and a time-varying viscosity nu(t) >= 0 and forcing amplitude a(t) (coefficients ``nu`` and
``forcing`` over t), so that weight evolution has something to learn.

Pseudo-spectral in float64 on rfft2 coefficients with Orszag's 2/3 rule in both axes (the
evolved modes are only the kept ones: the dealiased system is a Galerkin truncation, which
conserves energy and enstrophy exactly when nu = a = 0). In time, Lawson's integrating-factor RK4:
the viscous part is integrated exactly by exp(-|k|^2 (N(t2) - N(t1))) with N = int nu, so a
time-varying viscosity costs nothing and the step is limited only by advection (fourth order;
the tests check the order and the conservation). The default step is 0.2 cells at the largest
initial speed; a solution that turns NaN/Inf is an error naming the time, not a file. The
spectral tail of the computed states is recorded (``spectral_tail``) and warned about as for the
1-D solvers (:mod:`.semilinear`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from physode.errors import InputError
from physode.problems.pde.coefficients import CoefficientLike, TimeCoefficient, coefficient, sample
from physode.problems.pde.domain import positive
from physode.problems.pde.plane import Plane, initial_state_2d, setup_plane
from physode.problems.pde.semilinear import warn_if_under_resolved
from physode.problems.pde.spectral import substeps
from physode.trajectories import Trajectories

EQUATION = "w_t + u . grad w = nu(t) lap w + forcing(t) (sin 2pi(x+y)/L + cos 2pi(x+y)/L), lap psi = -w, u = (psi_y, -psi_x)"
DEFAULT_CELLS_PER_STEP = 0.2  # default step: the largest initial speed crosses this much of a cell


class Vorticity:
    """The right-hand side of the dealiased vorticity equation on one grid, without the viscous term."""

    def __init__(self, plane: Plane, forcing: TimeCoefficient) -> None:
        self.plane, self.forcing = plane, forcing
        self.kept = plane.dealias_mask()
        self.ky, self.kx = plane.wavevectors(derivative=True)
        k2 = plane.k_squared()
        self.inverse_laplacian = np.divide(1.0, k2, out=np.zeros_like(k2), where=k2 > 0)
        y, x = np.meshgrid(plane.axis, plane.axis, indexing="ij")
        phase = 2 * np.pi * (x + y) / plane.length
        self.pattern = np.fft.rfft2(np.sin(phase) + np.cos(phase))

    def velocity(self, w_hat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The velocity (u, v) = (psi_y, -psi_x) on the grid."""
        psi = w_hat * self.inverse_laplacian
        shape = (self.plane.n, self.plane.n)
        return np.fft.irfft2(1j * self.ky * psi, s=shape), np.fft.irfft2(-1j * self.kx * psi, s=shape)

    def __call__(self, time: float, w_hat: np.ndarray) -> np.ndarray:
        shape = (self.plane.n, self.plane.n)
        u, v = self.velocity(w_hat)
        w_x, w_y = np.fft.irfft2(1j * self.kx * w_hat, s=shape), np.fft.irfft2(1j * self.ky * w_hat, s=shape)
        advection = np.fft.rfft2(u * w_x + v * w_y)
        return self.kept * (self.forcing.c(np.array(time)) * self.pattern - advection)


def lawson_rk4(w_hat: np.ndarray, rhs: Vorticity, k2: np.ndarray, spread: TimeCoefficient,
               start: float, h: float) -> np.ndarray:
    """One Lawson RK4 step from ``start``: the viscous factor exp(-k^2 int nu) is exact between stages."""
    spreads = spread.C(np.array([start, start + h / 2, start + h]))
    half = np.exp(-k2 * (spreads[1] - spreads[0]))
    rest = np.exp(-k2 * (spreads[2] - spreads[1]))
    stage1 = rhs(start, w_hat)
    stage2 = rhs(start + h / 2, half * (w_hat + h / 2 * stage1))
    stage3 = rhs(start + h / 2, half * w_hat + h / 2 * stage2)
    stage4 = rhs(start + h, half * rest * w_hat + h * rest * stage3)
    return half * rest * (w_hat + h / 6 * stage1) + h / 6 * (rest * (2 * stage2 + 2 * stage3) + stage4)


def default_dt(w0: np.ndarray, plane: Plane) -> float:
    """0.2 cells at the largest speed of the initial vorticities ``w0`` ``(n, ny, nx)`` (at least speed 1e-3)."""
    rhs = Vorticity(plane, coefficient("forcing", 0.0))
    u, v = rhs.velocity(rhs.kept * np.fft.rfft2(w0))
    speed = max(float(np.sqrt(u**2 + v**2).max()), 1e-3)
    return DEFAULT_CELLS_PER_STEP * plane.length / plane.n / speed


def simulate_navier_stokes2d(
    n_samples: int,
    n: int,
    times: ArrayLike,
    viscosity: CoefficientLike = 1e-3,
    forcing: CoefficientLike = 0.1,
    initial: str | np.ndarray = "fourier",
    seed: int = 0,
    length: float = 1.0,
    dt: float | None = None,
) -> Trajectories:
    """Vorticity trajectories ``u`` float64 ``(sample, t, 1, y, x)`` (channel ``w``) on ``n`` x ``n`` points.

    ``viscosity`` nu(t) >= 0 and ``forcing`` a(t) are coefficients (numbers or spec strings);
    ``initial`` the vorticity at t = 0 (a 2-D family name or an ``(n_samples, n, n)`` array; its
    modes outside the 2/3 rule are dropped); ``dt`` the largest step (default :func:`default_dt`).
    """
    plane, t = setup_plane(n_samples, n, times, length)
    nu, a = coefficient("nu", viscosity), coefficient("forcing", forcing)
    nu_of_t, _ = sample("nu", nu, t)
    a_of_t, _ = sample("forcing", a, t)
    if np.any(nu.c(np.linspace(t[0], t[-1], 64 * len(t))) < 0):
        raise InputError(f"nu(t) = {nu.spec} is negative somewhere in [0, {t[-1]:g}]; the viscosity must be >= 0")
    w0 = initial_state_2d(initial, n_samples, plane, seed)
    dt = default_dt(w0, plane) if dt is None else positive("dt", dt)
    rhs, k2 = Vorticity(plane, a), plane.k_squared()
    w_hat = rhs.kept * np.fft.rfft2(w0)
    out = np.empty((n_samples, len(t), 1, n, n))
    out[:, 0, 0] = np.fft.irfft2(w_hat, s=(n, n))
    with np.errstate(over="ignore", invalid="ignore"):  # a blow-up is reported below
        for i, count in enumerate(substeps(t, dt), start=1):
            h = (t[i] - t[i - 1]) / count
            for step in range(count):
                w_hat = lawson_rk4(w_hat, rhs, k2, nu, t[i - 1] + step * h, h)
            if not np.all(np.isfinite(w_hat)):
                raise InputError(f"navier-stokes2d: the solution became NaN/Inf before t={t[i]:g} with step {h:.3g}; "
                                 "lower --dt or raise --nu")
            out[:, i, 0] = np.fft.irfft2(w_hat, s=(n, n))
    tail = plane.spectral_tail(out[:, 1:, 0]) if len(t) > 1 else 0.0
    warn_if_under_resolved("navier-stokes2d", tail)
    settings = {
        "pde": "navier-stokes2d", "nu": nu.spec, "forcing": a.spec,
        "initial": initial if isinstance(initial, str) else "array", "n_samples": n_samples, "nx": n,
        "times": t.tolist(), "length": length, "grid": "x_j = y_j = j L / nx, periodic", "dt": dt,
        "solver": "pseudo-spectral float64, 2/3-rule dealiasing, Lawson integrating-factor RK4 "
                  "(viscous part exact for nu(t))",
    }
    return Trajectories(out, t, plane.space, EQUATION, settings, coefficients={"nu": nu_of_t, "forcing": a_of_t},
                        parameters={"spectral_tail": tail}, channels=("w",))


def energy_and_enstrophy(w: np.ndarray, plane: Plane) -> tuple[np.ndarray, np.ndarray]:
    """Energy 1/2 mean |u|^2 and enstrophy 1/2 mean w^2 of vorticities ``(..., n, n)``, spectrally."""
    w_hat = np.fft.rfft2(w)
    weight = np.full(w_hat.shape[-1], 2.0)  # rfft2 holds half the kx: the others are conjugates
    weight[0] = 1.0
    if plane.n % 2 == 0:
        weight[-1] = 1.0
    k2 = plane.k_squared()
    power = weight * np.abs(w_hat) ** 2 / plane.n**4
    inverse = np.divide(1.0, k2, out=np.zeros_like(k2), where=k2 > 0)
    return 0.5 * (power * inverse).sum((-2, -1)), 0.5 * power.sum((-2, -1))

