"""Reading trajectory files lazily: :class:`TrajectoryFile`, for physode's format (written by
:mod:`physode.io.trajectories`, specified in ``datasets/README.md``) and PDEBench 1D files alike.
Any file that does not match gets one :class:`~physode.errors.InputError` naming the problem.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import h5py
import numpy as np
from numpy.typing import ArrayLike

from physode.errors import InputError
from physode.io.trajectories import (
    CHANNEL,
    CHANNELS_VERSION,
    FIELD,
    FORMAT_NAME,
    FORMAT_VERSION,
    READ_BLOCK_BYTES,
    REQUIRED_ATTRS,
    RESERVED,
    SAMPLE,
    SPACE,
    SPLIT,
    TIME,
    axis_problem,
    first_bad_sample,
)

if TYPE_CHECKING:
    import torch


def _decode(value: Any) -> Any:
    """HDF5 attributes as plain Python values (bytes -> str, numpy scalars -> Python scalars).

    A one-element array counts as its element: netCDF writers (xarray) store scalars that way.
    """
    if isinstance(value, np.ndarray) and value.shape == (1,):
        value = value[0]
    if isinstance(value, bytes):
        try:
            return value.decode()
        except UnicodeDecodeError:
            return value
    return value.item() if isinstance(value, np.generic) else value


def _number(value: Any) -> bool:
    """True for a finite int or float (not a bool, a string or an array)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value)


class TrajectoryFile:
    """Lazy, validated read access to a trajectory file (physode format or PDEBench 1D layout).

    Opening checks the schema (ranks, dtypes, coordinate lengths, increasing t); values are checked
    for NaN/Inf as they are read, and :meth:`validate` scans the whole field chunk by chunk.
    ``f[i]``, ``f[a:b]`` and ``f[[i, j]]`` read samples as float32 ``(n, t, x)`` arrays, or
    ``(n, t, channel, x)`` for a file with channels (``channels`` names them; a single-field file
    has ``channels == ("u",)``); only ``f[:]`` loads everything. Use as a context manager, or call :meth:`close`.

    PDEBench 1D files (``tensor``, ``x-coordinate``, ``t-coordinate``) are recognised by their
    ``tensor`` field; see ``datasets/README.md`` for how they map onto this interface, including
    ``pdebench_test_fraction`` (PDEBench's own loaders take the first 10% as the test set).

    Only data stored in the file itself is read: external links, external storage and virtual
    datasets, which make HDF5 read other files on this machine, are refused. A file written back
    by xarray (``to_netcdf(engine="h5netcdf")``) reads like the original.
    """

    layout: str
    """``"physode"`` or ``"pdebench"``."""
    t: np.ndarray
    x: np.ndarray
    channels: tuple[str, ...]
    """Names of the fields; ``("u",)`` for a single-field (3-D) file."""
    coefficients: dict[str, np.ndarray]
    """Time-varying PDE coefficients over ``t``, e.g. ``{"c": c_of_t}``."""
    attrs: dict[str, Any]
    """Root attributes of the file, decoded to Python values."""

    def __init__(self, path: str | os.PathLike[str], *, pdebench_test_fraction: float = 0.1) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError(f"{self.path}: no such file")
        try:
            self._file = h5py.File(self.path, "r")
        except OSError as err:
            raise InputError(
                f"{self.path}: not an HDF5 file ({err}); trajectory files are written by "
                "physode.io.write_trajectories or `physode simulate`"
            ) from None
        try:
            self.attrs = {key: _decode(value) for key, value in self._file.attrs.items()}
            if FIELD in self._file:
                self.layout, self._field = "physode", self._node(FIELD)
                self._check_schema()
            elif "tensor" in self._file:
                self.layout, self._field = "pdebench", self._node("tensor")
                self._read_pdebench(pdebench_test_fraction)
            else:
                self._fail(
                    f"missing field {FIELD!r} (physode format) or 'tensor' (PDEBench layout); "
                    f"found {sorted(self._file)}"
                )
        except BaseException:
            self._file.close()
            raise

    # ---- schema -------------------------------------------------------------------------------

    def _fail(self, message: str) -> None:
        raise InputError(f"{self.path}: {message}")

    def _node(self, name: str) -> h5py.Dataset | h5py.Group | None:
        """The entry ``name`` (None if absent), refused if its data lives outside this file."""
        fix = "physode reads only data stored in the file itself; copy the data into the file"
        link = self._file.get(name, getlink=True)
        if link is None:
            return None
        if isinstance(link, h5py.ExternalLink):
            self._fail(f"entry {name!r} is an external link to {link.filename}; {fix}")
        try:
            node = self._file[name]
        except KeyError:  # a soft link to nothing
            self._fail(f"entry {name!r} is a link to a missing object; {fix}")
        if node.file.filename != self._file.filename:  # reached through a link inside a group
            self._fail(f"entry {name!r} resolves to another file ({node.file.filename}); {fix}")
        if isinstance(node, h5py.Dataset):
            if node.external:
                self._fail(f"dataset {name!r} keeps its values in external files "
                           f"({', '.join(str(entry[0]) for entry in node.external)}); {fix}")
            if node.is_virtual:
                self._fail(f"dataset {name!r} is a virtual dataset mapping other data; {fix}")
        return node

    def _check_field(self, name: str) -> None:
        field = self._field
        ranks = (3, 4) if name == FIELD else (3,)
        if not isinstance(field, h5py.Dataset) or field.ndim not in ranks:
            shape = getattr(field, "shape", "a group")
            expected = "(sample, t, x) or (sample, t, channel, x)" if name == FIELD else "3-D (sample, t, x)"
            self._fail(f"field {name!r} must be a {expected} dataset, got {shape}")
        if field.dtype != np.float32:
            self._fail(f"field {name!r} has dtype {field.dtype}; the format stores float32")

    def _coordinate(self, name: str, length: int) -> np.ndarray:
        node = self._node(name)
        if not isinstance(node, h5py.Dataset):
            self._fail(f"missing coordinate dataset {name!r}")
        values = node[()]
        problem = axis_problem(values, length)
        if problem:
            self._fail(f"coordinate {name!r} {problem}")
        return values.astype(np.float64)

    def _check_schema(self) -> None:
        """The physode layout: required attributes, field, coordinates, split and coefficients."""
        missing = [key for key in REQUIRED_ATTRS if key not in self.attrs]
        if missing or not (isinstance(self.attrs["format"], str) and self.attrs["format"] == FORMAT_NAME):
            self._fail(
                f"not a {FORMAT_NAME} file (missing or wrong root attributes {missing or ['format']}); "
                "write it with physode.io.write_trajectories"
            )
        version = self.attrs["format_version"]
        if not (isinstance(version, int) and not isinstance(version, bool) and version >= 1):
            self._fail(f"root attribute format_version is {version!r}, not a version number; the file is "
                       "damaged — regenerate it")
        if version > FORMAT_VERSION:
            self._fail(
                f"format version {version} is newer than this physode reads (1 .. {FORMAT_VERSION}); "
                "upgrade physode"
            )
        self._check_field(FIELD)
        n_samples, n_times, n_x = self._field.shape[0], self._field.shape[1], self._field.shape[-1]
        self.channels = (FIELD,)
        if self._field.ndim == 4:
            self.channels = self._channel_names(version)
        self.t = self._coordinate(TIME, n_times)
        self.x = self._coordinate(SPACE, n_x)
        for name in (SAMPLE, SPLIT):
            node = self._node(name)
            if not (isinstance(node, h5py.Dataset) and node.shape == (n_samples,)
                    and np.issubdtype(node.dtype, np.integer)):
                self._fail(f"{name!r} must be a 1-D integer dataset of length {n_samples}")
        split = self._file[SPLIT][()]
        if not np.isin(split, (0, 1)).all():
            self._fail(f"{SPLIT!r} may hold only 0 (train) and 1 (test)")
        self._split = split.astype(bool)
        self.coefficients = {}
        for name in self._file:
            if name in RESERVED:
                continue
            node = self._node(name)
            values = node[()] if isinstance(node, h5py.Dataset) else None
            if (values is None or values.shape != (n_times,)
                    or not np.issubdtype(values.dtype, np.floating) or not np.all(np.isfinite(values))):
                self._fail(
                    f"unexpected entry {name!r}: besides {', '.join(RESERVED)} the file may only hold "
                    f"finite floating coefficient datasets of shape ({n_times},) over t"
                )
            self.coefficients[name] = values.astype(np.float64)

    def _channel_names(self, version: int) -> tuple[str, ...]:
        """The ``channel`` coordinate of a (sample, t, channel, x) field: distinct identifiers."""
        if version < CHANNELS_VERSION:
            self._fail(f"field {FIELD!r} has a channel axis, which format version {version} does not "
                       f"have (channels came with version {CHANNELS_VERSION}); the file is damaged")
        node = self._node(CHANNEL)
        n_channels = self._field.shape[2]
        if not (isinstance(node, h5py.Dataset) and node.shape == (n_channels,)
                and h5py.check_string_dtype(node.dtype) is not None):
            self._fail(f"{CHANNEL!r} must be a 1-D string dataset naming the {n_channels} channels of "
                       f"{FIELD!r}")
        names = tuple(str(name) for name in node.asstr()[()])
        if len(set(names)) != len(names) or not all(name.isidentifier() for name in names):
            self._fail(f"channel names {list(names)} must be distinct identifiers")
        return names

    def _read_pdebench(self, test_fraction: float) -> None:
        """PDEBench 1D: drop the extra last t-coordinate entry; advection speed beta -> c = -beta."""
        self._check_field("tensor")
        n_samples, n_times, n_x = self._field.shape
        self.x = self._coordinate("x-coordinate", n_x)
        # t-coordinate has Nt + 1 entries: the snapshot times plus the end of the last interval,
        # which has no snapshot in `tensor`.
        self.t = self._coordinate("t-coordinate", n_times + 1)[:-1]
        self.channels = ("u",)
        self.coefficients = {}
        if "beta" in self.attrs:  # PDEBench: u_t + beta u_x = 0, i.e. c = -beta in dz/dt = c dz/dx
            beta = self.attrs["beta"]
            if not _number(beta):
                self._fail(f"attribute beta (the advection speed) is {beta!r}, expected a finite number")
            self.coefficients["c"] = np.full(n_times, -float(beta))
        if not 0.0 <= test_fraction < 1.0:
            raise InputError(f"pdebench_test_fraction must be in [0, 1), got {test_fraction}")
        self._split = np.arange(n_samples) < int(n_samples * test_fraction)

    def validate(self, check_values: bool = True) -> None:
        """Re-check the schema and, with ``check_values``, scan every value for NaN/Inf.

        The scan reads about 16 MiB at a time (whole HDF5 chunks), never the whole field.
        """
        if self.layout == "physode":
            self._check_schema()
        if check_values:
            rows = self._field.chunks[0] if self._field.chunks else 1
            per_row = math.prod(self.sample_shape) * self._field.dtype.itemsize
            step = rows * max(1, READ_BLOCK_BYTES // (rows * per_row))
            for start in range(0, self.n_samples, step):
                self._checked(self._field[start : start + step], start)

    # ---- reading ------------------------------------------------------------------------------

    @property
    def n_samples(self) -> int:
        return self._field.shape[0]

    @property
    def n_times(self) -> int:
        return self._field.shape[1]

    @property
    def n_x(self) -> int:
        return self._field.shape[-1]

    @property
    def n_channels(self) -> int:
        return len(self.channels)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """The shape of one sample: ``(t, x)``, or ``(t, channel, x)`` for a file with channels."""
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

        A file with channels gives (t, channel, x) and (n, t, channel, x).
        """
        if isinstance(index, (int, np.integer)):
            if not -self.n_samples <= index < self.n_samples:
                raise IndexError(f"sample {index} out of range for {self.n_samples} samples")
            index = int(index) % self.n_samples
            return self._checked(self._field[index : index + 1], index)[0]
        if isinstance(index, slice):
            start = index.indices(self.n_samples)[0]
            if index.step in (None, 1):
                return self._checked(self._field[index], start)
            index = np.arange(self.n_samples)[index]
        indices = np.asarray(index)
        if indices.ndim != 1 or not (indices.size == 0 or np.issubdtype(indices.dtype, np.integer)):
            raise IndexError("sample indices must be an int, a slice or a 1-D integer array")
        if indices.size and not (indices.min() >= -self.n_samples and indices.max() < self.n_samples):
            raise IndexError(f"sample indices out of range for {self.n_samples} samples")
        # h5py reads only increasing, unique indices: read those, then restore the requested order.
        unique, inverse = np.unique(indices % self.n_samples, return_inverse=True)
        block = self._field[unique] if unique.size else np.empty((0, *self.sample_shape), np.float32)
        return self._checked(block, unique)[inverse]

    def _checked(self, block: np.ndarray, origin: int | np.ndarray) -> np.ndarray:
        """``block`` if finite; otherwise an InputError naming the first bad sample."""
        bad = first_bad_sample(block)
        if bad is not None:
            sample = origin + bad if isinstance(origin, int) else int(origin[bad])
            self._fail(f"field has NaN or Inf in sample {sample}; regenerate the file")
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
        self._file.close()

    def __enter__(self) -> TrajectoryFile:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        coefs = ", ".join(self.coefficients) or "none"
        return (
            f"TrajectoryFile({str(self.path)!r}, layout={self.layout}, samples={self.n_samples} "
            f"(train {len(self.train)}, test {len(self.test)}), t={self.n_times}, x={self.n_x}, "
            f"channels: {', '.join(self.channels)}, "
            f"coefficients: {coefs})"
        )
