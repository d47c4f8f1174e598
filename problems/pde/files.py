"""The one place that writes simulated PDE trajectories to files: the physode format and PDEBench's layout.

Every simulator returns :class:`Trajectories`; :func:`write` stores it as a physode trajectory
file (``datasets/README.md``) with a seeded train/test split, :func:`write_pdebench` in PDEBench's
1D layout (``1D_Advection_Sols_beta{beta}.hdf5``: ``tensor`` (N, Nt, Nx) float32,
``x-coordinate``, ``t-coordinate`` with Nt + 1 entries k dt_save, constant parameters as root
attributes). Both write atomically. :class:`physode.io.TrajectoryFile` reads both layouts.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from physode.errors import InputError
from physode.io.atomic import atomic_path
from physode.io.trajectories import make_test_mask, write_trajectories
from physode.version import __version__


@dataclass(frozen=True)
class Trajectories:
    """Simulated data and everything the trajectory file records about it.

    ``u`` is float64 (sample, t, x); ``coefficients`` are time-varying PDE coefficients over ``t``
    (stored as variables), ``parameters`` constant ones (stored as root attributes) and
    ``settings`` the generator settings (stored as JSON), enough to regenerate the data.
    """

    u: np.ndarray
    t: np.ndarray
    x: np.ndarray
    equation: str
    settings: dict[str, Any]
    coefficients: dict[str, np.ndarray] = field(default_factory=dict)
    parameters: dict[str, float] = field(default_factory=dict)


def write(
    path: str | os.PathLike[str],
    data: Trajectories,
    *,
    seed: int,
    test_fraction: float = 0.2,
    compression: str | None = None,
) -> Path:
    """Write ``data`` as a physode trajectory file with a seeded random train/test split."""
    mask = make_test_mask(data.u.shape[0], test_fraction, seed)
    settings = {**data.settings, "seed": seed, "test_fraction": test_fraction}
    return write_trajectories(
        path, data.u, data.t, data.x, equation=data.equation, coefficients=data.coefficients,
        test_mask=mask, generator=settings, seed=seed, attrs=data.parameters,
        compression=compression,
    )


def write_pdebench(path: str | os.PathLike[str], data: Trajectories, *, seed: int) -> Path:
    """Write ``data`` (equally spaced times) in PDEBench's 1D layout, atomically.

    ``t-coordinate`` is PDEBench's ``arange(Nt + 1) * dt_save``; the constant parameters become
    root attributes (``beta``), and the generator settings are kept as JSON in ``generator``.
    """
    steps = np.diff(data.t)
    if len(data.t) < 2 or not np.allclose(steps, steps[0], rtol=1e-9, atol=0.0):
        raise InputError(
            "the PDEBench layout needs at least two equally spaced times (it stores only dt_save)"
        )
    with np.errstate(over="ignore"):
        tensor = data.u.astype(np.float32)
    if not np.all(np.isfinite(tensor)):
        raise InputError("u has NaN or Inf after conversion to float32; nothing was written")
    t_coordinate = np.arange(len(data.t) + 1) * steps[0]
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        f.create_dataset("tensor", data=tensor)
        f.create_dataset("x-coordinate", data=data.x.astype(np.float32))
        f.create_dataset("t-coordinate", data=t_coordinate.astype(np.float32))
        f.attrs.update(data.parameters)
        f.attrs.update(
            equation=data.equation, generator=json.dumps({**data.settings, "seed": seed}, sort_keys=True),
            seed=seed, physode_version=__version__,
        )
    return Path(path)
