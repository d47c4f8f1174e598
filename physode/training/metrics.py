"""Metrics as strict JSON: one self-describing record per epoch, readable while a run is going.

JSON has no NaN or Infinity (Python's ``json`` writes them, other readers reject the file), so a
non-finite number is written as ``null``; :func:`non_finite_fields` tells the command which, so it
can report them and exit non-zero.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from physode.errors import InputError
from physode.io.atomic import atomic_write_text
from physode.io.outputs import check_input_file


def _finite_or_null(value: Any) -> Any:
    if isinstance(value, float):  # includes numpy.float64
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {key: _finite_or_null(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_null(item) for item in value]
    return value


def strict_json(value: Any, **dumps_kwargs: Any) -> str:
    """``json.dumps`` that writes NaN and +-Infinity as ``null``, so any JSON reader accepts it."""
    return json.dumps(_finite_or_null(value), allow_nan=False, **dumps_kwargs)


def write_json(path: str | os.PathLike[str], value: Any) -> None:
    """Write ``value`` to ``path`` atomically as indented strict JSON (see :func:`strict_json`)."""
    atomic_write_text(path, strict_json(value, indent=2) + "\n")


def non_finite_fields(value: Any, prefix: str = "") -> list[str]:
    """Dotted names of the NaN or infinite numbers in ``value``, e.g. ``["test_nrmse", "per_t.3"]``."""
    if isinstance(value, float):
        return [] if math.isfinite(value) else [prefix or "value"]
    if isinstance(value, Mapping):
        items = ((str(key), item) for key, item in value.items())
    elif isinstance(value, (list, tuple)):
        items = ((str(i), item) for i, item in enumerate(value))
    else:
        return []
    return [name for key, item in items for name in non_finite_fields(item, f"{prefix}.{key}" if prefix else key)]


def check_finite_metrics(record: Any, where: str) -> None:
    """Raise :class:`InputError` naming the NaN or infinite metrics in ``record`` (written to ``where``).

    A command calls it after writing its metrics (as strict JSON, with null in their place), so a
    diverged model or a degenerate data set ends in a non-zero exit instead of a silent success.
    """
    bad = non_finite_fields(record)
    if bad:
        shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise InputError(f"{shown} {'is' if len(bad) == 1 else 'are'} NaN or infinite (null in {where}): the "
                         "model diverged, or the data has an all-zero test field (a relative error is undefined "
                         "there); check the data and retrain with a lower --lr")


class MetricsWriter:
    """Append one JSON object per line to ``path``, flushed and fsynced so a kill loses no record.

    ``keep_through`` truncates a resumed run's file to the records whose ``key`` (default
    ``"epoch"``) is at most that value: records written after the checkpoint being resumed from
    are recomputed, so the file ends up identical to an uninterrupted run's.
    """

    def __init__(self, path: str | os.PathLike[str], keep_through: int | None = None, key: str = "epoch"):
        self.path = Path(path)
        records = read_metrics(self.path) if os.path.lexists(self.path) else []
        if keep_through is None:
            records = []
        else:
            records = [r for r in records if r.get(key, keep_through + 1) <= keep_through]
        atomic_write_text(self.path, "".join(strict_json(r) + "\n" for r in records))

    def write(self, record: dict[str, Any]) -> None:
        """Append ``record`` (JSON-serialisable values; NaN and Inf become null) as one line."""
        with open(self.path, "a") as handle:
            handle.write(strict_json(record) + "\n")
            handle.flush()
            os.fsync(handle.fileno())


def read_metrics(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """All records of a JSON-lines file; a torn last line (killed mid-write) is ignored.

    Anything but a regular file (a FIFO would block the read forever) is an :class:`InputError`.
    """
    records = []
    try:
        text = check_input_file(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path} is not a JSON-lines metrics file (it is binary); pass a run's "
                         "metrics.jsonl or its run directory") from None
    for line in text.splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records
