"""Run-directory lock: one holder at a time, the second told who holds it, released by death."""

from __future__ import annotations

import multiprocessing
import multiprocessing.synchronize
import os
import signal
import time
from pathlib import Path

import pytest

from physode.errors import InputError
from physode.training.lock import LOCK_FILE, RunLock, rank_zero_lock

FORK = multiprocessing.get_context("fork")  # children share this process's imports: no start-up time


def _hold(run_dir: Path, held: multiprocessing.synchronize.Event) -> None:
    with RunLock(run_dir, command="physode fit data.h5 --out run"):
        held.set()
        time.sleep(120)


def test_second_holder_is_refused_naming_the_first(tmp_path: Path) -> None:
    run = tmp_path / "run"
    with RunLock(run, command="physode fit a.h5 --out run") as first:
        assert first.held and (run / LOCK_FILE).exists()
        with pytest.raises(InputError) as info:
            RunLock(run).acquire()
        message = str(info.value)
        assert f"pid {os.getpid()}" in message and "physode fit a.h5 --out run" in message
        assert str(run) in message and "\n" not in message
    assert not first.held
    with RunLock(run):  # released: the next run gets it
        pass


def test_lock_of_a_killed_holder_does_not_block(tmp_path: Path) -> None:
    run = tmp_path / "run"
    held = FORK.Event()
    holder = FORK.Process(target=_hold, args=(run, held))
    holder.start()
    try:
        assert held.wait(timeout=60)
        with pytest.raises(InputError, match=f"in use by pid {holder.pid} on .*physode fit data.h5"):
            RunLock(run).acquire()
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.join(timeout=60)
    assert holder.exitcode == -signal.SIGKILL
    assert (run / LOCK_FILE).read_text()  # the dead holder's record is still there ...
    with RunLock(run) as lock:  # ... but the kernel released its lock
        assert lock.held


def test_run_dir_that_is_a_file_is_one_input_error(tmp_path: Path) -> None:
    (tmp_path / "run").write_text("x")
    with pytest.raises(InputError, match="is a file"):
        RunLock(tmp_path / "run").acquire()


def test_rank_zero_lock_locks_only_on_rank_zero(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with rank_zero_lock(tmp_path / "run", command="rank 0") as lock:
        assert lock is not None and lock.held
        monkeypatch.setenv("WORLD_SIZE", "2")  # torchrun sets both: a RANK alone is below a world of 1
        monkeypatch.setenv("RANK", "1")  # another rank of the same run shares the directory
        with rank_zero_lock(tmp_path / "run") as other:
            assert other is None
        monkeypatch.setenv("RANK", "0")  # a second run's rank 0 is refused
        with pytest.raises(InputError, match="`rank 0`"):
            with rank_zero_lock(tmp_path / "run"):
                pass
