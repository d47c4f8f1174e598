"""Initial conditions u0(x) of the PDE problems, each family drawn reproducibly from a numpy Generator.

``fourier`` sums of sines (PDEBench-style), ``gaussian`` bumps and ``windowed`` smoothed top-hats,
all resolved on the grid (Fourier modes below Nyquist, widths of at least three grid cells) so
that the exact Fourier solvers stay exact. :func:`initial_state` draws a batch with
``default_rng(seed)``; a PDE whose state must lie in an interval (Fisher-KPP in [0, 1], Allen-Cahn
in [-1, 1]) has each sample mapped affinely onto it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from physode.errors import InputError

Profile = Callable[[np.ndarray], np.ndarray]
"""An initial condition drawn for ``n`` samples: maps points ``p`` (any shape) to ``(n, *p.shape)``."""


def _periodise(bump: Callable[[np.ndarray], np.ndarray], points: np.ndarray, length: float, reach: float) -> np.ndarray:
    """Sum ``bump`` over the periodic images p + m L that can lie within ``reach`` of the domain."""
    points = np.mod(points, length)
    images = math.ceil(reach / length) + 1
    return sum(bump(points + m * length) for m in range(-images, images + 1))


@dataclass(frozen=True)
class FourierSeries:
    """Sum of ``n_modes`` sines A sin(2 pi n x / L + phi) as in PDEBench: random integer n, A, phi.

    ``n`` is drawn from 1 .. max_wavenumber (default min(8, Nx/2 - 1), so every mode sits below
    Nyquist), A uniformly from [0, 1), phi from [0, 2 pi).
    """

    n_modes: int = 2
    max_wavenumber: int | None = None

    def draw(self, rng: np.random.Generator, n: int, length: float, nx: int) -> Profile:
        top = min(8, nx // 2 - 1) if self.max_wavenumber is None else self.max_wavenumber
        if not 1 <= top < nx / 2:
            raise InputError(
                f"fourier initial condition: max wavenumber {top} must be in 1 .. {math.ceil(nx / 2) - 1} "
                f"for nx={nx} (modes at or above Nyquist are not resolved); lower it or raise nx"
            )
        wavenumbers = rng.integers(1, top + 1, size=(n, self.n_modes))
        amplitudes = rng.uniform(0.0, 1.0, size=(n, self.n_modes))
        phases = rng.uniform(0.0, 2 * np.pi, size=(n, self.n_modes))

        def profile(points: np.ndarray) -> np.ndarray:
            arg = 2 * np.pi / length * wavenumbers[..., None] * np.ravel(points) + phases[..., None]
            return np.einsum("nm,nmp->np", amplitudes, np.sin(arg)).reshape(n, *np.shape(points))

        return profile


@dataclass(frozen=True)
class GaussianBumps:
    """One periodised Gaussian exp(-(x - x0)^2 / (2 s^2)) per sample, random centre and width.

    x0 is uniform on [0, L); s is uniform on ``width`` (fractions of L), but never below three grid
    cells so the bump stays resolved and the Fourier shift stays exact.
    """

    width: tuple[float, float] = (0.03, 0.1)

    def draw(self, rng: np.random.Generator, n: int, length: float, nx: int) -> Profile:
        floor = 3 * length / nx
        low, high = (max(w * length, floor) for w in self.width)
        centres = rng.uniform(0.0, length, size=(n, 1))
        widths = rng.uniform(low, high, size=(n, 1))

        def profile(points: np.ndarray) -> np.ndarray:
            p = np.ravel(points)[None, :]
            values = _periodise(lambda q: np.exp(-0.5 * ((q - centres) / widths) ** 2), p, length, 10 * high)
            return values.reshape(n, *np.shape(points))

        return profile


@dataclass(frozen=True)
class Windowed:
    """A periodic top-hat of random centre and width with Gaussian-smoothed edges.

    It looks discontinuous on the grid yet stays resolved: the top-hat on [a, b] is convolved with a
    Gaussian whose standard deviation is ``edge_cells`` grid cells, giving
    (erf((x - a) / (sqrt2 s)) - erf((x - b) / (sqrt2 s))) / 2, periodised. Below about three
    cells the edges are under-resolved and the Fourier shift rings.
    """

    width: tuple[float, float] = (0.1, 0.5)
    edge_cells: float = 3.0

    def draw(self, rng: np.random.Generator, n: int, length: float, nx: int) -> Profile:
        from scipy import special  # here: scipy takes a second to import, `physode --help` needs none

        edge = self.edge_cells * length / nx
        widths = rng.uniform(*(w * length for w in self.width), size=(n, 1))
        starts = rng.uniform(0.0, length, size=(n, 1))
        scale = math.sqrt(2) * edge

        def window(q: np.ndarray) -> np.ndarray:
            return 0.5 * (special.erf((q - starts) / scale) - special.erf((q - starts - widths) / scale))

        def profile(points: np.ndarray) -> np.ndarray:
            p = np.ravel(points)[None, :]
            reach = length + 10 * edge
            return _periodise(window, p, length, reach).reshape(n, *np.shape(points))

        return profile


InitialCondition = FourierSeries | GaussianBumps | Windowed

INITIAL_CONDITIONS: dict[str, InitialCondition] = {
    "fourier": FourierSeries(),
    "gaussian": GaussianBumps(),
    "windowed": Windowed(),
}
INITIAL_RATES = ("rest", "transport")
"""The wave's u_t at t = 0 (:mod:`.wave`): at rest, or transport's ``c(0) u_x``."""


def initial_profile(
    initial: str | InitialCondition, n_samples: int, nx: int, seed: int, length: float = 1.0
) -> Profile:
    """Draw ``n_samples`` initial conditions from a named or given family with ``default_rng(seed)``."""
    if isinstance(initial, str):
        if initial not in INITIAL_CONDITIONS:
            raise InputError(
                f"unknown initial condition {initial!r}; choose one of {', '.join(INITIAL_CONDITIONS)}"
            )
        initial = INITIAL_CONDITIONS[initial]
    return initial.draw(np.random.default_rng(seed), n_samples, length, nx)


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
