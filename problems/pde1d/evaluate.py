"""Errors of predicted trajectories (PDEBench's nRMSE) and loading / evaluating fitted runs.

A run directory (written by :func:`physode.problems.pde1d.fit.fit`) holds ``checkpoint.pt`` (model
config, grid, weights, optimizer and RNG state, the data file it was fit to), ``metrics.jsonl``
(one record per epoch) and ``metrics.json`` (the final test metrics). The checkpoint alone is
enough to rebuild the model; the data file is only needed to compute errors.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from physode.errors import InputError
from physode.io import TrajectoryFile, atomic_write_text
from physode.problems.pde1d.models import TrajectoryModel, config_from_dict, parameter_count
from physode.problems.pde1d.variants import LABELS
from physode.training import CHECKPOINT, METRICS, check_format, load_checkpoint, resolve_device

FORMAT = "physode.pde1d/1"
SUMMARY = "metrics.json"
EVALUATION = "evaluation.json"


def nrmse(pred: Tensor, true: Tensor) -> Tensor:
    """PDEBench's normalised RMSE over the last (space) axis: ``||pred - true||_2 / ||true||_2``.

    RMS and L2 norms differ by the same ``sqrt(Nx)``, so this is RMSE / RMS(true). Shapes
    ``(..., Nx) -> (...)``; a target that is exactly zero gives ``inf`` (or ``nan`` if the
    prediction is zero too): the relative error is undefined there.
    """
    return torch.linalg.vector_norm(pred - true, dim=-1) / torch.linalg.vector_norm(true, dim=-1)


@torch.no_grad()
def evaluate_model(model: TrajectoryModel, data: TrajectoryFile, indices: np.ndarray,
                   device: torch.device, batch_size: int = 256) -> dict[str, Any]:
    """Roll ``model`` out from ``u(t0)`` of the samples ``indices`` and score every stored time.

    Returns ``nrmse``: nRMSE per sample and time averaged over samples and the predicted times
    ``t[1:]`` (``t[0]`` is the given input, error zero, and would only dilute the average);
    ``final_nrmse``: the same at the last time only; ``rmse``: root mean square error over
    everything predicted; ``nrmse_per_time``: the sample mean at each time, ``t[0]`` included.
    """
    if len(indices) == 0:
        raise InputError(f"{data.path}: no samples to evaluate on (the test split is empty); "
                         "write the file with a nonzero test fraction")
    times = data.t.tolist()
    per_time = torch.zeros(len(times), dtype=torch.float64)
    squared_error = 0.0
    model.eval()
    for block in data.iter_batches(batch_size, indices):
        true = torch.from_numpy(block).to(device)
        pred = model(true[:, 0], times)
        per_time += nrmse(pred, true).double().sum(0).cpu()
        squared_error += (pred - true)[:, 1:].double().square().sum().item()
    per_time /= len(indices)
    n_predicted = len(indices) * (len(times) - 1) * data.n_x
    return {
        "nrmse": per_time[1:].mean().item(),
        "final_nrmse": per_time[-1].item(),
        "rmse": math.sqrt(squared_error / n_predicted),
        "nrmse_per_time": per_time.tolist(),
        "n_samples": len(indices),
    }


def checkpoint_path(run: str | os.PathLike[str]) -> Path:
    """The checkpoint of a run directory, or the file itself if ``run`` is a checkpoint."""
    path = Path(run)
    if path.is_dir():
        return path / CHECKPOINT
    if not path.exists():
        raise InputError(f"{path} does not exist; pass a run directory written by `physode fit` or its "
                         f"{CHECKPOINT}")
    return path


@dataclass
class LoadedRun:
    """A fitted model rebuilt from its checkpoint, with what it was fit to."""

    model: TrajectoryModel
    state: dict[str, Any]
    checkpoint: Path

    @property
    def data_path(self) -> Path:
        return Path(self.state["data"]["path"])

    @property
    def label(self) -> str:
        """The variant name as figures and tables show it, with a non-default layer."""
        config = self.model.config
        name = LABELS[config.variant]
        return name if config.layer == "spectral" else f"{name} ({config.layer})"


def load_run(run: str | os.PathLike[str], device: torch.device | str = "cpu") -> LoadedRun:
    """Rebuild the model of a run directory or checkpoint on ``device``, in eval mode."""
    path = checkpoint_path(run)
    state = load_checkpoint(path, required=("format", "config", "grid", "data", "model"))
    check_format(state, FORMAT, path, "a 1-D field fit", "pass a run directory written by `physode fit`")
    model = TrajectoryModel(config_from_dict(state["config"]["model"]), state["grid"]["n_x"],
                            state["grid"]["dx"])
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as err:
        raise InputError(f"{path} does not fit its own model config ({str(err).splitlines()[0]}); it was "
                         "written by an incompatible version of physode") from None
    return LoadedRun(model.to(device).eval(), state, path)


def check_grid(run: LoadedRun, data: TrajectoryFile) -> None:
    """A model only applies to data on the grid it was built for."""
    grid = run.state["grid"]
    dx = float(np.diff(data.x).mean()) if data.n_x > 1 else float("nan")
    if data.n_x != grid["n_x"] or not math.isclose(dx, grid["dx"], rel_tol=1e-6):
        raise InputError(
            f"{data.path} has {data.n_x} points spaced {dx:.6g} but the model in {run.checkpoint} was "
            f"fit on {grid['n_x']} points spaced {grid['dx']:.6g}; evaluate it on data on the same grid"
        )


def evaluate_run(run: str | os.PathLike[str], data: str | os.PathLike[str] | None = None,
                 device: str = "auto", batch_size: int = 256,
                 out: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Test-split metrics of a fitted run, on its own data file or on ``data``; written to JSON.

    ``out`` defaults to ``evaluation.json`` beside the checkpoint. Returns the record written.
    """
    target = resolve_device(device)
    loaded = load_run(run, target)
    data_path = loaded.data_path if data is None else Path(data)
    with TrajectoryFile(data_path) as file:
        check_grid(loaded, file)
        metrics = evaluate_model(loaded.model, file, file.test, target, batch_size)
    record = {
        "checkpoint": str(loaded.checkpoint), "data": str(data_path),
        "variant": loaded.model.config.variant, "layer": loaded.model.config.layer,
        "params": parameter_count(loaded.model), "epoch": loaded.state.get("epoch"), **metrics,
    }
    destination = loaded.checkpoint.parent / EVALUATION if out is None else Path(out)
    atomic_write_text(destination, json.dumps(record, indent=2) + "\n")
    return record
