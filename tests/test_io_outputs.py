"""Atomic writes under signals, sweeping temporaries of killed writers, output checks, fingerprints."""

from __future__ import annotations

import multiprocessing
import multiprocessing.synchronize
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from physode.errors import InputError
from physode.io import atomic_write_text
from physode.io.atomic import atomic_path, sweep_stale_temporaries
from physode.io.fingerprint import BLOCK_BYTES, file_fingerprint
from physode.io.outputs import check_output, check_run_dir

# Writers are forked from this process (physode already imported) so the test takes no start-up time.
FORK = multiprocessing.get_context("fork")


def _write_until_signalled(path: Path, mode: str, writing: multiprocessing.synchronize.Event) -> None:
    """Stop mid-write, holding the temporary file open, until a signal arrives."""
    # Under nohup (a detached test run) SIGHUP arrives ignored, and an ignored signal stays ignored:
    # start from the default disposition, as a program attached to a terminal has.
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    if mode == "own-handler":  # a program that handles SIGTERM itself by exiting
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(3))
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        handle.write(b"new" * 100_000)
        handle.flush()
        writing.set()
        time.sleep(120)


def _temporaries(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_signals_mid_write_leave_no_temporary_and_the_old_file_intact(tmp_path: Path) -> None:
    cases = {  # mode -> (signal, expected exit status)
        "sigterm": (signal.SIGTERM, -signal.SIGTERM),
        "sighup": (signal.SIGHUP, -signal.SIGHUP),
        "own-handler": (signal.SIGTERM, 3),
        "sigkill": (signal.SIGKILL, -signal.SIGKILL),
    }
    writers = {}
    for mode, (signum, status) in cases.items():
        (tmp_path / mode).mkdir()
        (tmp_path / mode / "out.bin").write_bytes(b"old")
        writing = FORK.Event()
        writers[mode] = FORK.Process(target=_write_until_signalled, args=(tmp_path / mode / "out.bin", mode, writing))
        writers[mode].start()
        assert writing.wait(timeout=60)
        assert len(_temporaries(tmp_path / mode)) == 1
        os.kill(writers[mode].pid, signum)
        writers[mode].join(timeout=60)
        assert writers[mode].exitcode == status, mode
        assert (tmp_path / mode / "out.bin").read_bytes() == b"old"
        if mode != "sigkill":
            assert _temporaries(tmp_path / mode) == [], mode
    # SIGKILL cannot be caught: its temporary stays until the next write to the same path sweeps it.
    left = tmp_path / "sigkill"
    (stale,) = _temporaries(left)
    assert stale.startswith(f".out.bin.{writers['sigkill'].pid}.")
    atomic_write_text(left / "out.bin", "fresh")
    assert _temporaries(left) == [] and (left / "out.bin").read_text() == "fresh"


def test_sweep_removes_only_temporaries_of_dead_writers_of_that_path(tmp_path: Path) -> None:
    dead, alive = _dead_pid(), os.getppid()
    names = {
        f".out.bin.{dead}.abc123_x.tmp": True,  # a dead writer of out.bin
        f".out.bin.{os.getpid()}.zz9.tmp": True,  # this pid, but not a write in flight: a reused pid
        f".out.bin.{alive}.abc123.tmp": False,  # a live writer
        f".other.bin.{dead}.abc123.tmp": False,  # another path's
        f".out.bin.{dead}.tmp": False,  # not the temporary pattern
        f"out.bin.{dead}.abc.tmp": False,
        f".out.bin.{dead}.abc.tmp.keep": False,
    }
    for name in names:
        (tmp_path / name).write_text("x")
    removed = sweep_stale_temporaries(tmp_path / "out.bin")
    assert sorted(p.name for p in removed) == sorted(n for n, swept in names.items() if swept)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(n for n, swept in names.items() if not swept)


def test_check_output_refuses_inputs_existing_files_and_directories(tmp_path: Path) -> None:
    data = tmp_path / "v.h5"
    data.write_text("data")
    (tmp_path / "link.h5").symlink_to(data)
    os.link(data, tmp_path / "hard.h5")
    for out in (data, tmp_path / "link.h5", tmp_path / "hard.h5", tmp_path / "sub" / ".." / "v.h5"):
        with pytest.raises(InputError, match="is also an input") as info:
            check_output(out, overwrite=True, inputs=[tmp_path / "missing.pt", data])
        assert "\n" not in str(info.value)
    with pytest.raises(InputError, match="already exists; pass --overwrite"):
        check_output(data, inputs=[tmp_path / "other.pt"])
    assert check_output(data, overwrite=True) == data
    with pytest.raises(InputError, match="is a directory"):
        check_output(tmp_path, overwrite=True)
    with pytest.raises(InputError, match="v.h5 is a file, not a directory"):
        check_output(data / "deeper" / "out.json")
    assert check_output(tmp_path / "new" / "dir" / "out.json") == tmp_path / "new" / "dir" / "out.json"
    assert data.read_text() == "data"


def test_check_run_dir(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="is a file"):
        check_run_dir(tmp_path / "file")
    with pytest.raises(InputError, match="is a file, not a directory"):
        check_run_dir(tmp_path / "file" / "run")
    assert check_run_dir(tmp_path / "a" / "run") == tmp_path / "a" / "run"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere: permissions cannot be tested as root")
def test_check_output_refuses_an_unwritable_directory(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(InputError, match="no write permission"):
        check_output(locked / "sub" / "out.json")


@pytest.mark.parametrize("size", [1000, 79 * 2**20])
def test_fingerprint_follows_content_not_path_or_time(tmp_path: Path, size: int) -> None:
    """Every byte counts: 79 MiB is the hostile sweep's file, whose byte 1 MiB + 12345 a sampled
    fingerprint (the first and 63 more evenly spaced MiB) never read."""
    # Two equal files of zeros (sparse, so the large case writes nothing to disk).
    a, b = tmp_path / "a", tmp_path / "b"
    for path in (a, b):
        with open(path, "wb") as handle:
            handle.truncate(size)
    os.utime(b, (0, 0))
    assert file_fingerprint(a) == file_fingerprint(b)
    middle = min(size // 2, BLOCK_BYTES + 12345)
    with open(b, "r+b") as handle:
        for position in (0, middle, size - 1):
            os.pwrite(handle.fileno(), b"\1", position)
            assert file_fingerprint(b) != file_fingerprint(a), position
            os.pwrite(handle.fileno(), b"\0", position)
        assert file_fingerprint(b) == file_fingerprint(a)
        os.pwrite(handle.fileno(), b"\0", size)
    assert file_fingerprint(b) != file_fingerprint(a)
