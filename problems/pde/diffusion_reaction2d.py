"""PDEBench's 2-D diffusion-reaction task: FitzHugh-Nagumo activator u and inhibitor v with no-flux walls,

    u_t = D_u lap u + u - u^3 - k - v,    v_t = D_v lap v + u - v,

on [-1, 1]^2 (PDEBench: D_u = 1e-3, D_v = 5e-3, k = 5e-3, t in [0, 5]), grad u . n = grad v . n = 0
on the walls. Spectral in a cosine basis: on the cell-centred grid x_j = -1 + (j + 1/2) dx the 2-D
DCT-II expands a field in cos(pi p (x + 1) / L) cos(pi q (y + 1) / L), each of which satisfies the
no-flux condition, and diagonalises the Laplacian (-(pi p / L)^2 - (pi q / L)^2, L = 2). ETDRK4
(:mod:`.spectral`) integrates the diffusion exactly and the reaction at fourth order, in equal
steps of at most ``dt`` (default 0.1 / the largest rate of the reaction).

PDEBench draws u(0), v(0) as white noise per cell, which no grid resolves; here each field starts
as a random cosine series (``fourier``: 4 modes with (p, q) in 0 .. 4, amplitudes in [-1/4, 1/4)),
resolved and compatible with the walls, so the tests can check convergence. The spectral tail
(largest cosine coefficient in the top third of either axis relative to the peak) is recorded as
``spectral_tail`` and warned about as for the 1-D solvers.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import fft

from physode.errors import InputError
from physode.problems.pde.domain import check_samples, check_times, grid, positive
from physode.problems.pde.semilinear import STEP_FRACTION, warn_if_under_resolved
from physode.problems.pde.spectral import Transform, integrate_etdrk4
from physode.trajectories import Trajectories

EQUATION = "u_t = Du lap u + u - u^3 - k - v, v_t = Dv lap v + u - v"
CHANNELS = ("u", "v")
LENGTH = 2.0  # the square [-1, 1]^2, as PDEBench's
COSINE = Transform(lambda u: fft.dctn(u, type=2, axes=(-2, -1), norm="ortho"),
                   lambda v: fft.idctn(v, type=2, axes=(-2, -1), norm="ortho"))


def cell_centres(n: int) -> np.ndarray:
    """The cell centres -1 + (j + 1/2) L / n of ``n`` cells across [-1, 1]."""
    return grid(n, LENGTH) + LENGTH / (2 * n) - 1.0


def cosine_series(n_samples: int, n: int, seed: int, n_modes: int = 4) -> np.ndarray:
    """Random no-flux initial states ``(n_samples, 2, n, n)``: cosine modes (p, q) in 0 .. 4."""
    rng = np.random.default_rng(seed)
    top = min(4, n // 3)
    p, q = rng.integers(0, top + 1, size=(2, n_samples, 2, n_modes))
    amplitudes = rng.uniform(-1.0, 1.0, size=(n_samples, 2, n_modes)) / n_modes  # |u0| <= 1, as u - u^3 keeps it
    phase = np.pi * (cell_centres(n) + 1.0) / LENGTH
    along_y = np.cos(q[..., None] * phase)  # (n_samples, 2, modes, n)
    along_x = np.cos(p[..., None] * phase)
    return np.einsum("scm,scmi,scmj->scij", amplitudes, along_y, along_x)


def cosine_tail(u: np.ndarray) -> float:
    """The largest cosine coefficient in the top third of either axis relative to the largest non-mean one."""
    spectrum = np.abs(fft.dctn(u, type=2, axes=(-2, -1), norm="ortho"))
    n = spectrum.shape[-1]
    index = np.arange(n)
    top = (3 * index[:, None] >= 2 * n) | (3 * index[None, :] >= 2 * n)
    spectrum[..., 0, 0] = 0.0
    reference = spectrum.max(axis=(-2, -1))
    tail = np.where(top, spectrum, 0.0).max(axis=(-2, -1))
    return float(np.divide(tail, reference, out=np.zeros_like(tail), where=reference > 0).max())


def simulate_diffusion_reaction2d(
    n_samples: int,
    n: int,
    times: ArrayLike,
    diffusivity_u: float = 1e-3,
    diffusivity_v: float = 5e-3,
    k: float = 5e-3,
    initial: str | np.ndarray = "fourier",
    seed: int = 0,
    dt: float | None = None,
) -> Trajectories:
    """Trajectories ``u`` float64 ``(sample, t, channel, y, x)``, channels (u, v), on ``n`` x ``n`` cells.

    ``initial``: ``"fourier"`` (random cosine series, see the module docs) or an array
    ``(n_samples, 2, n, n)``; ``dt`` the largest ETDRK4 step.
    """
    check_samples(n_samples)
    t = check_times(times)
    centres = cell_centres(n)
    du, dv = positive("diffusivity Du", diffusivity_u), positive("diffusivity Dv", diffusivity_v)
    if isinstance(initial, np.ndarray):
        u0 = np.asarray(initial, dtype=np.float64)
        if u0.shape != (n_samples, 2, n, n) or not np.all(np.isfinite(u0)):
            raise InputError(f"initial array must be finite with shape (n_samples, 2, n, n), got {u0.shape}")
    elif initial == "fourier":
        u0 = cosine_series(n_samples, n, seed)
    else:
        raise InputError(f"diffusion-reaction2d starts from 'fourier' (a random cosine series, no-flux at the "
                         f"walls) or a given array, not {initial!r}")
    wavenumber = np.pi * np.arange(n) / LENGTH
    k2 = wavenumber[:, None] ** 2 + wavenumber[None, :] ** 2
    linear = -np.stack([du * k2, dv * k2])  # (channel, ky, kx): diffusion, exact in ETDRK4

    def reaction(coefficients: np.ndarray) -> np.ndarray:
        fields = COSINE.inverse(coefficients)
        u, v = fields[:, 0], fields[:, 1]
        return COSINE.forward(np.stack([u - u**3 - k - v, u - v], axis=1))

    rate = 1.0 + 3.0 * max(float(np.abs(u0[:, 0]).max()), 1.0) ** 2  # the largest rate of the reaction
    max_step = STEP_FRACTION / rate if dt is None else positive("dt", dt)
    solution = integrate_etdrk4(u0, linear, reaction, t, max_step, label="diffusion-reaction2d", transform=COSINE)
    tail = cosine_tail(solution[:, 1:]) if len(t) > 1 else 0.0
    warn_if_under_resolved("diffusion-reaction2d", tail)
    parameters = {"Du": du, "Dv": dv, "k": float(k)}
    settings = {
        "pde": "diffusion-reaction2d", **parameters, "initial": initial if isinstance(initial, str) else "array",
        "n_samples": n_samples, "nx": n, "times": t.tolist(), "length": LENGTH,
        "grid": "cell centres x_j = y_j = -1 + (j + 1/2) 2 / nx, no-flux walls", "dt": max_step,
        "solver": "cosine-spectral (DCT-II) float64, ETDRK4 (Cox & Matthews 2002) with contour-integral "
                  "coefficients (Kassam & Trefethen 2005)",
    }
    return Trajectories(solution, t, {"y": centres, "x": centres}, EQUATION, settings,
                        parameters={**parameters, "spectral_tail": tail}, channels=CHANNELS,
                        boundary_condition="neumann (no flux)")
