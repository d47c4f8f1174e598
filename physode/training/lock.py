"""One process at a time per run directory.

Two commands writing one run directory interleave their checkpoints and metrics. A command that
writes a run directory holds :class:`RunLock` on it for its whole run: an exclusive OS lock
(``flock``) on ``RUN_DIR/.lock``, which the kernel releases when the holder exits or dies, so a
lock left by a killed run never blocks ``--resume``. The file records who holds it, so the second
command's error names the holder. In data-parallel runs only rank 0 takes the lock. A ``.lock`` that
is a symbolic link or not a regular file is refused, never followed: truncating it would empty
whatever it points to. A directory that never held a run (no lock file, no checkpoint) but holds
files a new run would write (the user's own ``metrics.json``) is refused too, so no run replaces them.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
import stat
import sys
import time
from collections.abc import Collection, Iterator
from pathlib import Path
from types import TracebackType

from physode.errors import InputError
from physode.io.outputs import check_run_dir
from physode.training.distributed import launch_environment
from physode.training.run_dir import CHECKPOINT, METRICS

LOCK_FILE = ".lock"


class RunLock:
    """Exclusive lock on a run directory, created if missing; use as a context manager.

    ``command`` (default: the process's command line) is recorded for the message a second
    holder gets. Acquiring raises :class:`InputError` at once, naming the holder's pid, host and
    command, if another process holds the directory, or if any of ``outputs`` (file names a new run
    writes) exists in a directory that never held a run.
    """

    def __init__(self, run_dir: str | os.PathLike[str], command: str | None = None,
                 outputs: Collection[str] = ()) -> None:
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK_FILE
        self.command = command if command is not None else " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])
        self.outputs = tuple(outputs)
        self._fd: int | None = None

    def _check_never_a_run(self) -> None:
        """Refuse a directory holding ``outputs`` that no run made: they are the user's own files."""
        if os.path.lexists(self.path) or os.path.lexists(self.run_dir / CHECKPOINT):
            return  # a run (perhaps killed before its first checkpoint) wrote here
        found = [name for name in self.outputs if os.path.lexists(self.run_dir / name)]
        if found:
            raise InputError(f"{self.run_dir} holds {', '.join(found)} but no run of physode; move "
                             f"{'it' if len(found) == 1 else 'them'} away or choose a new --out")

    def acquire(self) -> None:
        check_run_dir(self.run_dir)
        self._check_never_a_run()
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            # O_NOFOLLOW: a planted link is not followed; O_NONBLOCK: a FIFO does not block the open.
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK, 0o644)
        except OSError as err:
            if err.errno == errno.ELOOP:
                raise InputError(f"{self.path} is a symbolic link, not a lock file; remove it (physode does "
                                 "not follow it) or choose another --out") from None
            raise InputError(f"cannot lock run directory {self.run_dir}: {err.strerror or err}; "
                             "choose another --out") from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise InputError(f"{self.path} is not a regular file, not a lock file; remove it or choose "
                             "another --out")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._holder(fd)
            os.close(fd)
            raise InputError(f"run directory {self.run_dir} is in use by {holder}; wait for it to finish or "
                             "choose another --out") from None
        except OSError as err:  # e.g. a file system without locks
            os.close(fd)
            raise InputError(f"cannot lock run directory {self.run_dir}: {err.strerror or err}; "
                             "choose a directory on a local file system") from None
        record = {"pid": os.getpid(), "host": socket.gethostname(), "command": self.command,
                  "since": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(record) + "\n").encode(), 0)
        self._fd = fd

    @staticmethod
    def _holder(fd: int) -> str:
        """Who holds the lock, from what the holder wrote into the file."""
        try:
            record = json.loads(os.pread(fd, 4096, 0))
            command = " ".join(str(record["command"]).split())[:200]
            return f"pid {int(record['pid'])} on {record['host']} (`{command}`, since {record['since']})"
        except (ValueError, KeyError, TypeError):  # the holder has not written its record yet
            return "another process"

    def release(self) -> None:
        if self._fd is None:
            return
        # Truncate first so the file never names a process that no longer holds it.
        os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.release()


@contextlib.contextmanager
def rank_zero_lock(run_dir: str | os.PathLike[str], command: str | None = None,
                   outputs: Collection[str] = (METRICS,)) -> Iterator[RunLock | None]:
    """:class:`RunLock` on ``run_dir`` in a single process or ``torchrun``'s rank 0; nothing on other ranks.

    ``outputs`` are the files a trainer writes besides its checkpoint (see :class:`RunLock`).

    The ranks of one data-parallel run share its directory; rank 0 holds the lock for all of them.
    Reads ``RANK`` (set by ``torchrun``), so it works before the process group is joined.
    """
    if launch_environment().rank != 0:
        yield None
        return
    with RunLock(run_dir, command, outputs) as lock:
        yield lock
