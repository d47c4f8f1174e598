"""One process at a time per run directory.

Two commands writing one run directory interleave their checkpoints and metrics. A command that
writes a run directory holds :class:`RunLock` on it for its whole run: an exclusive OS lock
(``flock``) on ``RUN_DIR/.lock``, which the kernel releases when the holder exits or dies, so a
lock left by a killed run never blocks ``--resume``. The file records who holds it, so the second
command's error names the holder. In data-parallel runs only rank 0 takes the lock.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path
from types import TracebackType

from physode.errors import InputError
from physode.io.outputs import check_run_dir

LOCK_FILE = ".lock"


class RunLock:
    """Exclusive lock on a run directory, created if missing; use as a context manager.

    ``command`` (default: the process's command line) is recorded for the message a second
    holder gets. Acquiring raises :class:`InputError` at once, naming the holder's pid, host and
    command, if another process holds the directory.
    """

    def __init__(self, run_dir: str | os.PathLike[str], command: str | None = None) -> None:
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK_FILE
        self.command = command if command is not None else " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])
        self._fd: int | None = None

    def acquire(self) -> None:
        check_run_dir(self.run_dir)
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise InputError(f"cannot lock run directory {self.run_dir}: {err.strerror or err}; "
                             "choose another --out") from None
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
