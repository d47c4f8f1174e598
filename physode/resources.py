"""Memory a command may still use, so oversized requests fail before they allocate anything.

Asking for 10^8 samples should be one error at the start, not a MemoryError traceback (or the OOM
killer) minutes later. :func:`check_memory` compares what an operation will allocate with what
this process can get: the kernel's available memory, lowered by the container's cgroup limit.
"""

from __future__ import annotations

from pathlib import Path

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
