"""Reading trajectory files lazily: :class:`TrajectoryFile`, for physode's format (written by
:mod:`.writer`, read by :mod:`.physode_layout`, specified in ``datasets/README.md``), PDEBench 1D
files (:mod:`.pdebench`) and PDEBench's 2-D layouts (:mod:`.pdebench2d`) alike.
Any file that does not match gets one :class:`~physode.errors.InputError` naming the problem.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from physode.errors import InputError
from physode.trajectories.pdebench import PDEBENCH_FIELD, read_pdebench
from physode.trajectories.pdebench2d import is_pdebench_2d, read_pdebench_2d
from physode.trajectories.physode_layout import read_physode
from physode.trajectories.schema import FIELD, SPACE, first_bad_sample
from physode.trajectories.stored import CheckedFile, Contents, damaged

if TYPE_CHECKING:
    import torch

READ_BLOCK_BYTES = 16 * 2**20  # validate() reads about this much at a time


class TrajectoryFile:
    """Lazy, validated read access to a trajectory file (physode format, PDEBench 1D or 2-D layouts).

    Opening checks the schema (ranks, dtypes, coordinate lengths, increasing t); values are checked
    for NaN/Inf as they are read, and :meth:`validate` scans the whole field chunk by chunk.
    ``f[i]``, ``f[a:b]`` and ``f[[i, j]]`` read samples as float32 ``(n, t, x)`` arrays, or
    ``(n, t, channel, x)`` for a file with channels (``channels`` names them; a single-field file
    has ``channels == ("u",)``); only ``f[:]`` loads everything. Use as a context manager, or call :meth:`close`.
    A field over more than one spatial axis always has a channel axis: ``(n, t, channel, y, x)``;
    ``space`` maps the spatial axes' names to their coordinates, in the field's axis order.

    PDEBench 1D files (``tensor``, ``x-coordinate``, ``t-coordinate``) are recognised by their
    ``tensor`` field; see ``datasets/README.md`` for how they map onto this interface, including
    ``pdebench_test_fraction`` (PDEBench's own loaders take the first 10% as the test set). Its 2-D
    layouts (one file: ``tensor`` or the fields ``density``, ``pressure``, ``Vx``, ``Vy`` as channels;
    a group per sample: ``"0000"/data``) read as ``(n, t, channel, x, y)``, PDEBench's axis order.

    Only data stored in the file itself is read: external links, external storage and virtual
    datasets, which make HDF5 read other files on this machine, are refused. A file written back
    by xarray (``to_netcdf(engine="h5netcdf")``) reads like the original.
    """

    layout: str
    """``"physode"``, ``"pdebench"`` (one file) or ``"pdebench-groups"`` (a group per sample)."""
    t: np.ndarray
    space: dict[str, np.ndarray]
    """The spatial axes, name -> coordinates (float64), in the field's order: ``{"x": x}`` in 1-D,
    ``{"y": y, "x": x}`` for a physode 2-D file, ``{"x": x, "y": y}`` for PDEBench's 2-D layouts."""
    x: np.ndarray
    """The coordinates of the ``x`` axis, ``space["x"]``."""
    x_dtype: np.dtype
    """The dtype ``x`` is stored in (``x`` is read as float64): a grid is uniform to its resolution at best."""
    channels: tuple[str, ...]
    """Names of the fields; ``("u",)`` for a single-field (3-D) file."""
    coefficients: dict[str, np.ndarray]
    """Time-varying PDE coefficients over ``t``, e.g. ``{"c": c_of_t}``."""
    attrs: dict[str, Any]
    """Root attributes of the file, decoded to Python values."""
    observed: np.ndarray | None
    """Boolean (sample, t), True where the frame was observed (a file's optional ``observed`` mask);
    None: every frame was. An unobserved frame's stored value means nothing: fits ignore it."""

    def __init__(self, path: str | os.PathLike[str], *, pdebench_test_fraction: float = 0.1) -> None:
        self._root = CheckedFile(path)
        self.path, self.attrs = self._root.path, self._root.attrs
        try:
            with damaged(self.path):
                if FIELD in self._root:
                    self._adopt(read_physode(self._root))
                elif is_pdebench_2d(self._root):
                    self._adopt(read_pdebench_2d(self._root, pdebench_test_fraction))
                elif PDEBENCH_FIELD in self._root:
                    self._adopt(read_pdebench(self._root, pdebench_test_fraction))
                else:
                    self._root.fail(
                        f"missing field {FIELD!r} (physode format), {PDEBENCH_FIELD!r} or 'density'/'Vx' "
                        "(PDEBench layouts) or groups '0000', '0001', ... holding 'data' (PDEBench's "
                        f"group-per-sample layout); found {sorted(self._root.names())[:10]}"
                    )
        except BaseException:
            self._root.close()
            raise

    def _adopt(self, contents: Contents) -> None:
        self.layout, self._field, self.t, self.space = contents.layout, contents.field, contents.t, contents.space
        self.x = contents.space[SPACE]
        self.x_dtype = contents.x_dtype
        self.channels, self.coefficients, self._split = contents.channels, contents.coefficients, contents.test_mask
        self.observed = contents.observed

    def validate(self, check_values: bool = True) -> None:
        """Re-check the schema and, with ``check_values``, scan every value for NaN/Inf.

        The scan reads about 16 MiB at a time (whole HDF5 chunks), never the whole field.
        """
        if self.layout == "physode":
            with damaged(self.path):
                self._adopt(read_physode(self._root))
        if check_values:
            rows = self._field.chunks[0] if self._field.chunks else 1
            per_row = math.prod(self.sample_shape) * self._field.dtype.itemsize
            step = rows * max(1, READ_BLOCK_BYTES // (rows * per_row))
            for start in range(0, self.n_samples, step):
                self._checked(self._read(slice(start, start + step)), start)

    # ---- reading ------------------------------------------------------------------------------

    @property
    def n_samples(self) -> int:
        return self._field.shape[0]

    @property
    def n_times(self) -> int:
        return self._field.shape[1]

    @property
    def n_x(self) -> int:
        return len(self.x)

    @property
    def space_shape(self) -> tuple[int, ...]:
        """The points along each spatial axis, in the field's order: ``(Nx,)``, ``(Ny, Nx)``, ..."""
        return tuple(len(values) for values in self.space.values())

    @property
    def n_channels(self) -> int:
        return len(self.channels)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """The shape of one sample: ``(t, x)``, or ``(t, channel, *space)`` for a file with channels."""
        return tuple(self._field.shape[1:])

    @property
    def train(self) -> np.ndarray:
        """Indices of the training samples."""
        return np.flatnonzero(~self._split)

    @property
    def test(self) -> np.ndarray:
        """Indices of the test samples."""
        return np.flatnonzero(self._split)

    def __len__(self) -> int:
        return self.n_samples

    def __getitem__(self, index: int | slice | ArrayLike) -> np.ndarray:
        """Read samples as float32: an int gives (t, x); a slice or index array gives (n, t, x).

        A file with channels gives (t, channel, *space) and (n, t, channel, *space).
        """
        if isinstance(index, (int, np.integer)):
            if not -self.n_samples <= index < self.n_samples:
                raise IndexError(f"sample {index} out of range for {self.n_samples} samples")
            index = int(index) % self.n_samples
            return self._checked(self._read(slice(index, index + 1)), index)[0]
        if isinstance(index, slice):
            start = index.indices(self.n_samples)[0]
            if index.step in (None, 1):
                return self._checked(self._read(index), start)
            index = np.arange(self.n_samples)[index]
        indices = np.asarray(index)
        if indices.ndim != 1 or not (indices.size == 0 or np.issubdtype(indices.dtype, np.integer)):
            raise IndexError("sample indices must be an int, a slice or a 1-D integer array")
        if indices.size and not (indices.min() >= -self.n_samples and indices.max() < self.n_samples):
            raise IndexError(f"sample indices out of range for {self.n_samples} samples")
        # h5py reads only increasing, unique indices: read those, then restore the requested order.
        unique, inverse = np.unique(indices % self.n_samples, return_inverse=True)
        block = self._read(unique) if unique.size else np.empty((0, *self.sample_shape), np.float32)
        return self._checked(block, unique)[inverse]

    def _read(self, selection: slice | np.ndarray) -> np.ndarray:
        """The field's samples at ``selection``, as stored; a damaged chunk is an :class:`InputError`."""
        with damaged(self.path):
            return self._field[selection]

    def _checked(self, block: np.ndarray, origin: int | np.ndarray) -> np.ndarray:
        """``block`` if finite; otherwise an InputError naming the first bad sample."""
        bad = first_bad_sample(block)
        if bad is not None:
            sample = origin + bad if isinstance(origin, int) else int(origin[bad])
            self._root.fail(f"field has NaN or Inf in sample {sample}; regenerate the file")
        return block

    def batch(self, indices: int | slice | ArrayLike) -> torch.Tensor:
        """Samples as a float32 torch tensor (CPU), e.g. ``f.batch(f.train[:64])``."""
        import torch

        return torch.from_numpy(np.ascontiguousarray(self[indices]))

    def iter_batches(self, batch_size: int, indices: ArrayLike | None = None) -> Iterator[np.ndarray]:
        """Yield float32 blocks of ``batch_size`` samples in the order of ``indices`` (default: all)."""
        if batch_size < 1:
            raise InputError(f"batch size must be positive, got {batch_size}")
        order = np.arange(self.n_samples) if indices is None else np.asarray(indices)
        for start in range(0, len(order), batch_size):
            yield self[order[start : start + batch_size]]

    # ---- lifetime -----------------------------------------------------------------------------

    def close(self) -> None:
        self._root.close()

    def __enter__(self) -> TrajectoryFile:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        coefs = ", ".join(self.coefficients) or "none"
        return (
            f"TrajectoryFile({str(self.path)!r}, layout={self.layout}, samples={self.n_samples} "
            f"(train {len(self.train)}, test {len(self.test)}), t={self.n_times}, "
            f"{', '.join(f'{name}={len(values)}' for name, values in self.space.items())}, "
            f"channels: {', '.join(self.channels)}, "
            f"coefficients: {coefs})"
        )
