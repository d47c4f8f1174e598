"""Run directories: where a trainer keeps its checkpoint and metrics, and when it may continue a run.

A run directory holds ``checkpoint.pt`` (the last atomically written training state) and
``metrics.jsonl`` (one JSON record per epoch). A trainer asked to write into a directory that
already holds a checkpoint refuses unless told to resume or to replace the run (:func:`clear_run`,
``--overwrite``); resuming is refused too when the
checkpoint belongs to another trainer or was written with different settings, so a resumed run
always continues the run it claims to. Every refusal is one :class:`InputError` naming the fix.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from physode.errors import InputError
from physode.training.checkpoint import Schema, load_checkpoint

CHECKPOINT = "checkpoint.pt"
METRICS = "metrics.jsonl"


def check_format(state: Mapping[str, Any], expected: str, path: Path, what: str, fix: str) -> None:
    """Refuse a checkpoint written by another trainer: ``what`` names the right kind, ``fix`` the remedy."""
    if state["format"] != expected:
        raise InputError(f"{path} is a {state['format']!r} checkpoint, not {what}; {fix}")


def _differs(stored: Any, value: Any) -> bool:
    if isinstance(stored, Mapping) and isinstance(value, Mapping):
        return any(stored.get(name) != setting for name, setting in value.items())
    return stored != value


def resume_state(
    out: str | os.PathLike[str],
    *,
    resume: bool,
    format: str,
    what: str,
    required: Schema,
    config: Mapping[str, Any],
    may_change: Collection[str] = (),
    identity: Mapping[str, Any] | None = None,
) -> dict[str, Any] | None:
    """The checkpoint to continue from in the run directory ``out``, or None for a new run.

    A checkpoint is used only with ``resume``; it must hold the keys ``required`` and the
    ``format`` of this trainer (``what`` names it in errors). Its stored ``config`` must equal
    ``config`` except for the fields in ``may_change`` (a nested mapping, such as a model's settings,
    on the fields ``config`` names: a caller leaves out those that do not shape the run), and each
    ``identity`` entry (e.g. the data a fit was made on, with its content fingerprint) must equal the
    checkpoint's entry of the same name, on the entries and fields the checkpoint records.
    """
    out = Path(out)
    path = out / CHECKPOINT
    if not path.exists():
        return None
    if not resume:
        raise InputError(f"{out} already holds a run; pass --resume to continue it, --overwrite to replace it, "
                         "or choose a new --out")
    schema = dict(required) if isinstance(required, Mapping) else dict.fromkeys(required, object)
    state = load_checkpoint(path, required={"format": str, "config": dict, **schema})
    check_format(state, format, path, what, "choose a new --out")
    # The hash proves the file intact, not that physode wrote it: a re-hashed edit can hold anything.
    if isinstance(state.get("epoch"), int) and state["epoch"] < 0:
        raise InputError(f"{path} records epoch {state['epoch']}, which no run reaches (it was edited); "
                         "resume from an intact checkpoint or start a new --out")
    stored = state["config"]
    differs = [f"{key}={stored.get(key)!r} (now {value!r})" for key, value in config.items()
               if key not in may_change and _differs(stored.get(key), value)]
    for key, value in (identity or {}).items():
        recorded = state.get(key)
        if recorded is None:  # written before this entry existed
            continue
        if isinstance(recorded, Mapping) and isinstance(value, Mapping):
            # Compare what the checkpoint records: one written before a field existed (say, the
            # data's fingerprint) still resumes, on the fields it has.
            differs += [f"{key}.{name} {recorded[name]} (now {value.get(name)})" for name in recorded
                        if recorded[name] != value.get(name)]
        elif recorded != value:
            differs.append(f"{key} {recorded} (now {value})")
    if differs:
        raise InputError(f"cannot resume {path}: the run used {'; '.join(differs)}; repeat the original "
                         "options and inputs or start a new --out")
    return state


def clear_run(out: str | os.PathLike[str], outputs: Collection[str] = (METRICS,)) -> None:
    """Remove the run in ``out`` (``--overwrite``): its checkpoint, then ``outputs`` (the files its
    trainer writes); the directory's other files stay. Call it holding the run's lock.

    The checkpoint goes first: a removal cut short leaves no run to resume with another's metrics.
    """
    for name in (CHECKPOINT, *outputs):
        with contextlib.suppress(FileNotFoundError):
            os.remove(Path(out) / name)
