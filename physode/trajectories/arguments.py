"""The checks of what a writer of trajectory files is given (:mod:`.writer`), each failing with one
:class:`~physode.errors.InputError`: coordinates, spatial axes, channel names, coefficients."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike

from physode.errors import InputError
from physode.trajectories.schema import RESERVED, SPACE, SPACE_AXES, TIME, axis_problem, space_axes

SpaceLike = ArrayLike | Mapping[str, ArrayLike]
"""The grid a writer takes: the x coordinates of a 1-D field, or the spatial axes by name in the
field's order, e.g. ``{"y": y, "x": x}``."""


def _stored_axis(values: ArrayLike) -> np.ndarray:
    """A spatial axis as stored: float64, or float32 where it was given in float32 (a grid from another
    tool), whose points are uniform only to float32's resolution and must stay judged at it."""
    values = np.asarray(values)
    return values if values.dtype == np.float32 else values.astype(np.float64)


def checked_axis(name: str, values: np.ndarray, length: int | None = None) -> np.ndarray:
    """``values`` if a valid coordinate ``name`` (of ``length`` points, if given)."""
    if length is None and (values.ndim != 1 or values.size == 0):
        raise InputError(f"coordinate {name} must be a non-empty 1-D array, got shape {values.shape}")
    problem = axis_problem(values, values.size if length is None else length)
    if problem:
        raise InputError(f"coordinate {name} {problem}")
    return values


def checked_space(x: SpaceLike) -> dict[str, np.ndarray]:
    """The spatial axes by name, in the field's order: ``{"x": x}`` for an array, else the mapping,
    whose names must be the last ones of ``z, y, x`` (``{"y": y, "x": x}`` in 2-D)."""
    if not isinstance(x, Mapping):
        return {SPACE: checked_axis(SPACE, _stored_axis(x))}
    names = list(x)
    if not 1 <= len(names) <= len(SPACE_AXES) or tuple(names) != space_axes(len(names)):
        raise InputError(f"the spatial axes must be named {', '.join(' '.join(space_axes(n)) for n in (1, 2, 3))} "
                         f"(outermost first, as in the field), got {names}")
    return {name: checked_axis(name, _stored_axis(values)) for name, values in x.items()}


def checked_time(t: ArrayLike) -> np.ndarray:
    return checked_axis(TIME, np.asarray(t, dtype=np.float64))


def checked_channels(channels: Sequence[str] | None, n_space: int) -> list[str] | None:
    """The channel names (None: a 1-D single field without a channel axis; more axes always have one)."""
    if channels is None:
        return None if n_space == 1 else ["u"]
    names = list(channels)
    if not (names and all(isinstance(n, str) and n.isidentifier() for n in names) and len(set(names)) == len(names)):
        raise InputError(f"channels must be distinct identifiers, e.g. ['u', 'u_t'], got {channels!r}")
    return names


def checked_coefficients(coefficients: Mapping[str, ArrayLike] | None, n_times: int,
                         axes: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Time-varying coefficients: identifiers other than the reserved names and the spatial ``axes``,
    finite, one value per time."""
    reserved = tuple(dict.fromkeys((*RESERVED, *axes)))
    checked = {}
    for name, values in (coefficients or {}).items():
        array = np.asarray(values, dtype=np.float64)
        if not isinstance(name, str) or not name.isidentifier() or name in reserved:
            raise InputError(f"coefficient name {name!r} must be an identifier other than {', '.join(reserved)}")
        if array.shape != (n_times,) or not np.all(np.isfinite(array)):
            raise InputError(
                f"coefficient {name} must be finite with shape ({n_times},) (one value per time), "
                f"got shape {array.shape}"
            )
        checked[name] = array
    return checked
