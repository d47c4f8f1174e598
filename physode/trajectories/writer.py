"""Writing trajectory files in the physode format (``datasets/README.md``), atomically: from arrays
(:func:`write_trajectories`), streamed block by block (:func:`trajectory_writer`) or from simulated
:class:`~.in_memory.Trajectories` with a seeded train/test split (:func:`write`).

The coordinates are attached as dimension scales, so ``xarray.open_dataset(path, engine="h5netcdf")``
shows the dimensions (sample, t, x) with their coordinates. A system of several fields (the wave
equation's (u, u_t)) is stored as ``u`` over (sample, t, channel, x) with a ``channel`` coordinate
of names (format version 2); single-field files keep version 1's layout exactly. A field over
several spatial axes is (sample, t, channel, y, x) (format version 3).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from numpy.typing import ArrayLike

from physode.errors import InputError
from physode.io.atomic import atomic_path
from physode.resources import check_disk_space
from physode.trajectories.in_memory import Trajectories
from physode.trajectories.arguments import (
    SpaceLike,
    checked_axis,
    checked_channels,
    checked_coefficients,
    checked_space,
    checked_time,
)
from physode.trajectories.schema import (
    CHANNEL,
    FIELD,
    FORMAT_NAME,
    OBSERVED,
    SAMPLE,
    SPLIT,
    TIME,
    first_bad_sample,
    format_version,
)
from physode.version import __version__


HDF5_OVERHEAD_BYTES = 2**20
"""Room for HDF5's own structures (headers, chunk index, attributes) in a file's size bound."""


def file_size_bound(field_bytes: int, other_bytes: int) -> int:
    """At most how large an HDF5 file of ``field_bytes`` of field and ``other_bytes`` of other datasets gets.

    Compression never grows a chunk by 1/512 (deflate's worst case is ~1/3000; lzf's ~1/32 plus a
    few bytes); without it the chunks are the raw bytes.
    """
    return field_bytes + field_bytes // 512 + other_bytes + HDF5_OVERHEAD_BYTES


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
        """Append the next samples, ``(n, t, x)`` (``(n, t, channel, *space)`` with channels); checked finite."""
        with np.errstate(over="ignore"):  # overflow to Inf is reported below
            block32 = np.asarray(block, dtype=np.float32)
        sample_shape = self._field.shape[1:]
        if block32.ndim != self._field.ndim or block32.shape[1:] != sample_shape:
            shape = ", ".join(map(str, ("n",) + sample_shape))
            raise InputError(f"a block of samples must have shape ({shape}), got {block32.shape}")
        end = self.written + block32.shape[0]
        if end > self.n_samples:
            raise InputError(f"{end} samples written to a file declared with {self.n_samples}")
        bad = first_bad_sample(block32)
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
    x: SpaceLike,
    *,
    equation: str,
    coefficients: Mapping[str, ArrayLike] | None = None,
    test_mask: ArrayLike | None = None,
    boundary_condition: str = "periodic",
    generator: Mapping[str, Any] | None = None,
    seed: int | None = None,
    attrs: Mapping[str, Any] | None = None,
    compression: str | None = None,
    channels: Sequence[str] | None = None,
    observed: ArrayLike | None = None,
    replace: bool = True,
) -> Iterator[TrajectoryWriter]:
    """Write a trajectory file of ``n_samples`` samples streamed in blocks: memory holds one block.

    Yields a :class:`TrajectoryWriter`; call ``writer.write(block)`` with consecutive blocks of
    samples until all ``n_samples`` are written. The file appears at ``path`` only if the block
    completes with every sample written; otherwise nothing is left behind. The other arguments
    are those of :func:`write_trajectories`, all checked before anything is written; with
    ``channels`` (or more than one spatial axis) the blocks are ``(n, t, channel, *space)``. The
    disk must have room for the whole file before the first byte is written.
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise InputError(f"a trajectory file needs at least one sample, got {n_samples!r}")
    time, space = checked_time(t), checked_space(x)
    names = checked_channels(channels, len(space))
    n_times, space_shape = time.size, tuple(values.size for values in space.values())
    coefs = checked_coefficients(coefficients, n_times, tuple(space))
    split = np.zeros(n_samples, dtype=np.int8) if test_mask is None else np.asarray(test_mask)
    if split.shape != (n_samples,) or not np.isin(split, (0, 1)).all():
        raise InputError(f"test_mask must be {n_samples} booleans (True = test sample)")
    seen = None if observed is None else np.asarray(observed)
    if seen is not None and (seen.shape != (n_samples, n_times) or not np.isin(seen, (0, 1)).all()):
        raise InputError(f"observed must be ({n_samples}, {n_times}) booleans (sample, t), True where the "
                         f"frame was observed; got shape {seen.shape}")
    try:
        generator_json = json.dumps(dict(generator or {}), sort_keys=True)
    except TypeError as err:
        raise InputError(f"generator settings must be JSON-serialisable: {err}") from None
    sample_shape = (n_times, *([] if names is None else [len(names)]), *space_shape)
    root_attrs = {
        "format": FORMAT_NAME,
        "format_version": format_version(1 + len(sample_shape), observed=seen is not None),
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

    check_disk_space(path, file_size_bound(n_samples * math.prod(sample_shape) * 4,
                                           n_samples * (9 + (0 if seen is None else n_times))
                                           + 8 * (n_times * (1 + len(coefs)) + sum(space_shape))),
                     "free space or choose another path")
    with atomic_path(path, replace=replace) as tmp, h5py.File(tmp, "w") as f:
        f.attrs.update({**root_attrs, **(attrs or {})})
        scales = {
            SAMPLE: f.create_dataset(SAMPLE, data=np.arange(n_samples, dtype=np.int64)),
            TIME: f.create_dataset(TIME, data=time),
            **{name: f.create_dataset(name, data=values) for name, values in space.items()},
        }
        dims = (SAMPLE, TIME, *space)
        if names is not None:
            scales[CHANNEL] = f.create_dataset(CHANNEL, data=np.array(names, dtype=h5py.string_dtype()))
            dims = (SAMPLE, TIME, CHANNEL, *space)
        for name, scale in scales.items():
            scale.make_scale(name)
        field = f.create_dataset(
            FIELD, shape=(n_samples, *sample_shape), dtype=np.float32, chunks=(1, *sample_shape),
            compression=compression,
        )
        for dim, name in enumerate(dims):
            field.dims[dim].attach_scale(scales[name])
        flags = f.create_dataset(SPLIT, data=split.astype(np.int8))
        flags.attrs.update(flag_values=np.array([0, 1], dtype=np.int8), flag_meanings="train test")
        flags.dims[0].attach_scale(scales[SAMPLE])
        if seen is not None:
            mask = f.create_dataset(OBSERVED, data=seen.astype(np.int8))
            mask.attrs.update(flag_values=np.array([0, 1], dtype=np.int8), flag_meanings="unobserved observed")
            mask.dims[0].attach_scale(scales[SAMPLE])
            mask.dims[1].attach_scale(scales[TIME])
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
    x: SpaceLike,
    *,
    equation: str,
    coefficients: Mapping[str, ArrayLike] | None = None,
    test_mask: ArrayLike | None = None,
    boundary_condition: str = "periodic",
    generator: Mapping[str, Any] | None = None,
    seed: int | None = None,
    attrs: Mapping[str, Any] | None = None,
    compression: str | None = None,
    channels: Sequence[str] | None = None,
    observed: ArrayLike | None = None,
    replace: bool = True,
) -> Path:
    """Write trajectories ``u`` (sample, t, x) with their coordinates; the file appears only if complete.

    A system of fields is ``u`` (sample, t, channel, x) with ``channels`` naming them, e.g.
    ``["u", "u_t"]`` (format version 2); without ``channels`` the file is version 1, as before.
    ``x`` may instead name several spatial axes in the field's order, ``{"y": y, "x": x}``: ``u`` is
    then (sample, t, channel, y, x) (format version 3; ``channels`` defaults to ``["u"]``).

    ``coefficients`` are time-varying PDE coefficients over ``t`` (e.g. ``{"c": c_of_t}``),
    ``test_mask`` marks test samples (default: all train), ``generator`` records how the data was
    made (stored as JSON), ``attrs`` adds root attributes, ``compression`` is ``None`` (default),
    ``"gzip"`` or ``"lzf"``. ``observed`` (sample, t) booleans mark the frames that were observed (format
    version 4): a fit and the peers ignore the others' values (default: every frame; the file keeps its
    version). Everything is checked before writing; ``u`` is stored as float32.
    ``replace=False`` refuses (:class:`~physode.errors.RunError`) to replace a file that appeared at
    ``path`` while this one was written.
    For data too large to hold at once, stream it with :func:`trajectory_writer`.
    """
    with np.errstate(over="ignore"):  # overflow to Inf is reported below
        u32 = np.asarray(u, dtype=np.float32)
    space = checked_space(x)
    with_channels = channels is not None or len(space) > 1
    axes = ("sample", "t", *(["channel"] if with_channels else []), *space)
    if u32.ndim != len(axes) or 0 in u32.shape:
        raise InputError(f"u must be a non-empty ({', '.join(axes)}) array, got shape {u32.shape}")
    if channels is not None and u32.shape[2] != len(channels):
        raise InputError(f"u has {u32.shape[2]} channels but {len(channels)} channel names were given")
    checked_axis(TIME, np.asarray(t, dtype=np.float64), u32.shape[1])
    for (name, values), length in zip(space.items(), u32.shape[-len(space):]):
        checked_axis(name, values, length)
    with trajectory_writer(
        path, u32.shape[0], t, x, equation=equation, coefficients=coefficients, test_mask=test_mask,
        boundary_condition=boundary_condition, generator=generator, seed=seed, attrs=attrs,
        compression=compression, channels=channels, observed=observed, replace=replace,
    ) as writer:
        writer.write(u32)
    return Path(path)


def write(
    path: str | os.PathLike[str],
    data: Trajectories,
    *,
    seed: int,
    test_fraction: float = 0.2,
    compression: str | None = None,
    observed: ArrayLike | None = None,
    replace: bool = True,
) -> Path:
    """Write simulated ``data`` as a physode trajectory file with a seeded random train/test split
    (``observed``, ``replace``: as for :func:`write_trajectories`)."""
    mask = make_test_mask(data.u.shape[0], test_fraction, seed)
    settings = {**data.settings, "seed": seed, "test_fraction": test_fraction}
    return write_trajectories(
        path, data.u, data.t, data.x, equation=data.equation, coefficients=data.coefficients,
        test_mask=mask, boundary_condition=data.boundary_condition, generator=settings, seed=seed,
        attrs=data.parameters,
        compression=compression, channels=data.channels, observed=observed, replace=replace,
    )
