"""The periodic square [0, L)^2 of the 2-D PDEs: grid, wavevectors, dealiasing and initial states.

Fields are ``(..., ny, nx)`` arrays over (y, x), the trajectory format's axis order, with
``ny = nx = n`` points per axis at ``j L / n``; Fourier coefficients are ``numpy.fft.rfft2``'s,
``(..., n, n // 2 + 1)``, with ``ky`` along axis -2 and ``kx`` along axis -1.

Initial families (each sample drawn with ``default_rng(seed)`` for the whole batch, resolved on the
grid so that the exact solvers stay exact):

- ``fourier``: a sum of ``n_modes`` plane waves A sin(2 pi (p x + q y) / L + phi) with random integer
  (p, q) in -4 .. 4 (not both 0), A in [0, 1), phi in [0, 2 pi): the 2-D analogue of the 1-D family;
- ``gaussian``: one periodised Gaussian bump, random centre, width 5% .. 10% of L (at least 3 cells).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from physode.errors import InputError
from physode.problems.pde.domain import check_samples, check_times, grid

INITIAL_CONDITIONS_2D = ("fourier", "gaussian")
MAX_PLANE_WAVENUMBER = 4


# The 2-D transport's default velocity: it turns once every two time units, so no direction is special.
ROTATING_X = "sinusoidal:c0=0,amp=0.5,freq=0.5,phase=1.5707963267948966"  # 0.5 cos(pi t)
ROTATING_Y = "sinusoidal:c0=0,amp=0.5,freq=0.5"  # 0.5 sin(pi t)

@dataclass(frozen=True)
class Plane:
    """The square grid of ``n`` x ``n`` points on [0, L)^2 and its rfft2 wavevectors."""

    n: int
    length: float

    @property
    def axis(self) -> np.ndarray:
        """The points of either axis, j L / n."""
        return grid(self.n, self.length)

    @property
    def space(self) -> dict[str, np.ndarray]:
        """The spatial axes as the trajectory writer takes them, in the field's order (y, x)."""
        return {"y": self.axis, "x": self.axis}

    def wavevectors(self, derivative: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Angular wavenumbers ``(ky (n, 1), kx (1, n // 2 + 1))`` of rfft2; with ``derivative``
        the Nyquist ones are 0 (the grid's Nyquist mode has no derivative; i k there would turn a
        real field complex)."""
        ky = 2 * np.pi * np.fft.fftfreq(self.n, d=self.length / self.n)
        kx = 2 * np.pi * np.fft.rfftfreq(self.n, d=self.length / self.n)
        if derivative and self.n % 2 == 0:
            ky[self.n // 2] = 0.0
            kx[-1] = 0.0
        return ky[:, None], kx[None, :]

    def k_squared(self) -> np.ndarray:
        """|k|^2 per rfft2 mode, ``(n, n // 2 + 1)``."""
        ky, kx = self.wavevectors()
        return ky**2 + kx**2

    def dealias_mask(self) -> np.ndarray:
        """Orszag's 2/3 rule in both axes: True for the modes a quadratic term cannot alias onto."""
        index_y = np.abs(np.fft.fftfreq(self.n, d=1.0 / self.n))
        index_x = np.fft.rfftfreq(self.n, d=1.0 / self.n)
        return (3 * index_y[:, None] < self.n) & (3 * index_x[None, :] < self.n)


    def spectral_tail(self, u: np.ndarray) -> float:
        """How resolved ``u`` (..., n, n) is: the largest |u_hat| among the dealiased modes in the top
        third of the kept range of either axis, over the largest non-mean |u_hat| (as the 1-D
        :func:`.spectral.spectral_tail`)."""
        spectrum = np.abs(np.fft.rfft2(u)) * self.dealias_mask()
        spectrum[..., 0, 0] = 0.0
        index_y = np.abs(np.fft.fftfreq(self.n, d=1.0 / self.n))[:, None]
        index_x = np.fft.rfftfreq(self.n, d=1.0 / self.n)[None, :]
        first_top = math.ceil(2 * (math.ceil(self.n / 3)) / 3)  # the kept indices are 0 .. ceil(n / 3) - 1
        top = (index_y >= first_top) | (index_x >= first_top)
        reference = spectrum.max(axis=(-2, -1))
        tail = np.where(top, spectrum, 0.0).max(axis=(-2, -1))
        return float(np.divide(tail, reference, out=np.zeros_like(tail), where=reference > 0).max())


def setup_plane(n_samples: int, n: int, times: ArrayLike, length: float) -> tuple[Plane, np.ndarray]:
    """Check the sizes; the grid and the output times (t_0 = 0)."""
    check_samples(n_samples)
    grid(n, length)  # checks n and length
    return Plane(int(n), float(length)), check_times(times)


def initial_state_2d(initial: str | np.ndarray, n_samples: int, plane: Plane, seed: int) -> np.ndarray:
    """Initial states ``(n_samples, n, n)`` in float64: a seeded draw from a family, or a given array."""
    shape = (n_samples, plane.n, plane.n)
    if isinstance(initial, np.ndarray):
        u0 = np.asarray(initial, dtype=np.float64)
        if u0.shape != shape or not np.all(np.isfinite(u0)):
            raise InputError(f"initial array must be finite with shape (n_samples, n, n) = {shape}, got {u0.shape}")
        return u0
    if initial not in INITIAL_CONDITIONS_2D:
        raise InputError(f"unknown 2-D initial condition {initial!r}; choose one of {', '.join(INITIAL_CONDITIONS_2D)}")
    rng = np.random.default_rng(seed)
    y, x = np.meshgrid(plane.axis, plane.axis, indexing="ij")
    if initial == "fourier":
        return _plane_waves(rng, n_samples, plane)(y, x)
    return _gaussian(rng, n_samples, plane)(y, x)


def _plane_waves(rng: np.random.Generator, n_samples: int, plane: Plane, n_modes: int = 3):
    top = min(MAX_PLANE_WAVENUMBER, plane.n // 2 - 1)
    p, q = rng.integers(-top, top + 1, size=(2, n_samples, n_modes))
    q = np.where((p == 0) & (q == 0), 1, q)  # no constant mode: it would not move
    amplitudes = rng.uniform(0.0, 1.0, size=(n_samples, n_modes))
    phases = rng.uniform(0.0, 2 * np.pi, size=(n_samples, n_modes))

    def profile(y: np.ndarray, x: np.ndarray) -> np.ndarray:
        arg = 2 * np.pi / plane.length * (p[..., None, None] * x + q[..., None, None] * y) + phases[..., None, None]
        return np.einsum("nm,nmij->nij", amplitudes, np.sin(arg))

    return profile


def _gaussian(rng: np.random.Generator, n_samples: int, plane: Plane):
    length = plane.length
    widths = np.maximum(rng.uniform(0.05, 0.10, size=n_samples) * length, 3 * length / plane.n)
    centres = rng.uniform(0.0, length, size=(2, n_samples))
    images = math.ceil(8 * widths.max() / length) + 1

    def profile(y: np.ndarray, x: np.ndarray) -> np.ndarray:
        def periodic_square(points: np.ndarray, centre: np.ndarray) -> list[np.ndarray]:
            offset = points[None] - centre[:, None, None]
            return [(offset + m * length) ** 2 for m in range(-images, images + 1)]

        width2 = 2 * widths[:, None, None] ** 2
        along_y = sum(np.exp(-d / width2) for d in periodic_square(y, centres[0]))
        along_x = sum(np.exp(-d / width2) for d in periodic_square(x, centres[1]))
        return along_y * along_x

    return profile
