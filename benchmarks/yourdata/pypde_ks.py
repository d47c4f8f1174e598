"""A Kuramoto-Sivashinsky data set from py-pde, an independent package, as a user would make it.

``u_t = -u_xx / a^2 - u_xxxx / a^4 - u u_x / a`` on py-pde's periodic ``CartesianGrid`` of 64
cell-centred points on [0, 2 pi): the Kuramoto-Sivashinsky equation ``v_t = -v_yy - v_yyyy - v v_y`` on
a domain of length ``2 pi a`` (:data:`SCALE`), rescaled to [0, 2 pi), whose wavenumbers 1 to 3 grow
and feed the nonlinear cascade. Initial states: random Fourier series over those wavenumbers; solved
by py-pde's scipy solver (LSODA, its default tolerances tightened: the fourth derivative is stiff for
an explicit scheme on this grid) over a short horizon, :data:`N_T` snapshots to :data:`T_FINAL`.
Written with h5py in PDEBench's 1-D layout as PDEBench's downloads store it: float32 ``tensor`` and
``x-coordinate``, a ``t-coordinate`` with one entry more than the snapshots. Run
``python -m benchmarks.yourdata.pypde_ks OUT.hdf5`` (py-pde is in the ``bench`` extra).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import h5py
import numpy as np
import pde

SCALE = 4.0  # the equation's domain is 2 pi SCALE long
N_X, N_T, T_FINAL, N_SAMPLES = 64, 21, 10.0, 128
WAVENUMBERS = (1, 2, 3)  # of the initial states: the unstable band k < SCALE


def equation() -> pde.PDE:
    a = SCALE
    return pde.PDE({"u": f"-laplace(u) / {a**2} - laplace(laplace(u)) / {a**4} - u * d_dx(u) / {a}"})


def solve(eq: pde.PDE, u0: np.ndarray, grid: pde.CartesianGrid, times: np.ndarray) -> np.ndarray:
    """One trajectory ``(len(times), n_x)`` from ``u0`` at ``times[0] = 0`` (one ``eq`` for every trajectory:
    py-pde compiles it on its first solve)."""
    storage = pde.MemoryStorage()
    eq.solve(pde.ScalarField(grid, u0), t_range=float(times[-1]), tracker=[storage.tracker(times.tolist())],
             solver="scipy", method="LSODA", rtol=1e-8, atol=1e-10)
    return np.array(storage.data)


def write_file(path: Path, samples: int = N_SAMPLES, seed: int = 0) -> Path:
    grid = pde.CartesianGrid([[0, 2 * np.pi]], N_X, periodic=True)
    x = grid.axes_coords[0]
    times = np.linspace(0.0, T_FINAL, N_T)
    rng, eq = np.random.default_rng(seed), equation()
    u = np.stack([solve(eq, sum(rng.normal() * np.cos(k * x + rng.uniform(0, 2 * np.pi)) / k for k in WAVENUMBERS),
                        grid, times) for _ in range(samples)])
    with h5py.File(path, "w") as f:
        f.create_dataset("tensor", data=u.astype(np.float32))
        f.create_dataset("x-coordinate", data=x.astype(np.float32))
        f.create_dataset("t-coordinate", data=np.append(times, times[-1] + times[1]).astype(np.float32))
        f.attrs["equation"] = f"Kuramoto-Sivashinsky on [0, 2 pi), domain scale {SCALE}, py-pde {pde.__version__}"
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
