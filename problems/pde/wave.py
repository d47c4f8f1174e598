"""The variable-speed wave equation u_tt = c(t)^2 u_xx on a periodic domain, stored as channels (u, u_t).

Spectral in space: with v = rfft(u), every mode k is an independent oscillator
``v'' = -c(t)^2 k^2 v``, i.e. the first-order system ``y' = A(t) y`` for ``y = (v, v_t)`` with
``A(t) = [[0, 1], [-c(t)^2 k^2, 0]]``, advanced on the whole batch of samples and modes at once in
float64:

- constant c: exact propagation, ``v(t) = v0 cos(w t) + v_t0 sin(w t) / w`` with ``w = |c| k``
  (mode 0 moves with its mean rate, ``v0 + t v_t0``); to rounding.
- time-varying c: the fourth-order Magnus integrator with two Gauss-Legendre nodes (Iserles &
  Norsett), ``y(t + h) = exp(Omega) y(t)``, ``Omega = h/2 (A1 + A2) + sqrt(3)/12 h^2 [A2, A1]``,
  in equal steps of at most ``dt`` between stored times. Omega is a traceless 2x2 matrix, so its
  exponential is closed-form (``cos(theta) I + sin(theta)/theta Omega``, ``theta^2 = det Omega``);
  for constant c it reduces to the exact propagator. Unlike a Runge-Kutta step it is exact for
  frozen coefficients, so the fast modes (large ``c k h``) keep their amplitude; the error comes
  only from the variation of c within a step (fourth order in h). The default ``dt`` gives about
  1e-11 against a 16x finer solve for the zoo's velocities on 128 points (tests check the order).

Initial rate ``u_t(0)``: ``rest`` (default) starts from ``u_t = 0``, so a profile splits into two
halves moving apart; ``transport`` starts from ``u_t = c(0) u_x``, the transport problem's motion
(for constant c the solution is then exactly transport's ``u0(x + c t)``).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from physode.errors import InputError
from physode.problems.pde.coefficients import CoefficientLike, Constant, TimeCoefficient, coefficient, sample
from physode.problems.pde.domain import check_step_count, positive, setup
from physode.problems.pde.initial_conditions import INITIAL_RATES, InitialCondition, initial_state
from physode.problems.pde.spectral import derivative_wavenumbers, wavenumbers
from physode.trajectories import Trajectories

EQUATION = "u_tt = c(t)^2 u_xx"
CHANNELS = ("u", "u_t")
DEFAULT_DT_CELLS = 0.05  # default Magnus step: this many grid cells travelled at the largest |c| ...
DEFAULT_DT_MAX = 2e-4  # ... and at most this long (the variation of c within a step sets the error)
_GAUSS = math.sqrt(3) / 6  # Gauss-Legendre nodes at h (1/2 -+ sqrt(3)/6)


def exact_propagator(speed: float, k: np.ndarray, t: float) -> np.ndarray:
    """The 2x2 map ``(v, v_t)(0) -> (v, v_t)(t)`` per mode for constant ``c = speed``: ``(len(k), 2, 2)``."""
    omega = abs(speed) * k
    phase = omega * t
    sin_over_omega = t * np.sinc(phase / np.pi)  # sin(w t) / w, = t at w = 0
    return np.stack([np.stack([np.cos(phase), sin_over_omega], -1),
                     np.stack([-omega * np.sin(phase), np.cos(phase)], -1)], -2)


def magnus_step(a1: np.ndarray, a2: np.ndarray, h: float) -> np.ndarray:
    """One fourth-order Magnus step for ``A = [[0, 1], [-a, 0]]`` with ``a = c^2 k^2`` at the two Gauss nodes.

    ``[A2, A1] = diag(a2 - a1, a1 - a2)``, so ``Omega = [[d, h], [-h (a1 + a2) / 2, -d]]`` with
    ``d = sqrt(3)/12 h^2 (a2 - a1)``. Returns ``exp(Omega)``, ``(len(a1), 2, 2)``.
    """
    d = math.sqrt(3) / 12 * h**2 * (a2 - a1)
    lower = -h * (a1 + a2) / 2
    theta = np.sqrt((-(d**2) - h * lower).astype(complex))  # theta^2 = det(Omega)
    cos = np.cos(theta).real
    sinc = np.sinc(theta / np.pi).real  # sin(theta) / theta, real also for imaginary theta
    return np.stack([np.stack([cos + sinc * d, sinc * h], -1),
                     np.stack([sinc * lower, cos - sinc * d], -1)], -2)


def default_dt(speed_max: float, nx: int, length: float) -> float:
    """The default Magnus step: a small fraction of a cell at the largest speed, capped (~1e-10 error)."""
    return min(DEFAULT_DT_MAX, DEFAULT_DT_CELLS * length / nx / max(speed_max, 1e-12))


def velocity_and_step(velocity: CoefficientLike, t: np.ndarray, initial_rate: str, points: int, length: float,
                      dt: float | None) -> tuple[TimeCoefficient, np.ndarray, float]:
    """The wave's checked set-up, shared by the 1-D and 2-D simulators: c as a coefficient, c at the
    stored times ``t``, and the largest Magnus step (``dt``, or :func:`default_dt` at the largest |c|
    for a grid of ``points`` cells per ``length``)."""
    if initial_rate not in INITIAL_RATES:
        raise InputError(f"initial rate {initial_rate!r} is unknown; choose one of {', '.join(INITIAL_RATES)}")
    c = coefficient("c", velocity)
    c_of_t, _ = sample("c", c, t)
    if dt is None:
        fine = np.linspace(t[0], t[-1], 64 * len(t))
        dt = default_dt(float(np.abs(sample("c", c, fine)[0]).max()), points, length)
    return c, c_of_t, positive("dt", dt)


def solve_modes(state0: np.ndarray, c: TimeCoefficient, t: np.ndarray, k: np.ndarray, dt: float) -> np.ndarray:
    """``(v, v_t)`` at every time ``t`` from ``state0`` ``(n, 2, modes)``: ``(n, len(t), 2, modes)``.

    ``c`` is the coefficient object; a :class:`Constant` is propagated exactly from t_0, anything
    else with fourth-order Magnus steps of at most ``dt`` between consecutive output times.
    """
    out = np.empty((state0.shape[0], len(t), 2, state0.shape[-1]), dtype=complex)
    out[:, 0] = state0
    if isinstance(c, Constant):
        for i, time in enumerate(t[1:], start=1):
            out[:, i] = np.einsum("kij,njk->nik", exact_propagator(c.c0, k, time - t[0]), state0)
        return out
    # The step maps depend only on the mode, not on the sample: compose them per interval first.
    check_step_count(t, dt)
    state = state0
    for i in range(1, len(t)):
        steps = math.ceil((t[i] - t[i - 1]) / dt - 1e-9)
        h = (t[i] - t[i - 1]) / steps
        starts = t[i - 1] + h * np.arange(steps)
        speed, _ = sample("c", c, np.concatenate([starts + (0.5 - _GAUSS) * h, starts + (0.5 + _GAUSS) * h]))
        rate = np.multiply.outer(speed**2, k**2)  # (2 steps, modes): a = c^2 k^2 at both Gauss nodes
        interval = np.broadcast_to(np.eye(2), (len(k), 2, 2))
        for step in range(steps):
            interval = magnus_step(rate[step], rate[steps + step], h) @ interval
        state = np.einsum("kij,njk->nik", interval, state)
        out[:, i] = state
    return out


def simulate_wave(
    n_samples: int,
    nx: int,
    times: ArrayLike,
    velocity: CoefficientLike,
    initial: str | InitialCondition | np.ndarray = "fourier",
    seed: int = 0,
    length: float = 1.0,
    initial_rate: str = "rest",
    dt: float | None = None,
) -> Trajectories:
    """Wave trajectories ``u`` float64 ``(sample, time, channel, x)``, channels (u, u_t).

    ``velocity`` is c(t) as for transport (stored as coefficient ``c``); ``initial`` the profile
    u(0) (family name, object or ``(n_samples, nx)`` array); ``initial_rate`` picks u_t(0) (see
    the module docs); ``dt`` the largest Magnus step (default :func:`default_dt`; unused for
    constant c, which is exact).
    """
    x, t = setup(n_samples, nx, times, length)
    c, c_of_t, dt = velocity_and_step(velocity, t, initial_rate, nx, length, dt)
    u0 = initial_state(initial, n_samples, x, seed, length)
    v0 = np.fft.rfft(u0, axis=-1)
    rate0 = (1j * derivative_wavenumbers(nx, length) * c_of_t[0] * v0 if initial_rate == "transport"
             else np.zeros_like(v0))
    modes = solve_modes(np.stack([v0, rate0], axis=1), c, t, wavenumbers(nx, length), dt)
    u = np.fft.irfft(modes, n=nx, axis=-1)
    solver = ("exact: cos/sin propagation per Fourier mode, float64" if isinstance(c, Constant)
              else "fourth-order Magnus (2 Gauss nodes) per Fourier mode, float64")
    settings = {
        "pde": "wave", "velocity": c.spec, "initial": initial if isinstance(initial, str) else "array",
        "initial_rate": initial_rate, "n_samples": n_samples, "nx": nx, "times": t.tolist(),
        "length": length, "grid": "x_j = j L / nx, periodic", "solver": solver, "dt": dt,
    }
    return Trajectories(u, t, x, EQUATION, settings, coefficients={"c": c_of_t}, channels=CHANNELS)


def energy(u: np.ndarray, speed: float, length: float = 1.0) -> np.ndarray:
    """``E = 1/2 int (u_t^2 + c^2 u_x^2) dx`` of states ``(..., 2, nx)`` (channels u, u_t), spectrally."""
    nx = u.shape[-1]
    u_x = np.fft.irfft(1j * derivative_wavenumbers(nx, length) * np.fft.rfft(u[..., 0, :], axis=-1), n=nx, axis=-1)
    return 0.5 * (u[..., 1, :] ** 2 + speed**2 * u_x**2).sum(-1) * length / nx
