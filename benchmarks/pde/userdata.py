"""Rows from data physode did not make (issue 26 item 6): the KdV and Kuramoto-Sivashinsky files of
:mod:`benchmarks.yourdata`, simulated by its independent solvers (a user-style numpy ETDRK4, py-pde) and
written by their own h5py code, read back as they are, so a row sees exactly what that user's file holds
(the row then writes them in PDEBench's layout as every PDEBench row is written)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks.yourdata import kdv as kdv_solver
from physode import trajectories


def user_file(write_file: Callable[[Path], Path], times: np.ndarray, solver: str) -> trajectories.Trajectories:
    """The file ``write_file`` writes (its own samples and seed), as trajectories; ``times`` are the
    solver's own (the file stores them in float32)."""
    with tempfile.TemporaryDirectory() as folder:
        path = write_file(Path(folder) / "user.hdf5")
        with trajectories.TrajectoryFile(path) as data:
            u, x, equation = data[:].astype(np.float64), data.x, str(data.attrs["equation"])
    settings = {"solver": solver, "samples": u.shape[0], "t_final": float(times[-1]), "nt": len(times)}
    return trajectories.Trajectories(u=u, t=times, x=x, equation=equation, settings=settings)


def kdv() -> trajectories.Trajectories:
    """Two-soliton KdV from the numpy ETDRK4 solver (:mod:`benchmarks.yourdata.kdv`)."""
    return user_file(kdv_solver.write_file, np.linspace(0.0, kdv_solver.T_FINAL, kdv_solver.N_T), kdv_solver.__name__)


def kuramoto_sivashinsky() -> trajectories.Trajectories:
    """Kuramoto-Sivashinsky from py-pde (:data:`benchmarks.yourdata.pypde.KS`)."""
    from benchmarks.yourdata.pypde import KS  # py-pde (numba) takes seconds to import: only where this row is built

    return user_file(KS.write_file, KS.times(), "benchmarks.yourdata.pypde.KS")
