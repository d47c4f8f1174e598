"""Checkpoints that are written atomically, load safely and resume a run exactly.

A checkpoint is a plain dict of tensors and Python scalars saved with :func:`torch.save` and read
back with ``weights_only=True``, so loading a file never executes code from it. A header line
carries the sha256 of the saved bytes, so a corrupted file (a flipped bit, a partial copy) is
refused with one error instead of resuming from altered values. Everything that
decides what a resumed run does next (model, optimizer, scheduler, epoch and every random number
generator) goes into it; :func:`rng_state` / :func:`set_rng_state` capture the RNGs in a form that
``weights_only`` accepts.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import random
import re
import warnings
import zipfile
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from physode.errors import InputError, one_line
from physode.io.atomic import atomic_path

FORMAT_VERSION = 2
_MAGIC = b"physode-checkpoint/"
# The first line of a checkpoint: its format version and the sha256 of (magic + version + payload),
# so a flipped bit anywhere (header or payload) fails the check instead of loading altered values.
_HEADER = re.compile(rb"physode-checkpoint/(\d{1,6}) sha256=([0-9a-f]{64})\n")
_MAX_HEADER_BYTES = 128
_ZIP_MAGIC = b"PK\x03\x04"  # format 1: a bare torch.save file, no hash
_FIX = "resume from an intact copy or start a new run"
Schema = Mapping[str, type | tuple[type, ...]] | Sequence[str]


def _digest(version: bytes, payload: bytes | memoryview) -> str:
    digest = hashlib.sha256(_MAGIC + version)
    digest.update(payload)
    return digest.hexdigest()


def save_checkpoint(path: str | os.PathLike[str], state: dict[str, Any]) -> None:
    """Write ``state`` to ``path`` atomically, with a content hash that :func:`load_checkpoint` checks.

    The file is one header line ``physode-checkpoint/2 sha256=<hex>`` followed by the
    :func:`torch.save` bytes of ``state``. A crash mid-write leaves the previous file intact.
    """
    buffer = io.BytesIO()
    torch.save(state, buffer)
    payload = buffer.getbuffer()
    version = str(FORMAT_VERSION).encode()
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        handle.write(_MAGIC + version + b" sha256=" + _digest(version, payload).encode() + b"\n")
        handle.write(payload)


def _torch_load(source: io.BytesIO, path: str, map_location: str | torch.device) -> Any:
    try:
        return torch.load(source, map_location=map_location, weights_only=True)
    except (RuntimeError, EOFError, OSError, zipfile.BadZipFile, pickle.UnpicklingError, ValueError,
            TypeError, KeyError, AttributeError, IndexError) as err:
        raise InputError(f"checkpoint {path} is corrupt or truncated ({one_line(err)}); {_FIX}") from err


def _read_verified(path: str, map_location: str | torch.device) -> Any:
    """The state saved in ``path`` once its hash is verified (format 2), or as-is (format 1)."""
    try:
        with open(path, "rb") as handle:
            content = handle.read()
    except OSError as err:
        raise InputError(f"cannot read checkpoint {path}: {err.strerror or one_line(err)}") from err
    if content.startswith(_ZIP_MAGIC):
        state = _torch_load(io.BytesIO(content), path, map_location)
        warnings.warn(f"checkpoint {path} is format 1 (no content hash): corruption cannot be detected; "
                      "the next save writes format 2", stacklevel=3)
        return state
    end = content.find(b"\n", 0, _MAX_HEADER_BYTES) + 1
    header = _HEADER.fullmatch(content[:end]) if end else None
    if header is None:
        raise InputError(f"{path} is not a physode checkpoint or its header is corrupt; pass the "
                         "checkpoint.pt of a run directory")
    version, expected = header.groups()
    payload = memoryview(content)[end:]
    if _digest(version, payload) != expected.decode():
        raise InputError(f"checkpoint {path} is corrupt or truncated: its content does not match the "
                         f"sha256 it was saved with; {_FIX}")
    if int(version) != FORMAT_VERSION:
        fix = "upgrade physode" if int(version) > FORMAT_VERSION else "it was not written by physode"
        raise InputError(f"checkpoint {path} has format {int(version)}, which this physode does not read "
                         f"(it reads 1 and {FORMAT_VERSION}); {fix}")
    return _torch_load(io.BytesIO(payload), path, map_location)


def load_checkpoint(
    path: str | os.PathLike[str],
    map_location: str | torch.device = "cpu",
    required: Schema = (),
) -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_checkpoint`, verifying its content hash.

    ``required`` names keys the checkpoint must have, or maps them to the type(s) their values
    must be (e.g. ``{"epoch": int, "model": dict}``). Raises :class:`InputError` (one message
    naming the file and the fix) if the file is missing, truncated, corrupt (any flipped bit), not
    a physode checkpoint, or lacks a required key or has one of the wrong type. Checkpoints
    written before the hash (format 1) still load, with a warning.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError(f"checkpoint {path} does not exist; pass the checkpoint.pt of a run directory")
    state = _read_verified(path, map_location)
    if not isinstance(state, dict):
        raise InputError(f"checkpoint {path} holds a {type(state).__name__}, not a physode checkpoint dict")
    missing = [key for key in required if key not in state]
    if missing:
        raise InputError(
            f"checkpoint {path} lacks {', '.join(missing)}; it was not written by this trainer — "
            "use a checkpoint from the same problem"
        )
    if isinstance(required, Mapping):
        for key, kind in required.items():
            # bool is an int to isinstance, but never a count or an epoch.
            if not isinstance(state[key], kind) or (isinstance(state[key], bool) and kind is int):
                names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
                raise InputError(f"checkpoint {path} has {key} of type {type(state[key]).__name__}, expected "
                                 f"{names}; it was not written by this trainer")
    return state


def rng_state() -> dict[str, Any]:
    """Every global RNG (Python, NumPy, torch CPU and all CUDA devices) as weights_only-safe data."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": {"name": name, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore the RNGs captured by :func:`rng_state` (CUDA only where CUDA is present)."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    np_state = state["numpy"]
    np.random.set_state((np_state["name"], np_state["keys"].numpy().astype(np.uint32), np_state["pos"],
                         np_state["has_gauss"], np_state["cached_gaussian"]))
    torch.set_rng_state(state["torch"].cpu())
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])


def training_state(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    generator: torch.Generator,
) -> dict[str, Any]:
    """Everything exact resume needs besides the loop's own counters, for a checkpoint."""
    return {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "generator": generator.get_state(),
        "rng": rng_state(),
    }


def restore_training_state(
    state: dict[str, Any],
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    generator: torch.Generator,
) -> None:
    """Put back what :func:`training_state` captured.

    Raises :class:`InputError` naming the part that does not fit if ``state`` was written for
    another model or optimizer, or its parts have the wrong structure.
    """
    parts = (
        ("model", lambda: model.load_state_dict(state["model"])),
        ("optimizer", lambda: optimizer.load_state_dict(state["optimizer"])),
        ("scheduler", lambda: scheduler.load_state_dict(state["scheduler"])),
        ("generator", lambda: generator.set_state(state["generator"])),
        ("rng", lambda: set_rng_state(state["rng"])),
    )
    for name, restore in parts:
        try:
            restore()
        except (KeyError, TypeError, ValueError, RuntimeError, IndexError, AttributeError) as err:
            raise InputError(f"the checkpoint's {name} state does not fit this run ({one_line(err)}); resume with "
                             "the options the run was started with, or start a new run") from err
