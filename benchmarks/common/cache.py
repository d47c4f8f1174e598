"""The run cache of a benchmark: one JSON result per finished fit in ``--work``, and an earlier
report's results standing in for fits not cached (``--reuse``).

A fit is cached as ``<work>/<row>/<run name>.json``; the run name carries the settings that differ
from the model's defaults (:func:`run_name`), so no fit stands in for, or resumes, one with other
settings. Two processes with disjoint rows and one ``--work`` share the load; a last run then
only reads the cache.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from physode.io import atomic_write_text

RunKey = tuple[str, str, int]  # (row, model, seed)


def run_name(model: str, seed: int, changes: Iterable[str]) -> str:
    """``<model>_seed<seed>`` followed by ``_<change>`` for each setting off its default."""
    return f"{model}_seed{seed}" + "".join(f"_{change}" for change in changes)


class RunCache:
    """The finished fits' results under ``work``, one JSON file per run."""

    def __init__(self, work: Path) -> None:
        self.work = work

    def path(self, row: str, run: str) -> Path:
        return self.work / row / f"{run}.json"

    def get(self, row: str, run: str) -> dict[str, Any] | None:
        """The cached result of ``run`` on ``row``, or None."""
        path = self.path(row, run)
        return json.loads(path.read_text()) if path.exists() else None

    def put(self, row: str, run: str, result: dict[str, Any]) -> None:
        path = self.path(row, run)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(result) + "\n")


def reused_runs(path: Path | None, epochs: dict[str, int]) -> dict[RunKey, dict[str, Any]]:
    """The runs of an earlier report's results.json, keyed by (row, model, seed), to stand in for fits
    not in ``--work`` (their run directories gone). Refused unless it had the same epochs for every family
    that has them now (families it counted that no longer have epochs, e.g. the early-stopped peers', aside)."""
    if path is None:
        return {}
    earlier = json.loads(path.read_text())
    if any(earlier["epochs"].get(family) != value for family, value in epochs.items()):
        sys.exit(f"--reuse {path}: its runs had epochs {earlier['epochs']}, this run {epochs}; "
                 "pass the same --epochs")
    return {(r["row"], r["model"], r["seed"]): {k: v for k, v in r.items() if k != "row"} for r in earlier["runs"]}
