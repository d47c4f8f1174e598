"""Metrics as JSON lines: one self-describing record per epoch, readable while a run is going."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from physode.io.atomic import atomic_write_text


class MetricsWriter:
    """Append one JSON object per line to ``path``, flushed and fsynced so a kill loses no record.

    ``keep_through`` truncates a resumed run's file to the records whose ``key`` (default
    ``"epoch"``) is at most that value: records written after the checkpoint being resumed from
    are recomputed, so the file ends up identical to an uninterrupted run's.
    """

    def __init__(self, path: str | os.PathLike[str], keep_through: int | None = None, key: str = "epoch"):
        self.path = Path(path)
        records = read_metrics(self.path) if self.path.exists() else []
        if keep_through is None:
            records = []
        else:
            records = [r for r in records if r.get(key, keep_through + 1) <= keep_through]
        atomic_write_text(self.path, "".join(json.dumps(r) + "\n" for r in records))

    def write(self, record: dict[str, Any]) -> None:
        """Append ``record`` (JSON-serialisable values) as one line."""
        with open(self.path, "a") as handle:
            handle.write(json.dumps(record) + "\n")
            handle.flush()
            os.fsync(handle.fileno())


def read_metrics(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """All records of a JSON-lines file; a torn last line (killed mid-write) is ignored."""
    records = []
    for line in Path(path).read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records
