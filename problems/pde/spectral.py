"""Pseudo-spectral building blocks on a periodic 1D grid: wavenumbers, the exact propagator, ETDRK4.

Every solver of this package works on real FFT coefficients v = rfft(u) (float64 / complex128) of a
whole batch of samples at once, shape ``(n_samples, nx // 2 + 1)``. Linear PDEs with coefficients
constant in space (transport, advection, diffusion) are solved exactly by :func:`propagate`. For
the others the linear part is a diagonal multiplier ``linear[k]`` and the nonlinear part a
function ``N(v)`` evaluated on the grid; these stiff problems are advanced with ETDRK4 (Cox &
Matthews 2002), whose phi-function coefficients are computed by the contour integral of Kassam &
Trefethen (2005) so that they stay accurate where h L is tiny (the naive formulas cancel
catastrophically there)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from physode.errors import InputError
from physode.problems.pde.domain import check_step_count
from physode.training.progress import progress_bar

NonlinearTerm = Callable[[np.ndarray], np.ndarray]
"""N(v): the nonlinear part of dv/dt = L v + N(v), on rfft coefficients ``(n, nx // 2 + 1)``."""


@dataclass(frozen=True)
class Transform:
    """A field's coefficients in the basis that makes the linear part diagonal, and back."""

    forward: Callable[[np.ndarray], np.ndarray]
    inverse: Callable[[np.ndarray], np.ndarray]


def periodic_transform(nx: int) -> Transform:
    """The real FFT along the last axis of ``nx`` points: the periodic 1D solvers' basis."""
    return Transform(lambda u: np.fft.rfft(u, axis=-1), lambda v: np.fft.irfft(v, n=nx, axis=-1))


def wavenumbers(nx: int, length: float) -> np.ndarray:
    """Angular wavenumbers k = 2 pi n / L of the real FFT of ``nx`` points, n = 0 .. nx // 2."""
    return 2 * np.pi * np.fft.rfftfreq(nx, d=length / nx)


def derivative_wavenumbers(nx: int, length: float) -> np.ndarray:
    """The wavenumbers of an odd derivative: like :func:`wavenumbers` but 0 at the Nyquist mode.

    For even ``nx`` the Nyquist mode cos(pi x / dx) has a zero derivative on the grid; i k there
    would turn a real field complex.
    """
    k = wavenumbers(nx, length)
    if nx % 2 == 0:
        k[-1] = 0.0
    return k


def dealias_mask(nx: int) -> np.ndarray:
    """Orszag's 2/3 rule: True for the rfft modes n with 3 n < nx, which a quadratic term cannot alias.

    A product of two fields holding only |n| <= K has modes up to 2 K; on nx points these fold onto
    2 K - nx, which stays outside the kept range exactly when 3 K < nx.
    """
    return 3 * np.arange(nx // 2 + 1) < nx


def propagate(
    u0: np.ndarray, shifts: np.ndarray, spreads: np.ndarray | None = None, length: float = 1.0
) -> np.ndarray:
    """Exact solution of u_t = c(t) u_x + nu(t) u_xx for ``(n, nx)`` states u0: ``(n, len(shifts), nx)``.

    ``shifts`` are C(t) = int_0^t c and ``spreads`` N(t) = int_0^t nu at the output times (none:
    pure transport, u0(x + C(t))). Every Fourier mode is multiplied by exp(i k C - k^2 N); this is
    exact for the trigonometric interpolant of u0. For even nx the Nyquist mode cannot be shifted
    unambiguously and keeps only the real part of its rotation (resolved data has none).
    """
    nx = u0.shape[-1]
    k = wavenumbers(nx, length)
    exponent = 1j * np.multiply.outer(shifts, k)
    if spreads is not None:
        exponent = exponent - np.multiply.outer(spreads, k**2)
    return np.fft.irfft(np.fft.rfft(u0, axis=-1)[:, None, :] * np.exp(exponent), n=nx, axis=-1)


@dataclass(frozen=True)
class ETDRK4Coefficients:
    """The diagonal multipliers of one ETDRK4 step of size ``h`` (Kassam & Trefethen 2005, eq. 2.5)."""

    h: float
    E: np.ndarray  # noqa: N815 (exp(h L), the paper's names)
    E2: np.ndarray  # noqa: N815
    Q: np.ndarray  # noqa: N815
    f1: np.ndarray
    f2: np.ndarray
    f3: np.ndarray


def etdrk4_coefficients(linear: np.ndarray, h: float, n_contour: int = 64) -> ETDRK4Coefficients:
    """ETDRK4 coefficients for the diagonal linear operator ``linear`` and step ``h``.

    The phi functions (e^z - 1) / z etc. are averaged over ``n_contour`` points on the unit circle
    around each z = h L (Cauchy's integral formula), which is exact to rounding for these entire
    functions and immune to the cancellation of the direct formulas at small |z|. For a real
    operator the imaginary parts cancel between conjugate contour points and are dropped.
    """
    z = h * np.asarray(linear)[..., None]
    roots = np.exp(1j * np.pi * (np.arange(1, n_contour + 1) - 0.5) / n_contour)
    lr = z + roots
    exp_lr = np.exp(lr)

    def contour_mean(values: np.ndarray) -> np.ndarray:
        mean = values.mean(axis=-1)
        return mean.real if np.isrealobj(linear) else mean

    return ETDRK4Coefficients(
        h=h,
        E=np.exp(z[..., 0]),
        E2=np.exp(z[..., 0] / 2),
        Q=h * contour_mean((np.exp(lr / 2) - 1) / lr),
        f1=h * contour_mean((-4 - lr + exp_lr * (4 - 3 * lr + lr**2)) / lr**3),
        f2=h * contour_mean((2 + lr + exp_lr * (lr - 2)) / lr**3),
        f3=h * contour_mean((-4 - 3 * lr - lr**2 + exp_lr * (4 - lr)) / lr**3),
    )


def etdrk4_step(v: np.ndarray, nonlinear: NonlinearTerm, c: ETDRK4Coefficients) -> np.ndarray:
    """One ETDRK4 step of dv/dt = L v + N(v) (Cox & Matthews 2002), fourth order in ``c.h``."""
    nv = nonlinear(v)
    a = c.E2 * v + c.Q * nv
    na = nonlinear(a)
    b = c.E2 * v + c.Q * na
    nb = nonlinear(b)
    cc = c.E2 * a + c.Q * (2 * nb - nv)
    nc = nonlinear(cc)
    return c.E * v + c.f1 * nv + 2 * c.f2 * (na + nb) + c.f3 * nc


def substeps(times: np.ndarray, max_step: float) -> np.ndarray:
    """Equal internal steps per output interval: ceil(interval / max_step), so outputs are hit exactly."""
    if not (math.isfinite(max_step) and max_step > 0):
        raise InputError(f"the internal time step must be positive and finite, got {max_step}")
    check_step_count(times, max_step)
    # The 1e-9 slack keeps interval = 10 * max_step at 10 steps despite rounding.
    return np.maximum(1, np.ceil(np.diff(times) / max_step * (1 - 1e-9))).astype(int)


def integrate_etdrk4(
    u0: np.ndarray,
    linear: np.ndarray,
    nonlinear: NonlinearTerm,
    times: np.ndarray,
    max_step: float,
    *,
    label: str = "ETDRK4",
    progress: bool = False,
    transform: Transform | None = None,
) -> np.ndarray:
    """Solve dv/dt = L v + N(v) for a batch ``u0`` (n, nx) and return u at ``times``: (n, len(times), nx).

    ``times[0]`` is the time of ``u0``; between outputs the solver takes equal steps no longer than
    ``max_step``. All samples advance together (no loop over samples). A solution that turns
    NaN/Inf raises InputError naming the time, so a too-large step never writes garbage.
    ``transform`` is the basis of ``linear`` and ``nonlinear`` (default: the periodic rfft); with
    another (a 2-D cosine transform) ``u0`` is ``(n, *state)`` and the result ``(n, len(times), *state)``.
    """
    u0 = np.asarray(u0, dtype=np.float64)
    transform = periodic_transform(u0.shape[-1]) if transform is None else transform
    out = np.empty((u0.shape[0], len(times), *u0.shape[1:]))
    out[:, 0] = u0
    v = transform.forward(u0)
    cache: dict[float, ETDRK4Coefficients] = {}
    counts = substeps(times, max_step)
    bar = progress_bar(total=int(counts.sum()), desc=label, unit="step", enabled=progress, leave=False)
    with bar, np.errstate(over="ignore", invalid="ignore"):  # a blow-up is reported below
        for i, (count, interval) in enumerate(zip(counts, np.diff(times)), start=1):
            h = float(interval / count)
            if h not in cache:
                cache[h] = etdrk4_coefficients(linear, h)
            for _ in range(count):
                v = etdrk4_step(v, nonlinear, cache[h])
            bar.update(count)
            if not np.all(np.isfinite(v)):
                raise InputError(
                    f"{label}: the solution became NaN/Inf before t={times[i]:g} with internal step "
                    f"{h:.3g}; lower the time step (--dt) or raise the resolution (--nx)"
                )
            out[:, i] = transform.inverse(v)
    return out


def spectral_tail(u: np.ndarray, kept: np.ndarray | None = None) -> float:
    """How resolved ``u`` (..., nx) is: the largest |u_hat| in the top third of the kept modes over max |u_hat|.

    ``kept`` marks the rfft modes the solver evolves (default: all). A resolved smooth field has a
    tail near rounding (~1e-12); above ~1e-6 the stored float32 data shows truncation effects.
    The mean (mode 0) is excluded from the reference magnitude so a large offset hides nothing.
    """
    spectrum = np.abs(np.fft.rfft(u, axis=-1))
    modes = np.flatnonzero(np.ones(spectrum.shape[-1], bool) if kept is None else kept)
    top = modes[modes >= math.ceil(2 * (modes[-1] + 1) / 3)]
    reference = spectrum[..., 1:].max(axis=-1)
    tail = spectrum[..., top].max(axis=-1)
    ratio = np.divide(tail, reference, out=np.zeros_like(tail), where=reference > 0)
    return float(ratio.max())
