"""The resume tests' fault: a command line killed by SIGKILL at a chosen point, and the records
compared with an uninterrupted run's once their timings are dropped."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

TIMING = ("time_s", "fit_time_s", "images_per_s")


def sigkill_when(argv: Sequence[str], ready: Callable[[], bool], what: str, *, cwd: Path,
                 env: Mapping[str, str]) -> None:
    """Run ``argv`` and SIGKILL it as soon as ``ready()`` holds; fail if it exits before (``what``:
    the point it was to be killed at, for the message)."""
    proc = subprocess.Popen(list(argv), env=dict(env), cwd=cwd, stdout=subprocess.DEVNULL)
    try:
        while not ready():
            assert proc.poll() is None, f"the command exited before {what}"
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL


def without_timing(records: list[dict]) -> list[dict]:
    """``records`` without their wall-clock fields, which no two runs share."""
    return [{k: v for k, v in r.items() if k not in TIMING} for r in records]
