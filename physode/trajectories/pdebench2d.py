"""PDEBench's 2-D layouts, read lazily: h5py reads only the samples asked for, never the whole file.

- One file, samples along the first axis: ``tensor`` (N, T, X, Y) (one field), or the fields of
  the compressible Navier-Stokes data, ``density``, ``pressure``, ``Vx``, ``Vy`` (N, T, X, Y) each,
  read as channels in that order (PDEBench's own loader stacks them so); coordinates
  ``x-coordinate``, ``y-coordinate``, ``t-coordinate`` (T or T + 1 entries, as in 1D). The test set
  is the first ``int(N * test_fraction)`` samples, as PDEBench's single-file loader takes it.
- A group per sample (diffusion-reaction, shallow water): ``"0000"/data`` (T, X, Y, C) (or (T, X, C)
  in 1D) with ``"0000"/grid/x``, ``grid/y``, ``grid/t``; sample i is the i-th group in sorted order
  and the test set is the last groups from ``int(N * (1 - test_fraction))`` on, as PDEBench's
  loader splits them.

Either reads as (n, t, channel, x, y): PDEBench's axis order, named by :attr:`Contents.space`.
"""

from __future__ import annotations

import h5py
import numpy as np

from physode.errors import InputError
from physode.trajectories.pdebench import PDEBENCH_FIELD, snapshot_times
from physode.trajectories.stored import CheckedFile, Contents

FLUID_FIELDS = ("density", "pressure", "Vx", "Vy")
"""PDEBench's compressible Navier-Stokes fields, in the channel order of its loader."""
GROUP_DATA = "data"
GROUP_AXES = ("x", "y")


class StackedField:
    """Datasets of equal shape (N, T, *space) read as one field (N, T, channel, *space)."""

    def __init__(self, datasets: list[h5py.Dataset]) -> None:
        self._datasets = datasets
        first = datasets[0]
        self.shape = (first.shape[0], first.shape[1], len(datasets), *first.shape[2:])
        self.dtype = first.dtype
        self.chunks = None

    def __getitem__(self, selection: slice | np.ndarray) -> np.ndarray:
        return np.stack([dataset[selection] for dataset in self._datasets], axis=2)


class GroupField:
    """Groups ``name/data`` (T, *space, C), one per sample, read as one field (N, T, C, *space)."""

    def __init__(self, root: CheckedFile, names: list[str], sample_shape: tuple[int, ...]) -> None:
        self._root, self._names = root, names
        self.shape = (len(names), sample_shape[0], sample_shape[-1], *sample_shape[1:-1])
        self.dtype = np.dtype(np.float32)
        self.chunks = None

    def __getitem__(self, selection: slice | np.ndarray) -> np.ndarray:
        indices = np.arange(len(self._names))[selection]
        block = np.empty((len(indices), *self.shape[1:]), dtype=self.dtype)
        for row, index in enumerate(indices):
            block[row] = np.moveaxis(self._root.node(f"{self._names[index]}/{GROUP_DATA}")[()], -1, 1)
        return block


def is_pdebench_2d(root: CheckedFile) -> bool:
    """Whether the root group looks like one of PDEBench's 2-D layouts (the reader checks the rest)."""
    names = root.names()
    if any(name in names for name in FLUID_FIELDS):
        return True
    if PDEBENCH_FIELD in names:
        tensor = root.node(PDEBENCH_FIELD)  # refused here if stored outside the file
        return isinstance(tensor, h5py.Dataset) and tensor.ndim == 4
    # Only hard links are followed: resolving another kind could open another file.
    return bool(names) and all(isinstance(root.file.get(name, getlink=True), h5py.HardLink)
                               and isinstance(root.file[name], h5py.Group) for name in names)


def read_pdebench_2d(root: CheckedFile, test_fraction: float) -> Contents:
    """The layout of the file: one file (``tensor`` or the fluid fields) or a group per sample."""
    if not 0.0 <= test_fraction < 1.0:
        raise InputError(f"pdebench_test_fraction must be in [0, 1), got {test_fraction}")
    if PDEBENCH_FIELD in root or any(name in root for name in FLUID_FIELDS):
        return _single_file(root, test_fraction)
    return _groups(root, test_fraction)


def _single_file(root: CheckedFile, test_fraction: float) -> Contents:
    if "Vz" in root:
        root.fail("3-D PDEBench data (with Vz) is not read; physode reads 1-D and 2-D fields")
    names = [PDEBENCH_FIELD] if PDEBENCH_FIELD in root else [name for name in FLUID_FIELDS if name in root]
    datasets = [root.check_field(root.node(name), name, (4,), "4-D (sample, t, x, y)") for name in names]
    shapes = {name: dataset.shape for name, dataset in zip(names, datasets)}
    if len(set(shapes.values())) > 1:
        root.fail(f"the fields {', '.join(names)} must have one shape, got {shapes}")
    n_samples, n_times, n_x, n_y = datasets[0].shape
    space = {"x": root.coordinate("x-coordinate", n_x), "y": root.coordinate("y-coordinate", n_y)}
    return Contents(layout="pdebench", field=StackedField(datasets), t=snapshot_times(root, n_times), space=space,
                    channels=("u",) if names == [PDEBENCH_FIELD] else tuple(names), coefficients={},
                    test_mask=np.arange(n_samples) < int(n_samples * test_fraction),
                    x_dtype=root.node("x-coordinate").dtype)


def _groups(root: CheckedFile, test_fraction: float) -> Contents:
    names = sorted(root.names())
    shapes = {}
    for name in names:  # metadata only: every sample's shape and dtype, no values
        data = root.node(f"{name}/{GROUP_DATA}")
        if not isinstance(data, h5py.Dataset):
            root.fail(f"group {name!r} has no dataset {GROUP_DATA!r}; PDEBench's group-per-sample layout "
                      f"stores each sample as NAME/{GROUP_DATA} (t, x, [y,] channel)")
        shapes[name] = root.check_field(data, f"{name}/{GROUP_DATA}", (3, 4), "(t, x, channel) or (t, x, y, channel)").shape
    first = shapes[names[0]]
    odd = next((name for name in names if shapes[name] != first), None)
    if odd is not None:
        root.fail(f"sample {odd!r} has shape {shapes[odd]}, but {names[0]!r} has {first}; every sample "
                  "of the file must have one shape")
    axes = GROUP_AXES[: len(first) - 2]
    grid = f"{names[0]}/grid"
    space = {axis: root.coordinate(f"{grid}/{axis}", length) for axis, length in zip(axes, first[1:-1])}
    t = snapshot_times(root, first[0], f"{grid}/t")
    n_channels = first[-1]
    channels = ("u",) if n_channels == 1 else tuple(f"u{i}" for i in range(n_channels))
    first_test = int(len(names) * (1 - test_fraction))  # PDEBench: the sorted groups from here on are test
    return Contents(layout="pdebench-groups", field=GroupField(root, names, first), t=t, space=space,
                    channels=channels, coefficients={}, test_mask=np.arange(len(names)) >= first_test,
                    x_dtype=root.node(f"{grid}/x").dtype)
