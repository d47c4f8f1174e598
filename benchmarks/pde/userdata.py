"""Rows from data physode did not make (issue 26 item 6): the KdV and Kuramoto-Sivashinsky files of
:mod:`benchmarks.yourdata`, simulated by its independent solvers (a user-style numpy ETDRK4, py-pde) and
written by their own h5py code, read back as they are, so a row sees exactly what that user's file holds
(the row then writes them in PDEBench's layout as every PDEBench row is written)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from types import ModuleType

import numpy as np

from benchmarks.yourdata import kdv as kdv_solver
from physode import trajectories


def user_file(solver: ModuleType) -> trajectories.Trajectories:
    """The file ``solver.write_file`` writes (its own samples and seed), as trajectories; its times are
    the solver's own ``linspace(0, T_FINAL, N_T)`` (the file stores them in float32)."""
    with tempfile.TemporaryDirectory() as folder:
        path = solver.write_file(Path(folder) / "user.hdf5")
        with trajectories.TrajectoryFile(path) as data:
            u, x, equation = data[:].astype(np.float64), data.x, str(data.attrs["equation"])
    times = np.linspace(0.0, solver.T_FINAL, solver.N_T)
    settings = {"solver": solver.__name__, "samples": u.shape[0], "t_final": solver.T_FINAL, "nt": solver.N_T}
    return trajectories.Trajectories(u=u, t=times, x=x, equation=equation, settings=settings)


def kdv() -> trajectories.Trajectories:
    """Two-soliton KdV from the numpy ETDRK4 solver (:mod:`benchmarks.yourdata.kdv`)."""
    return user_file(kdv_solver)


def kuramoto_sivashinsky() -> trajectories.Trajectories:
    """Kuramoto-Sivashinsky from py-pde (:mod:`benchmarks.yourdata.pypde_ks`)."""
    from benchmarks.yourdata import pypde_ks  # py-pde (numba) takes seconds to import: only where this row is built

    return user_file(pypde_ks)
