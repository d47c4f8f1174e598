"""Checks a command runs on its output paths before doing any work, so no input is ever overwritten.

A command that writes ``--out`` calls :func:`check_output` first: it refuses an output that is one
of the command's own inputs (always), an existing file (unless the user asked to ``--overwrite``),
a directory, and a place it cannot write, each with one :class:`~physode.errors.InputError`.
"""

from __future__ import annotations

import os
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
    if os.path.lexists(out) and not overwrite:
        raise InputError(f"output {out} already exists; pass --overwrite to replace it or choose another path")
    _check_creatable(out.parent, what=f"output {out}")
    return out


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
