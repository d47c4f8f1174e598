"""The names and numbers of the physode trajectory format (``datasets/README.md``) and the checks
its writer and reader share."""

from __future__ import annotations

import numpy as np

FORMAT_NAME = "physode-trajectories"
FORMAT_VERSION = 4
CHANNELS_VERSION = 2  # the first version with a channel dimension; single-field files are still version 1
PLANE_VERSION = 3  # the first version with more than one spatial axis; 1-D files keep versions 1 and 2
OBSERVED_VERSION = 4  # the first version with an `observed` mask; files without one keep their version
FIELD, TIME, SPACE, SAMPLE, SPLIT, CHANNEL, OBSERVED = "u", "t", "x", "sample", "split", "channel", "observed"
RESERVED = (FIELD, TIME, SPACE, SAMPLE, SPLIT, CHANNEL, OBSERVED)
SPACE_AXES = ("z", "y", "x")
"""The names of the spatial axes, outermost first: a field over n of them uses the last n (2-D: y, x)."""
REQUIRED_ATTRS = ("format", "format_version", "equation", "boundary_condition")


def space_axes(n_space: int) -> tuple[str, ...]:
    """The names of ``n_space`` spatial axes in the field's order: ``("x",)``, ``("y", "x")``, ``("z", "y", "x")``."""
    return SPACE_AXES[len(SPACE_AXES) - n_space:]


def format_version(rank: int, observed: bool = False) -> int:
    """The version a field of ``rank`` (sample, t, [channel,] *space), with an ``observed`` mask or
    not, is written in: the oldest that holds it."""
    return max({3: 1, 4: CHANNELS_VERSION}.get(rank, PLANE_VERSION), OBSERVED_VERSION if observed else 1)


def axis_problem(values: np.ndarray, length: int) -> str | None:
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


def first_bad_sample(block: np.ndarray) -> int | None:
    """Index (within ``block``) of the first sample holding NaN or Inf, or None."""
    bad = ~np.isfinite(block).all(axis=tuple(range(1, block.ndim)))
    return int(np.argmax(bad)) if bad.any() else None
