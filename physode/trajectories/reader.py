"""Reading trajectory files lazily: :class:`TrajectoryFile`, for physode's format (written by
:mod:`.writer`, specified in ``datasets/README.md``) and PDEBench 1D files (:mod:`.pdebench`) alike.
Any file that does not match gets one :class:`~physode.errors.InputError` naming the problem.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import h5py
import numpy as np
from numpy.typing import ArrayLike

from physode.errors import InputError
from physode.trajectories.pdebench import PDEBENCH_FIELD, read_pdebench
from physode.trajectories.schema import (
    CHANNEL,
    CHANNELS_VERSION,
    FIELD,
    FORMAT_NAME,
    FORMAT_VERSION,
    REQUIRED_ATTRS,
    RESERVED,
    SAMPLE,
    SPACE,
    SPLIT,
    TIME,
    first_bad_sample,
)
from physode.trajectories.stored import CheckedFile, Contents, damaged

if TYPE_CHECKING:
    import torch

READ_BLOCK_BYTES = 16 * 2**20  # validate() reads about this much at a time


def read_physode(root: CheckedFile) -> Contents:
    """The physode layout: required attributes, field, coordinates, split and coefficients."""
    # The field is looked up (and refused if stored outside the file) before the attributes are checked.
    node = root.node(FIELD)
    version = _format_version(root)
    field = root.check_field(node, FIELD, (3, 4), "(sample, t, x) or (sample, t, channel, x)")
    n_samples, n_times, n_x = field.shape[0], field.shape[1], field.shape[-1]
    channels = _channel_names(root, field, version) if field.ndim == 4 else (FIELD,)
    t = root.coordinate(TIME, n_times)
    x = root.coordinate(SPACE, n_x)
    test_mask = _test_mask(root, n_samples)
    return Contents(layout="physode", field=field, t=t, x=x, channels=channels,
                    coefficients=_coefficients(root, n_times), test_mask=test_mask, x_dtype=root.node(SPACE).dtype)


def _format_version(root: CheckedFile) -> int:
    """The format version of a file whose root attributes say it is one this physode reads."""
    attrs = root.attrs
    missing = [key for key in REQUIRED_ATTRS if key not in attrs]
    if missing or not (isinstance(attrs["format"], str) and attrs["format"] == FORMAT_NAME):
        root.fail(
            f"not a {FORMAT_NAME} file (missing or wrong root attributes {missing or ['format']}); "
            "write it with physode.trajectories.write_trajectories"
        )
    version = attrs["format_version"]
    if not (isinstance(version, int) and not isinstance(version, bool) and version >= 1):
        root.fail(f"root attribute format_version is {version!r}, not a version number; the file is "
                  "damaged — regenerate it")
    if version > FORMAT_VERSION:
        root.fail(
            f"format version {version} is newer than this physode reads (1 .. {FORMAT_VERSION}); "
            "upgrade physode"
        )
    return version


def _test_mask(root: CheckedFile, n_samples: int) -> np.ndarray:
    """The ``split`` flags as booleans, True for a test sample (``sample`` is checked alongside)."""
    for name in (SAMPLE, SPLIT):
        entry = root.node(name)
        if not (isinstance(entry, h5py.Dataset) and entry.shape == (n_samples,)
                and np.issubdtype(entry.dtype, np.integer)):
            root.fail(f"{name!r} must be a 1-D integer dataset of length {n_samples}")
    split = root.file[SPLIT][()]
    if not np.isin(split, (0, 1)).all():
        root.fail(f"{SPLIT!r} may hold only 0 (train) and 1 (test)")
    return split.astype(bool)


def _coefficients(root: CheckedFile, n_times: int) -> dict[str, np.ndarray]:
    """Every entry besides the reserved ones: a finite floating coefficient over ``t``."""
    coefficients = {}
    for name in root.names():
        if name in RESERVED:
            continue
        entry = root.node(name)
        values = entry[()] if isinstance(entry, h5py.Dataset) else None
        if (values is None or values.shape != (n_times,)
                or not np.issubdtype(values.dtype, np.floating) or not np.all(np.isfinite(values))):
            root.fail(
                f"unexpected entry {name!r}: besides {', '.join(RESERVED)} the file may only hold "
                f"finite floating coefficient datasets of shape ({n_times},) over t"
            )
        coefficients[name] = values.astype(np.float64)
    return coefficients


def _channel_names(root: CheckedFile, field: h5py.Dataset, version: int) -> tuple[str, ...]:
    """The ``channel`` coordinate of a (sample, t, channel, x) field: distinct identifiers."""
    if version < CHANNELS_VERSION:
        root.fail(f"field {FIELD!r} has a channel axis, which format version {version} does not "
                  f"have (channels came with version {CHANNELS_VERSION}); the file is damaged")
    node = root.node(CHANNEL)
    n_channels = field.shape[2]
    if not (isinstance(node, h5py.Dataset) and node.shape == (n_channels,)
            and h5py.check_string_dtype(node.dtype) is not None):
        root.fail(f"{CHANNEL!r} must be a 1-D string dataset naming the {n_channels} channels of "
                  f"{FIELD!r}")
    names = tuple(str(name) for name in node.asstr()[()])
    if len(set(names)) != len(names) or not all(name.isidentifier() for name in names):
        root.fail(f"channel names {list(names)} must be distinct identifiers")
    return names


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
    x_dtype: np.dtype
    """The dtype ``x`` is stored in (``x`` is read as float64): a grid is uniform to its resolution at best."""
    channels: tuple[str, ...]
    """Names of the fields; ``("u",)`` for a single-field (3-D) file."""
    coefficients: dict[str, np.ndarray]
    """Time-varying PDE coefficients over ``t``, e.g. ``{"c": c_of_t}``."""
    attrs: dict[str, Any]
    """Root attributes of the file, decoded to Python values."""

    def __init__(self, path: str | os.PathLike[str], *, pdebench_test_fraction: float = 0.1) -> None:
        self._root = CheckedFile(path)
        self.path, self.attrs = self._root.path, self._root.attrs
        try:
            with damaged(self.path):
                if FIELD in self._root:
                    self._adopt(read_physode(self._root))
                elif PDEBENCH_FIELD in self._root:
                    self._adopt(read_pdebench(self._root, pdebench_test_fraction))
                else:
                    self._root.fail(
                        f"missing field {FIELD!r} (physode format) or {PDEBENCH_FIELD!r} (PDEBench layout); "
                        f"found {sorted(self._root.names())}"
                    )
        except BaseException:
            self._root.close()
            raise

    def _adopt(self, contents: Contents) -> None:
        self.layout, self._field, self.t, self.x = contents.layout, contents.field, contents.t, contents.x
        self.x_dtype = contents.x_dtype
        self.channels, self.coefficients, self._split = contents.channels, contents.coefficients, contents.test_mask

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
            f"(train {len(self.train)}, test {len(self.test)}), t={self.n_times}, x={self.n_x}, "
            f"channels: {', '.join(self.channels)}, "
            f"coefficients: {coefs})"
        )
