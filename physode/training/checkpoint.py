"""Checkpoints that are written atomically, load safely and resume a run exactly.

A checkpoint is a plain dict of tensors and Python scalars saved with :func:`torch.save` and read
back with ``weights_only=True``, so loading a file never executes code from it. Everything that
decides what a resumed run does next (model, optimizer, scheduler, epoch and every random number
generator) goes into it; :func:`rng_state` / :func:`set_rng_state` capture the RNGs in a form that
``weights_only`` accepts.
"""

from __future__ import annotations

import os
import pickle
import random
import zipfile
from typing import Any

import numpy as np
import torch

from physode.errors import InputError
from physode.io.atomic import atomic_path


def save_checkpoint(path: str | os.PathLike[str], state: dict[str, Any]) -> None:
    """Write ``state`` to ``path`` atomically: a crash mid-write leaves the previous file intact."""
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_checkpoint(
    path: str | os.PathLike[str],
    map_location: str | torch.device = "cpu",
    required: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_checkpoint`.

    Raises :class:`InputError` (one message naming the file and the fix) if the file is missing,
    truncated, corrupt, not a physode checkpoint, or lacks any key in ``required``.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError(f"checkpoint {path} does not exist; pass the checkpoint.pt of a run directory")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except (RuntimeError, EOFError, OSError, zipfile.BadZipFile, pickle.UnpicklingError, ValueError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise InputError(
            f"checkpoint {path} is corrupt or truncated ({reason}); resume from an intact copy or "
            "start a new run"
        ) from err
    if not isinstance(state, dict):
        raise InputError(f"checkpoint {path} holds a {type(state).__name__}, not a physode checkpoint dict")
    missing = [key for key in required if key not in state]
    if missing:
        raise InputError(
            f"checkpoint {path} lacks {', '.join(missing)}; it was not written by this trainer — "
            "use a checkpoint from the same problem"
        )
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
    """Put back what :func:`training_state` captured."""
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    generator.set_state(state["generator"])
    set_rng_state(state["rng"])
