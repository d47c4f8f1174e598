"""A user's own KdV data set, written the way a user outside physode would write it.

``u_t + 6 u u_x + u_xxx = 0`` on a periodic domain of length :data:`LENGTH`, solved by a
pseudo-spectral ETDRK4 (Cox and Matthews 2002, with the contour-integral coefficients of Kassam and
Trefethen 2005) in numpy: its own code, nothing from physode's simulators. In Fourier space
``û_t = i k^3 û - 3 i k FFT(u^2)``: the stiff dispersion ``i k^3`` is integrated exactly and the
nonlinear term, dealiased by the 2/3 rule, by the fourth-order scheme. ``tests/test_compare.py`` checks
it against the exact soliton ``2 k^2 sech^2(k (x - 4 k^2 t - x0))``.

Initial states are two solitons with random speeds and positions (the taller overtakes the other:
a nonlinear interaction no linear model follows). Written with h5py in PDEBench's 1-D layout
(``tensor``, float32 ``x-coordinate``, a ``t-coordinate`` with one time per snapshot), no physode
writer involved. Run ``python -m benchmarks.yourdata.kdv OUT.hdf5``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import h5py
import numpy as np

LENGTH = 20.0  # the domain [0, LENGTH): a soliton with k <= 1 decays to 1e-8 of its height half a domain away
N_X, N_T, T_FINAL, N_SAMPLES = 64, 21, 2.0, 128
DT = 2e-3  # ETDRK4's step: the nonlinear term's CFL (6 max|u| dt / dx) stays below 0.1
CONTOUR_POINTS = 32


def wavenumbers(n_x: int, length: float) -> np.ndarray:
    return 2 * np.pi * np.fft.rfftfreq(n_x, d=length / n_x)


def soliton(x: np.ndarray, k: float, x0: float, t: float = 0.0, length: float = LENGTH) -> np.ndarray:
    """The exact one-soliton solution, centred on its nearest periodic image."""
    shift = (x - 4 * k**2 * t - x0 + length / 2) % length - length / 2
    return 2 * k**2 / np.cosh(k * shift) ** 2


def solve_kdv(u0: np.ndarray, times: np.ndarray, length: float = LENGTH, dt: float = DT) -> np.ndarray:
    """``u`` at ``times`` (the first is the start) from ``u0`` ``(samples, n_x)``: ``(samples, len(times), n_x)``."""
    n_x = u0.shape[-1]
    k = wavenumbers(n_x, length)
    linear = 1j * k**3
    dealias = k < (2 / 3) * k.max()
    # ETDRK4's coefficients by a contour integral around each L dt (Kassam and Trefethen, eqs. 2.5 and 3.1) on
    # the whole circle: L is imaginary here, so their half circle and real part (for real L) do not apply.
    roots = np.exp(2j * np.pi * (np.arange(1, CONTOUR_POINTS + 1) - 0.5) / CONTOUR_POINTS)
    lr = dt * linear[:, None] + roots[None, :]
    e, e2 = np.exp(dt * linear), np.exp(dt * linear / 2)
    q = dt * np.mean((np.exp(lr / 2) - 1) / lr, axis=1)
    f1 = dt * np.mean((-4 - lr + np.exp(lr) * (4 - 3 * lr + lr**2)) / lr**3, axis=1)
    f2 = dt * np.mean((2 + lr + np.exp(lr) * (-2 + lr)) / lr**3, axis=1)
    f3 = dt * np.mean((-4 - 3 * lr - lr**2 + np.exp(lr) * (4 - lr)) / lr**3, axis=1)

    def nonlinear(v: np.ndarray) -> np.ndarray:
        u = np.fft.irfft(v * dealias, n=n_x)
        return -3j * k * np.fft.rfft(u * u)

    v = np.fft.rfft(u0)
    out = np.empty((u0.shape[0], len(times), n_x))
    out[:, 0] = u0
    t = times[0]
    for index, target in enumerate(times[1:], start=1):
        steps = max(1, round((target - t) / dt))
        if not np.isclose(steps * dt, target - t, rtol=1e-9, atol=1e-12):
            raise ValueError(f"the times must be multiples of dt = {dt}; got an interval of {target - t}")
        for _ in range(steps):
            nv = nonlinear(v)
            a = e2 * v + q * nv
            na = nonlinear(a)
            b = e2 * v + q * na
            nb = nonlinear(b)
            c = e2 * a + q * (2 * nb - nv)
            nc = nonlinear(c)
            v = e * v + f1 * nv + 2 * f2 * (na + nb) + f3 * nc
        t = target
        out[:, index] = np.fft.irfft(v, n=n_x)
    return out


def two_solitons(x: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` states of two solitons, k in [0.5, 0.9], at random places at least a quarter domain apart."""
    k = rng.uniform(0.5, 0.9, size=(count, 2))
    first = rng.uniform(0, LENGTH, size=count)
    second = first + rng.uniform(0.25, 0.75, size=count) * LENGTH
    return np.stack([soliton(x, k[i, 0], first[i]) + soliton(x, k[i, 1], second[i]) for i in range(count)])


def write_file(path: Path, samples: int = N_SAMPLES, seed: int = 0) -> Path:
    """Simulate ``samples`` trajectories and write them in PDEBench's 1-D layout with h5py."""
    x = LENGTH * np.arange(N_X) / N_X
    times = np.linspace(0.0, T_FINAL, N_T)
    u = solve_kdv(two_solitons(x, samples, np.random.default_rng(seed)), times)
    with h5py.File(path, "w") as f:
        f.create_dataset("tensor", data=u.astype(np.float32))
        f.create_dataset("x-coordinate", data=x.astype(np.float32))
        f.create_dataset("t-coordinate", data=times.astype(np.float32))
        f.attrs["equation"] = "u_t + 6 u u_x + u_xxx = 0"
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--samples", type=int, default=N_SAMPLES)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"wrote {write_file(args.out, args.samples, args.seed)}")


if __name__ == "__main__":
    main()
