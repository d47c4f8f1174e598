"""Errors of predicted trajectories (nRMSE over the predicted times, and PDEBench's metrics) and
loading / evaluating fitted runs.

A run directory (written by :func:`physode.problems.pde1d.fit.fit`) holds ``checkpoint.pt`` (model
config, grid, weights, optimizer and RNG state, the data file it was fit to), ``metrics.jsonl``
(one record per epoch) and ``metrics.json`` (the final test metrics). The checkpoint alone is
enough to rebuild the model; the data file is only needed to compute errors.
"""

from __future__ import annotations

import contextlib
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from physode.errors import InputError, one_line
from physode.io import TrajectoryFile, check_output
from physode.problems.pde1d.model_kinds import AnyModel, describe, rebuild
from physode.problems.pde1d.models import parameter_count
from physode.training import (
    CHECKPOINT,
    METRICS,
    RunLock,
    check_format,
    load_checkpoint,
    resolve_device,
    write_json,
)
from physode.trajectory_metrics import PDEBENCH_HIGH, pdebench_metrics

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
def evaluate_model(model: AnyModel, data: TrajectoryFile, indices: np.ndarray,
                   device: torch.device, batch_size: int = 256) -> dict[str, Any]:
    """Roll ``model`` out from ``u(t0)`` of the samples ``indices`` and score every stored time.

    Returns ``nrmse_predicted``: nRMSE per sample and time averaged over samples and the predicted
    times ``t[1:]`` only (``t[0]`` is the given input, error zero, and would only dilute the
    average); ``final_nrmse``: the same at the last time only; ``rmse_predicted``: root mean square
    error over everything predicted; ``nrmse_per_time``: the sample mean at each time, ``t[0]``
    included; ``pdebench``: PDEBench's ``metric_func`` errors over every time index, ``t[0]``
    included (:func:`physode.trajectory_metrics.pdebench_metrics`), averaged over blocks of
    ``batch_size`` samples as PDEBench's evaluation averages its batches, with fRMSE unscaled
    (``Lx = 1`` as PDEBench's training scripts pass, whatever the domain length). Grids under ``2 * PDEBENCH_HIGH`` points have no high fRMSE band: those fRMSEs
    are None.
    """
    if len(indices) == 0:
        raise InputError(f"{data.path}: no samples to evaluate on (the test split is empty); "
                         "write the file with a nonzero test fraction")
    times = data.t.tolist()
    per_time = torch.zeros(len(times), dtype=torch.float64)
    squared_error = 0.0
    banded = data.n_x // 2 + 1 > PDEBENCH_HIGH
    pdebench = []
    model.eval()
    for block in data.iter_batches(batch_size, indices):
        true = torch.from_numpy(block).to(device)
        pred = model(true[:, 0], times)
        per_time += nrmse(pred, true).double().sum(0).cpu()
        squared_error += (pred - true)[:, 1:].double().square().sum().item()
        # Bands 1, 2 on a small grid only let the other metrics through; its fRMSEs are dropped below.
        bands = {} if banded else {"low": 1, "high": 2}
        pdebench.append(vars(pdebench_metrics(pred, true, **bands)))
    per_time /= len(indices)
    n_predicted = len(indices) * (len(times) - 1) * data.n_x
    pdebench_mean = {key: float(np.mean([m[key] for m in pdebench])) for key in pdebench[0]}
    if not banded:
        pdebench_mean.update(frmse_low=None, frmse_mid=None, frmse_high=None)
    return {
        "nrmse_predicted": per_time[1:].mean().item(),
        "final_nrmse": per_time[-1].item(),
        "rmse_predicted": math.sqrt(squared_error / n_predicted),
        "nrmse_per_time": per_time.tolist(),
        "n_samples": len(indices),
        "pdebench": pdebench_mean,
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

    model: AnyModel
    state: dict[str, Any]
    checkpoint: Path

    @property
    def data_path(self) -> Path:
        return Path(self.state["data"]["path"])

    @property
    def label(self) -> str:
        """The variant name as figures and tables show it, with a non-default model or layer."""
        described = describe(self.model.config)
        name = {"anode": "ANODE", "neuralode": "Neural ODE", "anodev2": "ANODEV2",
                "anodev2-neural": "ANODEV2-neural"}[described["variant"]]
        detail = described.get("layer", described["model"])
        return name if detail == "spectral" else f"{name} ({detail})"


def load_run(run: str | os.PathLike[str], device: torch.device | str = "cpu") -> LoadedRun:
    """Rebuild the model of a run directory or checkpoint on ``device``, in eval mode."""
    path = checkpoint_path(run)
    state = load_checkpoint(path, required={"format": str, "config": dict, "grid": dict, "data": dict,
                                            "model": dict})
    check_format(state, FORMAT, path, "a 1-D field fit", "pass a run directory written by `physode fit`")
    try:
        model = rebuild(state["config"]["model"], int(state["grid"]["n_x"]), float(state["grid"]["dx"]))
        model.load_state_dict(state["model"])
    except (RuntimeError, KeyError, TypeError, ValueError) as err:
        raise InputError(f"{path} does not fit its own model config ({one_line(err, 200)}); it was "
                         "written by an incompatible version of physode") from None
    if not isinstance(state["data"].get("path"), str):
        raise InputError(f"{path} does not record the data file it was fit to; pass a run directory written "
                         "by `physode fit`")
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
                 out: str | os.PathLike[str] | None = None, overwrite: bool = False) -> dict[str, Any]:
    """Test-split metrics of a fitted run, on its own data file or on ``data``; written to strict JSON.

    ``out`` defaults to ``evaluation.json`` beside the checkpoint; an existing ``out`` is replaced
    only with ``overwrite``, and never when it is the checkpoint or the data. Writing into the run
    directory holds its :class:`~physode.training.RunLock`. Returns the record written.
    """
    target = resolve_device(device)
    loaded = load_run(run, target)
    data_path = loaded.data_path if data is None else Path(data)
    run_dir = loaded.checkpoint.parent
    destination = run_dir / EVALUATION if out is None else Path(out)
    check_output(destination, overwrite=overwrite, inputs=[loaded.checkpoint, data_path])
    in_run_dir = destination.resolve().parent == run_dir.resolve()
    with RunLock(run_dir, command="physode evaluate pde1d") if in_run_dir else contextlib.nullcontext():
        record = _evaluate_loaded(loaded, data_path, target, batch_size)
        write_json(destination, record)
    return record


def _evaluate_loaded(loaded: LoadedRun, data_path: Path, target: torch.device, batch_size: int) -> dict[str, Any]:
    with TrajectoryFile(data_path) as file:
        check_grid(loaded, file)
        metrics = evaluate_model(loaded.model, file, file.test, target, batch_size)
    record = {
        "checkpoint": str(loaded.checkpoint), "data": str(data_path),
        **describe(loaded.model.config),
        "params": parameter_count(loaded.model), "epoch": loaded.state.get("epoch"), **metrics,
    }
    return record
