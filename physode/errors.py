"""Errors physode raises for bad input and for runs that cannot finish, and one-line messages for
the failures a user can fix.

Every check of user input raises :class:`InputError` (a ``ValueError``) with one message that says
what is wrong and how to fix it. A run that starts from valid input and still cannot finish (a
solve that cannot reach its end, a training that diverges) raises a :class:`RunError` (a
``RuntimeError``, so ``except ValueError`` does not mistake a blow-up for bad input). The command
line prints either as a single line without a traceback. Operating-system failures (permissions,
missing directories, a full disk) reach the user through :func:`os_error_message`, also as one
line.
"""

from __future__ import annotations

import errno


class InputError(ValueError):
    """Bad user input (arguments, files, options): the message says what is wrong and the fix."""


class RunError(RuntimeError):
    """A run could not finish: the message says where and what to change."""


class SolverError(RunError):
    """An adaptive solve could not reach the end of its span (step size underflow, too many
    steps): the message says at which ``t`` and what to change."""


class TrainingDiverged(RunError):
    """Training stopped on a non-finite or exploding loss; the last good checkpoint is kept."""


_OS_FIXES = {
    errno.EACCES: "check its permissions or choose another path",
    errno.EPERM: "check its permissions or choose another path",
    errno.EROFS: "the file system is read-only; choose another path",
    errno.ENOSPC: "the disk is full; free space or choose another path",
    errno.EDQUOT: "the disk quota is exceeded; free space or choose another path",
    errno.ENOENT: "check the path",
    errno.ENOTDIR: "a part of the path is a file, not a directory; check the path",
    errno.EISDIR: "it is a directory; give a file path",
    errno.ENAMETOOLONG: "choose a shorter name",
    errno.EEXIST: "it already exists; choose another path",
}


def one_line(message: object, limit: int = 300) -> str:
    """``message`` (an exception or text) on one line: whitespace runs and newlines become one space.

    Library exceptions (torch's state-dict errors, pickle errors) span several lines; a command
    prints at most ``limit`` characters of them.
    """
    text = " ".join(str(message).split()) or type(message).__name__
    return text if len(text) <= limit else text[:limit] + " ..."


def os_error_message(err: OSError) -> str:
    """One line saying which file an operating-system error concerns, what happened and the fix.

    E.g. ``/data/out.h5: Permission denied; check its permissions or choose another path``.
    """
    reason = err.strerror or one_line(err)
    where = ""
    if err.filename is not None:
        where = f"{err.filename}" + (f" -> {err.filename2}" if err.filename2 is not None else "") + ": "
    fix = _OS_FIXES.get(err.errno)
    return f"{where}{reason}" + (f"; {fix}" if fix else "")


# How torch words a failed allocation: CPU (DefaultCPUAllocator), CUDA and other accelerators.
_OUT_OF_MEMORY_MARKS = ("can't allocate memory", "out of memory")


def is_out_of_memory(err: BaseException) -> bool:
    """True if ``err`` is torch's report of an allocation it could not make (a ``RuntimeError``, or
    ``torch.OutOfMemoryError`` on CUDA), which a command reports like a ``MemoryError``."""
    return isinstance(err, RuntimeError) and any(mark in str(err) for mark in _OUT_OF_MEMORY_MARKS)
