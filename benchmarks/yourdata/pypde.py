"""Data sets from py-pde, an independent package, as a user would make them.

Each equation lives on py-pde's periodic ``CartesianGrid`` of 64 cell-centred points on [0, 2 pi): an
equation on a domain of length ``2 pi a`` rescaled to [0, 2 pi) (``x = a y``, so ``d/dy = d/dx / a``).
Initial states are random Fourier series over a band of wavenumbers; py-pde's scipy solver (LSODA, its
default tolerances tightened: the fourth derivatives are stiff for an explicit scheme on this grid)
stores 21 snapshots to ``t_final``. Written with h5py in PDEBench's 1-D layout as PDEBench's
downloads store it: float32 ``tensor`` and ``x-coordinate``, a ``t-coordinate`` with one entry more
than the snapshots. Run ``python -m benchmarks.yourdata.pypde {ks,sh} OUT.hdf5`` (py-pde is in the
``bench`` extra).

- :data:`KS`, Kuramoto-Sivashinsky ``v_t = -v_yy - v_yyyy - v v_y`` with ``a = 4``: wavenumbers 1 to 3
  grow and feed the chaotic cascade.
- :data:`SH`, Swift-Hohenberg ``v_t = eps v - (1 + d_yy)^2 v + delta v^2 - v^3`` with ``a = 8``,
  ``eps = 0.3``, ``delta = 1``: stripes of wavenumber 8 (the critical one) win over a band of 4 to 12 while
  the quadratic term builds a mean and harmonics (pattern formation, not chaos).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import pde

N_X, N_T, N_SAMPLES = 64, 21, 128


@dataclass(frozen=True)
class PyPdeFile:
    """One equation's data set: py-pde's expression on [0, 2 pi), its initial states' band and horizon."""

    name: str
    expression: str  # for u on [0, 2 pi), in py-pde's syntax
    wavenumbers: tuple[int, ...]  # of the initial states' Fourier series
    divisors: tuple[float, ...]  # each wavenumber's amplitude is normal / divisor
    t_final: float
    description: str  # the file's ``equation`` attribute, before py-pde's version

    def times(self) -> np.ndarray:
        return np.linspace(0.0, self.t_final, N_T)

    def equation(self) -> pde.PDE:
        return pde.PDE({"u": self.expression})

    def write_file(self, path: Path, samples: int = N_SAMPLES, seed: int = 0) -> Path:
        grid = pde.CartesianGrid([[0, 2 * np.pi]], N_X, periodic=True)
        x = grid.axes_coords[0]
        times = self.times()
        rng, eq = np.random.default_rng(seed), self.equation()
        u = np.stack([solve(eq, sum(rng.normal() * np.cos(k * x + rng.uniform(0, 2 * np.pi)) / d
                                    for k, d in zip(self.wavenumbers, self.divisors)), grid, times)
                      for _ in range(samples)])
        with h5py.File(path, "w") as f:
            f.create_dataset("tensor", data=u.astype(np.float32))
            f.create_dataset("x-coordinate", data=x.astype(np.float32))
            f.create_dataset("t-coordinate", data=np.append(times, times[-1] + times[1]).astype(np.float32))
            f.attrs["equation"] = f"{self.description}, py-pde {pde.__version__}"
        return path


def solve(eq: pde.PDE, u0: np.ndarray, grid: pde.CartesianGrid, times: np.ndarray) -> np.ndarray:
    """One trajectory ``(len(times), n_x)`` from ``u0`` at ``times[0] = 0`` (one ``eq`` for every trajectory:
    py-pde compiles it on its first solve)."""
    storage = pde.MemoryStorage()
    eq.solve(pde.ScalarField(grid, u0), t_range=float(times[-1]), tracker=[storage.tracker(times.tolist())],
             solver="scipy", method="LSODA", rtol=1e-8, atol=1e-10)
    return np.array(storage.data)


def _rescaled(a: float, terms: str) -> str:
    """``terms`` with the domain scale's powers filled in (``{a}``, ``{a2}``, ``{a4}``: ``a``, ``a^2``, ``a^4``)."""
    return terms.format(a=a, a2=a**2, a4=a**4)


KS = PyPdeFile("Kuramoto-Sivashinsky",
               _rescaled(4.0, "-laplace(u) / {a2} - laplace(laplace(u)) / {a4} - u * d_dx(u) / {a}"),
               wavenumbers=(1, 2, 3), divisors=(1, 2, 3), t_final=10.0,
               description="Kuramoto-Sivashinsky on [0, 2 pi), domain scale 4.0")
SH = PyPdeFile("Swift-Hohenberg",
               _rescaled(8.0, "-0.7 * u - 2 * laplace(u) / {a2} - laplace(laplace(u)) / {a4} + u**2 - u**3"),
               wavenumbers=tuple(range(4, 13)), divisors=(3.0,) * 9, t_final=20.0,
               description="Swift-Hohenberg (eps 0.3, delta 1) on [0, 2 pi), domain scale 8.0")
FILES = {"ks": KS, "sh": SH}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("equation", choices=sorted(FILES))
    parser.add_argument("out", type=Path)
    parser.add_argument("--samples", type=int, default=N_SAMPLES)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"wrote {FILES[args.equation].write_file(args.out, args.samples, args.seed)}")


if __name__ == "__main__":
    main()
