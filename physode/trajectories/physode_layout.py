"""Reading physode's own layout (``datasets/README.md``): the checks of :func:`read_physode`, which
maps a file onto :class:`~.stored.Contents` for :class:`~physode.trajectories.TrajectoryFile`.

The rank of ``u`` says its axes: (sample, t, x) in version 1, (sample, t, channel, x) from version
2, (sample, t, channel, y, x) and (sample, t, channel, z, y, x) from version 3.
"""

from __future__ import annotations

import h5py
import numpy as np

from physode.trajectories.schema import (
    CHANNEL,
    CHANNELS_VERSION,
    FIELD,
    FORMAT_NAME,
    FORMAT_VERSION,
    OBSERVED,
    OBSERVED_VERSION,
    REQUIRED_ATTRS,
    RESERVED,
    SAMPLE,
    SPACE,
    SPACE_AXES,
    SPLIT,
    TIME,
    format_version,
    space_axes,
)
from physode.trajectories.stored import CheckedFile, Contents

RANKS = tuple(range(3, 4 + len(SPACE_AXES)))
"""The ranks of ``u``: (sample, t, x) and (sample, t, channel, *space) over one to three spatial axes."""


def read_physode(root: CheckedFile) -> Contents:
    """The physode layout: required attributes, field, coordinates, split and coefficients."""
    # The field is looked up (and refused if stored outside the file) before the attributes are checked.
    node = root.node(FIELD)
    version = _format_version(root)
    field = root.check_field(node, FIELD, RANKS, "(sample, t, x) or (sample, t, channel, *space) (space: x; y, x; "
                             "or z, y, x)")
    needed = format_version(field.ndim)
    if needed > version:
        what = "a channel axis" if needed == CHANNELS_VERSION else f"{field.ndim - 3} spatial axes"
        root.fail(f"field {FIELD!r} has {what}, which format version {version} does not have "
                  f"({'channels' if needed == CHANNELS_VERSION else 'they'} came with version {needed}); "
                  "the file is damaged")
    n_samples, n_times = field.shape[:2]
    channels = _channel_names(root, field) if field.ndim > 3 else (FIELD,)
    axes = space_axes(max(1, field.ndim - 3))
    space = {name: root.coordinate(name, length) for name, length in zip(axes, field.shape[-len(axes):])}
    return Contents(layout="physode", field=field, t=root.coordinate(TIME, n_times), space=space,
                    channels=channels, coefficients=_coefficients(root, n_times, axes),
                    test_mask=_test_mask(root, n_samples), x_dtype=root.node(SPACE).dtype,
                    observed=_observed(root, n_samples, n_times, version))


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


def _observed(root: CheckedFile, n_samples: int, n_times: int, version: int) -> np.ndarray | None:
    """The ``observed`` flags as booleans (sample, t), True where the frame was observed; None if absent."""
    if OBSERVED not in root:
        return None
    entry = root.node(OBSERVED)
    if not (isinstance(entry, h5py.Dataset) and entry.shape == (n_samples, n_times)
            and np.issubdtype(entry.dtype, np.integer)):
        root.fail(f"{OBSERVED!r} must be a 2-D integer dataset of shape ({n_samples}, {n_times}) (sample, t)")
    if version < OBSERVED_VERSION:
        root.fail(f"{OBSERVED!r} came with format version {OBSERVED_VERSION}, the file says {version}; the file "
                  "is damaged")
    flags = entry[()]
    if not np.isin(flags, (0, 1)).all():
        root.fail(f"{OBSERVED!r} may hold only 0 (unobserved) and 1 (observed)")
    return flags.astype(bool)


def _coefficients(root: CheckedFile, n_times: int, axes: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Every entry besides the reserved ones and the spatial ``axes``: a finite floating coefficient over ``t``."""
    reserved = (*RESERVED, *axes)
    coefficients = {}
    for name in root.names():
        if name in reserved:
            continue
        entry = root.node(name)
        values = entry[()] if isinstance(entry, h5py.Dataset) else None
        if (values is None or values.shape != (n_times,)
                or not np.issubdtype(values.dtype, np.floating) or not np.all(np.isfinite(values))):
            root.fail(
                f"unexpected entry {name!r}: besides {', '.join(dict.fromkeys(reserved))} the file may only "
                f"hold finite floating coefficient datasets of shape ({n_times},) over t"
            )
        coefficients[name] = values.astype(np.float64)
    return coefficients


def _channel_names(root: CheckedFile, field: h5py.Dataset) -> tuple[str, ...]:
    """The ``channel`` coordinate of a field with a channel axis: distinct identifiers."""
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
