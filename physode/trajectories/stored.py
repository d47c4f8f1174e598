"""Checked access to an HDF5 file a reader opens: every problem is one
:class:`~physode.errors.InputError` naming the file, and data kept outside the file is refused.
:func:`damaged` turns what h5py raises on corrupted metadata into that error too.

:class:`Contents` is what a reader found, whatever the file's layout (physode or PDEBench).
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, Protocol

import h5py
import numpy as np

from physode.errors import InputError, one_line
from physode.io.outputs import check_input_file
from physode.trajectories.schema import axis_problem

# What h5py raises when a file's metadata is corrupted (a flipped byte in a header, a B-tree, a heap).
_H5_ERRORS = (RuntimeError, OSError, KeyError, ValueError, TypeError, IndexError, OverflowError, SystemError)


@contextlib.contextmanager
def damaged(path: Path) -> Iterator[None]:
    """Turn h5py's errors inside the block into one :class:`InputError` saying ``path`` is damaged."""
    try:
        yield
    except InputError:
        raise
    except _H5_ERRORS as err:
        raise InputError(f"{path}: the file is damaged, HDF5 cannot read it ({type(err).__name__}: "
                         f"{one_line(err, 200)}); regenerate it or restore an intact copy") from err


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


class Field(Protocol):
    """What a reader reads samples from: an h5py dataset, or a lazy view of several (PDEBench 2-D)."""

    @property
    def shape(self) -> tuple[int, ...]: ...

    @property
    def dtype(self) -> np.dtype: ...

    @property
    def chunks(self) -> tuple[int, ...] | None: ...

    def __getitem__(self, selection: slice | np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class Contents:
    """The field of a trajectory file and its coordinates, as the reader of its layout found them."""

    layout: str
    """``"physode"``, ``"pdebench"`` (one file, samples along the first axis) or ``"pdebench-groups"``."""
    field: Field
    t: np.ndarray
    space: dict[str, np.ndarray]
    """The spatial axes in the field's order, name -> coordinates (float64)."""
    channels: tuple[str, ...]
    coefficients: dict[str, np.ndarray]
    test_mask: np.ndarray
    """Boolean per sample, True for a test sample."""
    x_dtype: np.dtype
    """The dtype the ``x`` axis is stored in (read as float64): its resolution bounds how uniform a
    stored grid can be (float32, as PDEBench stores it, jitters by a few 1e-6 of the spacing)."""
    observed: np.ndarray | None = None
    """Boolean per (sample, time), True where the frame was observed; None: every frame was."""


class CheckedFile:
    """An HDF5 file open for reading, with its root attributes decoded to Python values."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = check_input_file(path)
        try:
            self.file = h5py.File(self.path, "r")
        except OSError as err:
            if err.errno in (errno.EAGAIN, errno.EACCES) and "lock" in str(err):
                raise InputError(f"{self.path} is locked by a process writing it (HDF5 file locking); wait for "
                                 "it to finish, or set HDF5_USE_FILE_LOCKING=FALSE if nothing writes it") from None
            raise InputError(
                f"{self.path}: not an HDF5 file ({one_line(err, 200)}); trajectory files are written by "
                "physode.trajectories.write_trajectories or `physode simulate`"
            ) from None
        try:
            with damaged(self.path):
                self.attrs = {key: _decode(value) for key, value in self.file.attrs.items()}
        except BaseException:
            self.file.close()
            raise

    def fail(self, message: str) -> NoReturn:
        raise InputError(f"{self.path}: {message}")

    def __contains__(self, name: str) -> bool:
        return name in self.file

    def node(self, name: str) -> h5py.Dataset | h5py.Group | None:
        """The entry ``name`` (None if absent), refused if its data lives outside this file."""
        fix = "physode reads only data stored in the file itself; copy the data into the file"
        link = self.file.get(name, getlink=True)
        if link is None:
            return None
        if isinstance(link, h5py.ExternalLink):
            self.fail(f"entry {name!r} is an external link to {link.filename}; {fix}")
        try:
            node = self.file[name]
        except KeyError:  # a soft link to nothing
            self.fail(f"entry {name!r} is a link to a missing object; {fix}")
        if node.file.filename != self.file.filename:  # reached through a link inside a group
            self.fail(f"entry {name!r} resolves to another file ({node.file.filename}); {fix}")
        if isinstance(node, h5py.Dataset):
            if node.external:
                self.fail(f"dataset {name!r} keeps its values in external files "
                          f"({', '.join(str(entry[0]) for entry in node.external)}); {fix}")
            if node.is_virtual:
                self.fail(f"dataset {name!r} is a virtual dataset mapping other data; {fix}")
        return node

    def check_field(self, field: h5py.Dataset | h5py.Group | None, name: str, ranks: tuple[int, ...],
                    expected: str) -> h5py.Dataset:
        """``field`` (the entry ``name``) if a float32 dataset of one of ``ranks``; ``expected`` names
        the shapes for the error."""
        if not isinstance(field, h5py.Dataset) or field.ndim not in ranks:
            shape = getattr(field, "shape", "a group")
            self.fail(f"field {name!r} must be a {expected} dataset, got {shape}")
        if field.dtype != np.float32:
            self.fail(f"field {name!r} has dtype {field.dtype}; the format stores float32")
        return field

    def coordinate(self, name: str, length: int) -> np.ndarray:
        """The coordinate ``name`` of ``length`` points (finite, strictly increasing) in float64."""
        node = self.node(name)
        if not isinstance(node, h5py.Dataset):
            self.fail(f"missing coordinate dataset {name!r}")
        values = node[()]
        problem = axis_problem(values, length)
        if problem:
            self.fail(f"coordinate {name!r} {problem}")
        return values.astype(np.float64)

    def names(self) -> list[str]:
        """The names of the root group's entries, in HDF5's order."""
        return list(self.file)

    def close(self) -> None:
        self.file.close()

