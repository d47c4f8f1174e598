"""Trajectory datasets: solutions u(sample, t, x) of a 1D PDE in HDF5, written atomically, read lazily.

The layout (format ``physode-trajectories`` version 1, specified in ``datasets/README.md``) is plain
HDF5 with its coordinates attached as dimension scales, so ``xarray.open_dataset(path,
engine="h5netcdf")`` shows the dimensions (sample, t, x) with their coordinates. Readers get one
:class:`~physode.errors.InputError` naming the problem for any file that does not match.
:class:`TrajectoryFile` also reads PDEBench 1D files through the same interface.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import h5py
import numpy as np
from numpy.typing import ArrayLike

from physode.errors import InputError
from physode.io.atomic import atomic_path
from physode.version import __version__

if TYPE_CHECKING:
    import torch

FORMAT_NAME = "physode-trajectories"
FORMAT_VERSION = 1
FIELD, TIME, SPACE, SAMPLE, SPLIT = "u", "t", "x", "sample", "split"
_RESERVED = (FIELD, TIME, SPACE, SAMPLE, SPLIT)
_REQUIRED_ATTRS = ("format", "format_version", "equation", "boundary_condition")
_READ_BLOCK_BYTES = 16 * 2**20  # validate() reads about this much at a time


def make_test_mask(n_samples: int, test_fraction: float, seed: int = 0) -> np.ndarray:
    """A reproducible random train/test split: boolean mask, True for the round(f N) test samples."""
    if n_samples < 1:
        raise InputError(f"a split needs at least one sample, got {n_samples}")
    if not 0.0 <= test_fraction < 1.0:
        raise InputError(f"test fraction must be in [0, 1), got {test_fraction}")
    n_test = round(test_fraction * n_samples)
    if n_test >= n_samples:
        raise InputError(
            f"test fraction {test_fraction} leaves no training sample out of {n_samples}; lower it"
        )
    mask = np.zeros(n_samples, dtype=bool)
    rng = np.random.default_rng([seed, 1])  # not default_rng(seed): keep it apart from the data's stream
    mask[rng.permutation(n_samples)[:n_test]] = True
    return mask


def _axis_problem(values: np.ndarray, length: int) -> str | None:
    """Why ``values`` is not a valid coordinate of ``length`` points, or None if it is."""
    if values.ndim != 1 or values.shape[0] != length:
        return f"has shape {values.shape}, expected ({length},) to match u"
    if not np.issubdtype(values.dtype, np.floating):
        return f"has dtype {values.dtype}, expected floating point"
    if not np.all(np.isfinite(values)):
        return "contains NaN or Inf"
    if np.any(np.diff(values) <= 0):
        return "is not strictly increasing"
    return None


def _first_bad_sample(block: np.ndarray) -> int | None:
    """Index (within ``block``) of the first sample holding NaN or Inf, or None."""
    bad = ~np.isfinite(block).reshape(block.shape[0], -1).all(axis=1)
    return int(np.argmax(bad)) if bad.any() else None


class TrajectoryWriter:
    """Writes the samples of a trajectory file block by block, in order; see :func:`trajectory_writer`."""

    def __init__(self, field: h5py.Dataset) -> None:
        self._field = field
        self.written = 0
        """Samples written so far."""

    @property
    def n_samples(self) -> int:
        return self._field.shape[0]

    def write(self, block: ArrayLike) -> None:
        """Append the next samples, a ``(n, t, x)`` array; checked finite after conversion to float32."""
        with np.errstate(over="ignore"):  # overflow to Inf is reported below
            block32 = np.asarray(block, dtype=np.float32)
        _, n_times, n_x = self._field.shape
        if block32.ndim != 3 or block32.shape[1:] != (n_times, n_x):
            raise InputError(f"a block of samples must have shape (n, {n_times}, {n_x}), got {block32.shape}")
        end = self.written + block32.shape[0]
        if end > self.n_samples:
            raise InputError(f"{end} samples written to a file declared with {self.n_samples}")
        bad = _first_bad_sample(block32)
        if bad is not None:
            raise InputError(
                f"u has NaN or Inf (after conversion to float32) in sample {self.written + bad}; "
                "nothing was written"
            )
        self._field[self.written : end] = block32
        self.written = end


@contextlib.contextmanager
def trajectory_writer(
    path: str | os.PathLike[str],
    n_samples: int,
    t: ArrayLike,
    x: ArrayLike,
    *,
    equation: str,
    coefficients: Mapping[str, ArrayLike] | None = None,
    test_mask: ArrayLike | None = None,
    boundary_condition: str = "periodic",
    generator: Mapping[str, Any] | None = None,
    seed: int | None = None,
    attrs: Mapping[str, Any] | None = None,
    compression: str | None = None,
) -> Iterator[TrajectoryWriter]:
    """Write a trajectory file of ``n_samples`` samples streamed in blocks: memory holds one block.

    Yields a :class:`TrajectoryWriter`; call ``writer.write(block)`` with consecutive blocks of
    samples until all ``n_samples`` are written. The file appears at ``path`` only if the block
    completes with every sample written; otherwise nothing is left behind. The other arguments
    are those of :func:`write_trajectories`, all checked before anything is written.
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise InputError(f"a trajectory file needs at least one sample, got {n_samples!r}")
    axes = {TIME: np.asarray(t, dtype=np.float64), SPACE: np.asarray(x, dtype=np.float64)}
    for name, values in axes.items():
        if values.ndim != 1 or values.size == 0:
            raise InputError(f"coordinate {name} must be a non-empty 1-D array, got shape {values.shape}")
        problem = _axis_problem(values, values.size)
        if problem:
            raise InputError(f"coordinate {name} {problem}")
    n_times, n_x = axes[TIME].size, axes[SPACE].size
    coefs = {}
    for name, values in (coefficients or {}).items():
        array = np.asarray(values, dtype=np.float64)
        if not isinstance(name, str) or not name.isidentifier() or name in _RESERVED:
            raise InputError(
                f"coefficient name {name!r} must be an identifier other than {', '.join(_RESERVED)}"
            )
        if array.shape != (n_times,) or not np.all(np.isfinite(array)):
            raise InputError(
                f"coefficient {name} must be finite with shape ({n_times},) (one value per time), "
                f"got shape {array.shape}"
            )
        coefs[name] = array
    split = np.zeros(n_samples, dtype=np.int8) if test_mask is None else np.asarray(test_mask)
    if split.shape != (n_samples,) or not np.isin(split, (0, 1)).all():
        raise InputError(f"test_mask must be {n_samples} booleans (True = test sample)")
    try:
        generator_json = json.dumps(dict(generator or {}), sort_keys=True)
    except TypeError as err:
        raise InputError(f"generator settings must be JSON-serialisable: {err}") from None
    root_attrs = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "equation": equation,
        "boundary_condition": boundary_condition,
        "generator": generator_json,
        "physode_version": __version__,
        **({} if seed is None else {"seed": int(seed)}),
    }
    clash = set(root_attrs) & set(attrs or {})
    if clash:
        raise InputError(f"attrs may not override {', '.join(sorted(clash))}; pass them as arguments")
    if compression not in (None, "gzip", "lzf"):
        raise InputError(f"compression must be None, 'gzip' or 'lzf', got {compression!r}")

    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        f.attrs.update({**root_attrs, **(attrs or {})})
        scales = {
            SAMPLE: f.create_dataset(SAMPLE, data=np.arange(n_samples, dtype=np.int64)),
            TIME: f.create_dataset(TIME, data=axes[TIME]),
            SPACE: f.create_dataset(SPACE, data=axes[SPACE]),
        }
        for name, scale in scales.items():
            scale.make_scale(name)
        field = f.create_dataset(
            FIELD, shape=(n_samples, n_times, n_x), dtype=np.float32, chunks=(1, n_times, n_x),
            compression=compression,
        )
        for dim, name in enumerate((SAMPLE, TIME, SPACE)):
            field.dims[dim].attach_scale(scales[name])
        flags = f.create_dataset(SPLIT, data=split.astype(np.int8))
        flags.attrs.update(flag_values=np.array([0, 1], dtype=np.int8), flag_meanings="train test")
        flags.dims[0].attach_scale(scales[SAMPLE])
        for name, values in coefs.items():
            f.create_dataset(name, data=values).dims[0].attach_scale(scales[TIME])
        writer = TrajectoryWriter(field)
        yield writer
        if writer.written != n_samples:
            raise InputError(f"only {writer.written} of {n_samples} samples were written; nothing was written")


def write_trajectories(
    path: str | os.PathLike[str],
    u: ArrayLike,
    t: ArrayLike,
    x: ArrayLike,
    *,
    equation: str,
    coefficients: Mapping[str, ArrayLike] | None = None,
    test_mask: ArrayLike | None = None,
    boundary_condition: str = "periodic",
    generator: Mapping[str, Any] | None = None,
    seed: int | None = None,
    attrs: Mapping[str, Any] | None = None,
    compression: str | None = None,
) -> Path:
    """Write trajectories ``u`` (sample, t, x) with their coordinates; the file appears only if complete.

    ``coefficients`` are time-varying PDE coefficients over ``t`` (e.g. ``{"c": c_of_t}``),
    ``test_mask`` marks test samples (default: all train), ``generator`` records how the data was
    made (stored as JSON), ``attrs`` adds root attributes, ``compression`` is ``None`` (default),
    ``"gzip"`` or ``"lzf"``. Everything is checked before writing; ``u`` is stored as float32.
    For data too large to hold at once, stream it with :func:`trajectory_writer`.
    """
    with np.errstate(over="ignore"):  # overflow to Inf is reported below
        u32 = np.asarray(u, dtype=np.float32)
    if u32.ndim != 3 or 0 in u32.shape:
        raise InputError(f"u must be a non-empty (sample, t, x) array, got shape {u32.shape}")
    t, x = np.asarray(t, dtype=np.float64), np.asarray(x, dtype=np.float64)
    for name, values, length in ((TIME, t, u32.shape[1]), (SPACE, x, u32.shape[2])):
        problem = _axis_problem(values, length)
        if problem:
            raise InputError(f"coordinate {name} {problem}")
    with trajectory_writer(
        path, u32.shape[0], t, x, equation=equation, coefficients=coefficients, test_mask=test_mask,
        boundary_condition=boundary_condition, generator=generator, seed=seed, attrs=attrs,
        compression=compression,
    ) as writer:
        writer.write(u32)
    return Path(path)


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
    ``f[i]``, ``f[a:b]`` and ``f[[i, j]]`` read samples as float32 ``(n, t, x)`` arrays; only
    ``f[:]`` loads everything. Use as a context manager, or call :meth:`close`.

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
        if not isinstance(field, h5py.Dataset) or field.ndim != 3:
            shape = getattr(field, "shape", "a group")
            self._fail(f"field {name!r} must be a 3-D (sample, t, x) dataset, got {shape}")
        if field.dtype != np.float32:
            self._fail(f"field {name!r} has dtype {field.dtype}; the format stores float32")

    def _coordinate(self, name: str, length: int) -> np.ndarray:
        node = self._node(name)
        if not isinstance(node, h5py.Dataset):
            self._fail(f"missing coordinate dataset {name!r}")
        values = node[()]
        problem = _axis_problem(values, length)
        if problem:
            self._fail(f"coordinate {name!r} {problem}")
        return values.astype(np.float64)

    def _check_schema(self) -> None:
        """The physode layout: required attributes, field, coordinates, split and coefficients."""
        missing = [key for key in _REQUIRED_ATTRS if key not in self.attrs]
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
        n_samples, n_times, n_x = self._field.shape
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
            if name in _RESERVED:
                continue
            node = self._node(name)
            values = node[()] if isinstance(node, h5py.Dataset) else None
            if (values is None or values.shape != (n_times,)
                    or not np.issubdtype(values.dtype, np.floating) or not np.all(np.isfinite(values))):
                self._fail(
                    f"unexpected entry {name!r}: besides {', '.join(_RESERVED)} the file may only hold "
                    f"finite floating coefficient datasets of shape ({n_times},) over t"
                )
            self.coefficients[name] = values.astype(np.float64)

    def _read_pdebench(self, test_fraction: float) -> None:
        """PDEBench 1D: drop the extra last t-coordinate entry; advection speed beta -> c = -beta."""
        self._check_field("tensor")
        n_samples, n_times, n_x = self._field.shape
        self.x = self._coordinate("x-coordinate", n_x)
        # t-coordinate has Nt + 1 entries: the snapshot times plus the end of the last interval,
        # which has no snapshot in `tensor`.
        self.t = self._coordinate("t-coordinate", n_times + 1)[:-1]
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
            per_row = self.n_times * self.n_x * self._field.dtype.itemsize
            step = rows * max(1, _READ_BLOCK_BYTES // (rows * per_row))
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
        return self._field.shape[2]

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
        """Read samples as float32: an int gives (t, x); a slice or index array gives (n, t, x)."""
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
        block = self._field[unique] if unique.size else np.empty((0, self.n_times, self.n_x), np.float32)
        return self._checked(block, unique)[inverse]

    def _checked(self, block: np.ndarray, origin: int | np.ndarray) -> np.ndarray:
        """``block`` if finite; otherwise an InputError naming the first bad sample."""
        bad = _first_bad_sample(block)
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
            f"coefficients: {coefs})"
        )
