"""Atomic file writes: a file appears at its final path complete or not at all.

Everything physode writes (datasets, checkpoints, metrics, figures) goes through
:func:`atomic_path`, so a crash or a failed check never leaves a half-written file behind, and no
temporary file outlives its write either:

* an exception (including Ctrl-C) removes the temporary file as the block unwinds;
* SIGTERM and SIGHUP, which would otherwise end the process without unwinding, remove every
  temporary file in flight before the process dies of the signal;
* SIGKILL cannot be caught, so the next write to the same path sweeps the temporaries of writers
  that are no longer alive. Temporary names carry the writer's pid for that:
  ``.NAME.<pid>.<random>.tmp`` beside ``NAME``.

Unless asked to replace, the file is published without replacing one that appeared meanwhile (a
second command writing the same new path), and a full disk names the file being written.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import os
import re
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

from physode.errors import RunError

# Temporary files being written by this process; removed by the signal handler and at exit.
_IN_FLIGHT: set[Path] = set()
# Signals whose default action ends the process without unwinding the stack.
_FATAL_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))
# The handlers ours replaced, restored when the last write in flight finishes.
_PREVIOUS_HANDLERS: dict[int, Any] = {}
# Write failures that concern the file being written, whatever library reported them without its name.
_SPACE_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
# What a file system without hard links answers os.link with.
_NO_LINKS = (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS)


def _remove_in_flight() -> None:
    for tmp in list(_IN_FLIGHT):  # a copy: the main thread may be adding or removing entries
        with contextlib.suppress(OSError):
            tmp.unlink()
    _IN_FLIGHT.clear()


def _on_fatal_signal(signum: int, frame: FrameType | None) -> None:
    """Remove the temporaries in flight, then let the signal do what it would have done."""
    previous = _PREVIOUS_HANDLERS.get(signum)
    if previous == signal.SIG_IGN:
        return  # the signal is ignored: the writes go on, and so must their files
    if callable(previous):
        # The program handles the signal itself: if its handler raises, the write unwinds and
        # removes its file; if it returns (say, to stop after this epoch), the write goes on.
        previous(signum, frame)
        return
    # Default action: clean up, then die of the signal itself so the exit status still reports it.
    _remove_in_flight()
    _restore_handlers()
    os.kill(os.getpid(), signum)


def _install_handlers() -> None:
    """Route fatal signals through :func:`_on_fatal_signal` while a write is in flight."""
    for signum in _FATAL_SIGNALS:
        current = signal.getsignal(signum)
        if current is _on_fatal_signal:
            continue
        try:
            signal.signal(signum, _on_fatal_signal)
        except ValueError:  # not the main thread: atexit and the next write's sweep still clean up
            return
        _PREVIOUS_HANDLERS[signum] = current


def _restore_handlers() -> None:
    for signum, previous in list(_PREVIOUS_HANDLERS.items()):
        # Leave alone a handler someone installed after ours.
        if signal.getsignal(signum) is _on_fatal_signal:
            with contextlib.suppress(ValueError):
                signal.signal(signum, previous if previous is not None else signal.SIG_DFL)
        del _PREVIOUS_HANDLERS[signum]


atexit.register(_remove_in_flight)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def sweep_stale_temporaries(path: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporaries of ``path`` left by writers that died without cleaning up (SIGKILL).

    Only files named exactly like :func:`atomic_path`'s temporaries for ``path`` are considered,
    and only those whose writer pid is no longer running (or is this process but not one of its
    writes in flight: a pid reused after a container restart). Returns the files removed.
    """
    final = Path(path)
    pattern = re.compile(rf"\.{re.escape(final.name)}\.(\d+)\.[a-z0-9_]+\.tmp")
    removed = []
    try:
        siblings = list(os.scandir(final.parent))
    except OSError:
        return removed
    for entry in siblings:
        match = pattern.fullmatch(entry.name)
        if match is None or not entry.is_file(follow_symlinks=False):
            continue
        pid, candidate = int(match.group(1)), Path(entry.path)
        stale = candidate not in _IN_FLIGHT if pid == os.getpid() else not _pid_alive(pid)
        if stale:
            with contextlib.suppress(FileNotFoundError):
                candidate.unlink()
                removed.append(candidate)
    return removed


def _appeared(final: Path) -> RunError:
    return RunError(f"output {final} was created by another process while this one ran; nothing was "
                    "replaced: choose another path, or pass --overwrite to replace it")


def _publish(tmp: Path, final: Path, replace: bool) -> None:
    """Move the finished ``tmp`` to ``final``; without ``replace``, never over a file that exists."""
    if replace:
        os.replace(tmp, final)
        return
    try:  # a hard link fails atomically if final exists: of two writers, the second is refused
        os.link(tmp, final)
    except FileExistsError:
        raise _appeared(final) from None
    except OSError as err:
        if err.errno not in _NO_LINKS:
            raise
        # No hard links here: claim the name exclusively, then move the content onto the claim.
        try:
            os.close(os.open(final, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            raise _appeared(final) from None
        os.replace(tmp, final)
        return
    tmp.unlink()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, replace: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it onto ``path`` only if the block succeeds.

    The temporary file lives in the same directory so the final move is atomic on POSIX. With
    ``replace`` false, a file that appeared at ``path`` while the block ran is kept and a
    :class:`~physode.errors.RunError` raised instead. On any exception, and on SIGTERM or SIGHUP,
    the temporary file is removed and ``path`` is left untouched; temporaries of dead writers of
    ``path`` are swept first. A full disk is reported as an :class:`OSError` naming ``path``.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale_temporaries(final)
    # A Ctrl-C between creating the temporary and guarding it would leave it behind: SIGINT waits
    # until the guard below is in place (it is delivered there, and the temporary removed).
    unmasked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.{os.getpid()}.", suffix=".tmp", dir=final.parent)
    except BaseException:
        signal.pthread_sigmask(signal.SIG_SETMASK, unmasked)
        raise
    tmp = Path(tmp_name)
    try:
        signal.pthread_sigmask(signal.SIG_SETMASK, unmasked)
        os.close(fd)
        if not _IN_FLIGHT:
            _install_handlers()
        _IN_FLIGHT.add(tmp)
        # mkstemp creates the file private (0600); give it the mode a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o666 & ~umask)
        yield tmp
        with open(tmp, "rb+") as handle:  # flush to disk before the rename makes it visible
            os.fsync(handle.fileno())
        _publish(tmp, final, replace)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        # HDF5 and torch report a full disk without a file name, or with the temporary's.
        if err.errno in _SPACE_ERRORS and err.filename in (None, str(tmp)):
            raise OSError(err.errno, os.strerror(err.errno), str(final)) from err
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        _IN_FLIGHT.discard(tmp)
        if not _IN_FLIGHT:
            _restore_handlers()


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
