"""Memory and disk space a command may still use, so oversized requests fail before they start.

Asking for 10^8 samples should be one error at the start, not a MemoryError traceback (or the OOM
killer) minutes later. :func:`check_memory` compares what an operation will allocate with what
this process can get: the kernel's available memory, lowered by the container's cgroup limit.
:func:`model_bytes` sizes a model before it is built, for such a check. :func:`check_disk_space`
does the same for a file about to be written: HDF5 cannot recover from a full disk (closing the
file fails and the process dies of a segmentation fault), so a writer checks its size bound first.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from physode.errors import InputError

_UNLIMITED = 2**60  # cgroup v1 reports "no limit" as a huge page-aligned number


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_headroom() -> int | None:
    """Limit minus usage of this container's memory cgroup (v2, else v1), None if unlimited."""
    root = Path("/sys/fs/cgroup")
    for limit_file, usage_file in (("memory.max", "memory.current"),
                                   ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes")):
        limit, usage = _read_int(root / limit_file), _read_int(root / usage_file)
        if limit is not None and usage is not None and limit < _UNLIMITED:
            return max(0, limit - usage)
    return None


def available_memory() -> int | None:
    """Bytes of memory this process can still allocate, or None where the system does not say."""
    known = [value for value in (_meminfo_available(), _cgroup_headroom()) if value is not None]
    return min(known) if known else None


def format_bytes(n: float) -> str:
    """``n`` bytes for people: ``"6.8 GB"``."""
    units = ("B", "kB", "MB", "GB", "TB", "PB")
    power = 0
    while n >= 1000 and power < len(units) - 1:
        n, power = n / 1000, power + 1
    return f"{n:.0f} B" if power == 0 else f"{n:.1f} {units[power]}"


def check_memory(nbytes: int, what: str, fix: str) -> None:
    """Raise :class:`InputError` if ``what`` (allocating ``nbytes``) cannot fit in available memory.

    ``fix`` tells the user which option to lower, e.g. ``"lower --samples or --nx"``.
    """
    available = available_memory()
    if available is not None and nbytes > available:
        raise InputError(f"{what} needs {format_bytes(nbytes)} of memory but {format_bytes(available)} is "
                         f"available; {fix}")


def check_disk_space(path: str | os.PathLike[str], nbytes: int, fix: str) -> None:
    """Raise :class:`InputError` if writing at most ``nbytes`` to ``path`` would not fit on its disk.

    ``fix`` tells the user what to change, e.g. ``"lower --samples or choose another --out"``.
    """
    directory = Path(path).absolute().parent
    while not directory.exists() and directory != directory.parent:  # it will be created
        directory = directory.parent
    try:
        free = shutil.disk_usage(directory).free
    except OSError:  # the write itself will report what is wrong with the directory
        return
    if nbytes > free:
        raise InputError(f"writing {path} needs up to {format_bytes(nbytes)} of disk space but {format_bytes(free)} "
                         f"is free in {directory}; {fix}")


def model_bytes(build: Callable[[], nn.Module], dtype: torch.dtype = torch.float32) -> int:
    """Bytes of the parameters and buffers ``build()`` makes, stored as ``dtype``, without allocating them.

    The model is built on PyTorch's meta device (shapes only, no memory, no random numbers drawn),
    so ``--hidden-channels 1000000`` is priced before a single weight exists. A trainer checks
    e.g. ``check_memory(4 * model_bytes(build), ...)``: weights, gradients and Adam's two moments.
    """
    with torch.device("meta"):
        model = build()
    tensors = [*model.parameters(), *model.buffers()]
    return sum(t.numel() * (dtype.itemsize if t.is_floating_point() else t.element_size()) for t in tensors)
