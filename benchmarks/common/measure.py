"""Measurement shared by the benchmarks: a training step's time and peak memory, one process each.

Each configuration runs in a fresh subprocess (``run_isolated``: the benchmark's own module again)
so its peak memory is its own; inside it, ``measure_training_step`` times repeated steps with
device synchronisation and reads the peak of a step after a warm-up step:
``torch.cuda.max_memory_allocated`` growth on CUDA, resident-memory growth on CPU. On CPU, glibc keeps freed heap memory mapped, so RSS would hide
memory that is freed and reused; the peak is therefore read in a separate run in which every
allocation of 64 KiB or more is its own mapping (``MALLOC_MMAP_THRESHOLD_``), returned on free.
That setting slows allocation several-fold, so times come from a normal run.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import torch


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _rss_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        return int(re.search(rf"{field}:\s+(\d+)", status.read()).group(1))


def measure_training_step(step: Callable[[], None], device: torch.device, repeats: int) -> dict[str, float]:
    """Peak memory of one training step after a warm-up step, and the median time of ``repeats``.

    The warm-up keeps one-time costs (library workspaces, first-call caches) out of the peak. On
    CPU the peak is the growth of resident memory over the step: the kernel's high-water mark is
    reset first (``/proc/self/clear_refs``).
    """
    step()
    synchronize(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
    else:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")  # reset VmHWM to the current resident size
        base = _rss_kib("VmRSS")
    step()
    synchronize(device)
    if device.type == "cuda":
        peak_mib = (torch.cuda.max_memory_allocated(device) - base) / 2**20
    else:
        peak_mib = (_rss_kib("VmHWM") - base) / 2**10
    times = []
    for _ in range(repeats):
        synchronize(device)
        start = time.perf_counter()
        step()
        synchronize(device)
        times.append(time.perf_counter() - start)
    return {"time_ms": 1e3 * statistics.median(times) if times else None, "peak_mib": peak_mib}


def run_isolated(module: str, options: Sequence[str], json_out: Path, device: str = "cpu") -> dict:
    """Run ``python -m MODULE --worker OPTIONS --json-out FILE`` in a fresh interpreter; return its JSON.

    ``module`` is run from the current directory, the repository root (as the benchmark itself).
    On CPU the peak memory comes from a second, one-step run with freed memory unmapped.
    """
    command = [sys.executable, "-m", module, "--worker", *options, "--json-out", str(json_out)]
    subprocess.run(command, check=True)
    figures = json.loads(json_out.read_text())
    if not device.startswith("cuda"):
        env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536"}
        subprocess.run([*command, "--repeats", "0"], check=True, env=env)
        figures["peak_mib"] = json.loads(json_out.read_text())["peak_mib"]
    return figures


def peak_memory_note(device: str) -> str:
    """How the peak-memory column was measured, for the report."""
    if device.startswith("cuda"):
        return "growth of `torch.cuda.max_memory_allocated` over the step"
    return (
        "growth of resident memory over a step after a warm-up step, freed memory unmapped "
        "(`MALLOC_MMAP_THRESHOLD_=65536`)"
    )


def save_report(out: Path, lines: Sequence[str], figure) -> None:
    """Write ``results.md`` and ``results.png`` into ``out`` atomically."""
    from physode.io import atomic_path, atomic_write_text

    atomic_write_text(out / "results.md", "\n".join(lines) + "\n")
    figure.tight_layout()
    with atomic_path(out / "results.png") as tmp:
        figure.savefig(tmp, format="png", dpi=110)
    print(f"wrote {out / 'results.md'} and {out / 'results.png'}")
