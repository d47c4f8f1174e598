"""PDEBench's 1D layout, read and written side by side.

A PDEBench 1D file (``1D_Advection_Sols_beta{beta}.hdf5``) holds ``tensor`` (N, Nt, Nx) float32,
``x-coordinate`` (Nx,), ``t-coordinate`` with Nt + 1 entries k dt_save (files of the same layout
from other tools with Nt entries are read too) and constant parameters as
root attributes (``beta``). :func:`read_pdebench` maps it onto :class:`~.stored.Contents` for
:class:`~physode.trajectories.TrajectoryFile` (``datasets/README.md`` says how);
:func:`write_pdebench` writes simulated :class:`~.in_memory.Trajectories` in it, atomically.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from physode.errors import InputError
from physode.io.atomic import atomic_path
from physode.resources import check_disk_space
from physode.trajectories.in_memory import Trajectories
from physode.trajectories.stored import CheckedFile, Contents
from physode.trajectories.writer import file_size_bound
from physode.version import __version__

PDEBENCH_FIELD = "tensor"


def _number(value: Any) -> bool:
    """True for a finite int or float (not a bool, a string or an array)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value)


def read_pdebench(root: CheckedFile, test_fraction: float) -> Contents:
    """PDEBench 1D: t-coordinate less its extra last entry if it has one; advection speed beta -> c = -beta.

    PDEBench files carry no split: the first ``int(N * test_fraction)`` samples are the test set,
    as in PDEBench's own loaders.
    """
    field = root.check_field(root.node(PDEBENCH_FIELD), PDEBENCH_FIELD, (3,), "3-D (sample, t, x)")
    n_samples, n_times, n_x = field.shape
    x = root.coordinate("x-coordinate", n_x)
    t = snapshot_times(root, n_times)
    coefficients = {}
    if "beta" in root.attrs:  # PDEBench: u_t + beta u_x = 0, i.e. c = -beta in dz/dt = c dz/dx
        beta = root.attrs["beta"]
        if not _number(beta):
            root.fail(f"attribute beta (the advection speed) is {beta!r}, expected a finite number")
        coefficients["c"] = np.full(n_times, -float(beta))
    if not 0.0 <= test_fraction < 1.0:
        raise InputError(f"pdebench_test_fraction must be in [0, 1), got {test_fraction}")
    return Contents(layout="pdebench", field=field, t=t, space={"x": x}, channels=("u",), coefficients=coefficients,
                    test_mask=np.arange(n_samples) < int(n_samples * test_fraction),
                    x_dtype=root.node("x-coordinate").dtype)


def snapshot_times(root: CheckedFile, n_times: int, name: str = "t-coordinate") -> np.ndarray:
    """The times of the ``n_times`` snapshots, from either convention of ``t-coordinate`` (or ``name``).

    PDEBench's downloads store Nt + 1 entries: the snapshot times plus the end of the last
    interval, which has no snapshot in ``tensor`` (dropped here). Files written by other tools in
    the same layout often store exactly one time per snapshot; both are read.
    """
    node = root.node(name)
    stored = node.shape if isinstance(node, h5py.Dataset) else None  # None: coordinate() names what is missing
    if stored == (n_times,):
        return root.coordinate(name, n_times)
    if stored not in (None, (n_times + 1,)):
        root.fail(f"coordinate {name!r} has shape {stored}, expected ({n_times},) (one time per snapshot) "
                  f"or ({n_times + 1},) (PDEBench's downloads: one more, the end of the last interval) to "
                  f"match tensor's {n_times} snapshots")
    return root.coordinate(name, n_times + 1)[:-1]


def write_pdebench(path: str | os.PathLike[str], data: Trajectories, *, seed: int, replace: bool = True) -> Path:
    """Write ``data`` (equally spaced times) in PDEBench's 1D layout, atomically (``replace``: as for
    :func:`~.writer.write_trajectories`).

    ``t-coordinate`` is PDEBench's ``arange(Nt + 1) * dt_save``; the constant parameters become
    root attributes (``beta``), and the generator settings are kept as JSON in ``generator``.
    """
    if data.channels is not None:
        raise InputError("the PDEBench 1D layout holds one field; write a system of fields in the physode layout")
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
    check_disk_space(path, file_size_bound(tensor.nbytes, 4 * (len(data.x) + len(t_coordinate))),
                     "free space or choose another path")
    with atomic_path(path, replace=replace) as tmp, h5py.File(tmp, "w") as f:
        f.create_dataset(PDEBENCH_FIELD, data=tensor)
        f.create_dataset("x-coordinate", data=data.x.astype(np.float32))
        f.create_dataset("t-coordinate", data=t_coordinate.astype(np.float32))
        f.attrs.update(data.parameters)
        f.attrs.update(
            equation=data.equation, generator=json.dumps({**data.settings, "seed": seed}, sort_keys=True),
            seed=seed, physode_version=__version__,
        )
    return Path(path)
