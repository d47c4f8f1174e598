"""Checks a command runs on its output paths before doing any work, so no input is ever overwritten.

A command that writes ``--out`` calls :func:`check_output` first: it refuses an output that is one
of the command's own inputs (always), an existing file (unless the user asked to ``--overwrite``),
a directory or a device, FIFO or socket (always: replacing a device node with a regular file breaks
the system), and a place it cannot write, each with one :class:`~physode.errors.InputError`. A
command reading a file calls :func:`check_input_file`, which says what the path is when it is not a
regular file (opening a FIFO would block, a directory is not "missing").
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from physode.errors import InputError

PathLike = str | os.PathLike[str]


def _same_file(a: Path, b: Path) -> bool:
    """True if ``a`` and ``b`` name one file (hard links and symbolic links included)."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist: compare where they would be
        return a.resolve() == b.resolve()


def _nearest_existing(path: Path) -> Path:
    """``path`` or its closest ancestor that exists."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path.cwd()


def check_output(path: PathLike, *, overwrite: bool = False, inputs: Iterable[PathLike] = ()) -> Path:
    """Return ``path`` as a :class:`~pathlib.Path` if a command may write its output file there.

    Raises :class:`~physode.errors.InputError` if ``path`` is one of ``inputs`` (even with
    ``overwrite``: replacing the file being read loses it), is an existing directory, already
    exists and ``overwrite`` is false, or lies under a file or an unwritable directory.
    """
    out = Path(path)
    for source in inputs:
        if _same_file(out, Path(source)):
            raise InputError(f"output {out} is also an input of this command; write the output to another path")
    if out.is_dir():
        raise InputError(f"output {out} is a directory; give a file path such as {out / 'out'}")
    kind = _special_kind(out)
    if kind is not None:
        raise InputError(f"output {out} is {kind}, not a regular file; choose a file path")
    if os.path.lexists(out) and not overwrite:
        raise InputError(f"output {out} already exists; pass --overwrite to replace it or choose another path")
    _check_creatable(out.parent, what=f"output {out}")
    return out


def _special_kind(path: Path) -> str | None:
    """``"a FIFO"``, ``"a character device"`` ... if ``path`` (or what its link points to) is one."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    for test, kind in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return None


def check_input_file(path: PathLike) -> Path:
    """Return ``path`` if it is an existing regular file (or a link to one) that a command may read.

    Raises :class:`~physode.errors.InputError` naming what ``path`` is instead: missing, a
    directory, a FIFO, a device or a socket.
    """
    source = Path(path)
    if source.is_dir():
        raise InputError(f"{source} is a directory; give a file path")
    kind = _special_kind(source)
    if kind is not None:
        raise InputError(f"{source} is {kind}, not a regular file; give a file path")
    if not source.is_file():
        raise InputError(f"{source}: no such file; check the path")
    return source


def check_run_dir(path: PathLike) -> Path:
    """Return ``path`` if it can hold a run directory: an existing directory or one that can be made.

    Raises :class:`~physode.errors.InputError` if it is a file or lies under a file or an
    unwritable directory. Whether the directory may be reused is the command's decision.
    """
    run_dir = Path(path)
    if run_dir.exists() and not run_dir.is_dir():
        raise InputError(f"run directory {run_dir} is a file; choose a directory path for --out")
    _check_creatable(run_dir, what=f"run directory {run_dir}")
    return run_dir


def _check_creatable(directory: Path, *, what: str) -> None:
    """Raise unless ``directory`` exists and is writable, or can be created."""
    existing = _nearest_existing(directory)
    if not existing.is_dir():
        raise InputError(f"cannot create {what}: {existing} is a file, not a directory; choose another path")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(f"cannot write {what}: no write permission in {existing}; choose another path")
