"""Loading and evaluating fitted runs: a model's rollout scored by :mod:`physode.trajectories.metrics`
(nRMSE over the predicted times, and PDEBench's metrics).

A run directory (written by :func:`physode.problems.fitting.fit.fit`) holds ``checkpoint.pt`` (model
config, grid, weights, optimizer and RNG state, the data file it was fit to), ``metrics.jsonl``
(one record per epoch) and ``metrics.json`` (the final test metrics). The checkpoint alone is
enough to rebuild the model; the data file is only needed to compute errors.
"""

from __future__ import annotations

import dataclasses

import contextlib
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from physode.errors import InputError, one_line
from physode.io import check_output
from physode.problems.fitting.fit_config import DTYPES
from physode.problems.fitting.models import Grid, parameter_count, stored_config
from physode.variants import get_variant
from physode.training import (
    CHECKPOINT,
    DistContext,
    RunLock,
    all_reduce_sum,
    check_format,
    load_checkpoint,
    resolve_device,
    write_json,
)
from physode.trajectories import PDEBENCH_HIGH, ErrorSums, PDEBenchMetrics, TrajectoryFile, pdebench_metrics

FORMAT = "physode.pde1d/1"
SUMMARY = "metrics.json"
EVALUATION = "evaluation.json"


def data_grid(data: TrajectoryFile) -> Grid:
    """The grid a model of ``data`` is built on: its spatial axes, periodic unless the file's
    ``boundary_condition`` says Neumann (no-flux) walls; any other condition is refused, not approximated."""
    condition = str(data.attrs.get("boundary_condition", "periodic"))
    if condition != "periodic" and not condition.startswith("neumann"):
        raise InputError(f"{data.path}: boundary condition {condition!r} is not fitted; physode fit models "
                         "periodic fields and fields with no-flux (neumann) walls")
    return Grid.from_space(data.space, data.x_dtype, periodic=condition == "periodic")


def grid_record(grid: Grid, data: TrajectoryFile) -> dict[str, Any]:
    """What a checkpoint keeps of the grid a model was fit on (``n_x``, ``dx``: read by runs of 1-D fields
    from before ``shape``), its channels and times (``t[0]`` is the clock physode.load predicts from)."""
    return {"n_x": data.n_x, "dx": float(np.diff(data.x).mean()), "shape": list(grid.shape),
            "spacing": list(grid.spacing), "periodic": grid.periodic, "channels": list(data.channels),
            "t": data.t.tolist()}


def stored_grid(record: dict[str, Any]) -> Grid:
    """The grid of a checkpoint's :func:`grid_record`."""
    return Grid(tuple(int(n) for n in record.get("shape", [record["n_x"]])),
                tuple(float(d) for d in record.get("spacing", [record["dx"]])), bool(record.get("periodic", True)))


def flat_space(fields: Tensor, data: TrajectoryFile) -> Tensor:
    """Fields ``(..., *space)`` with their spatial axes as one: the metrics reduce over the last axis."""
    return fields.flatten(-len(data.space))


def channel_weights(data: TrajectoryFile, indices: np.ndarray, n_samples: int = 64) -> Tensor:
    """Loss weights of the channels, ``(C, 1, ...)`` (a trailing 1 per spatial axis broadcasts over space): with several
    fields, 1 / each channel's mean square over the (observed frames of the) first ``n_samples`` of ``indices``, so that a
    channel of large magnitude (the wave's u_t ~ c k u) does not drown out the others in the loss
    (as nRMSE scores each against its own norm). One field: weight 1, the plain mean squared error.
    """
    if data.n_channels == 1:
        return torch.ones(1)
    fields = data[indices[:n_samples]]
    # Over the observed frames only (an unobserved frame's value means nothing).
    observed = np.ones(fields.shape[:2], bool) if data.observed is None else data.observed[indices[:n_samples]]
    squares = np.square(fields, dtype=np.float64)[observed]  # (observed frames, C, *space)
    mean_square = squares.mean(axis=(0, *range(2, squares.ndim)))
    weight = torch.from_numpy(np.where(mean_square > 0, 1 / np.maximum(mean_square, 1e-300), 1.0))
    return weight.reshape(-1, *[1] * len(data.space))


@torch.no_grad()
def evaluate_model(model: nn.Module, data: TrajectoryFile, indices: np.ndarray,
                   device: torch.device, batch_size: int = 256, ctx: DistContext | None = None) -> dict[str, Any]:
    """Roll ``model`` out from ``u(t0)`` of the samples ``indices`` and score every stored time.

    Returns ``nrmse_predicted``: nRMSE per sample and time averaged over samples and the predicted
    times ``t[1:]`` only (``t[0]`` is the given input, error zero, and would only dilute the
    average); ``final_nrmse``: the same at the last time only; ``rmse_predicted``: root mean square
    error over everything predicted; ``nrmse_per_time``: the sample mean at each time, ``t[0]``
    included; ``pdebench``: PDEBench's ``metric_func`` errors over every time index, ``t[0]``
    included (:func:`physode.trajectories.pdebench_metrics`), averaged over blocks of
    ``batch_size`` samples as PDEBench's evaluation averages its batches, with fRMSE unscaled
    (``Lx = 1`` as PDEBench's training scripts pass, whatever the domain length); grids under
    ``2 * PDEBENCH_HIGH`` points have no high fRMSE band: those fRMSEs are None. With channels,
    nRMSE is taken per channel (each against its own norm, as PDEBench does) and averaged over
    them; ``nrmse_per_channel`` gives each. Under a process group (``ctx``) each rank scores its
    share of ``indices`` and the sums are combined. A 2-D field is scored over all its points; its
    PDEBench fRMSE and bRMSE (radial bands, the domain's edges) are not computed here: None.
    """
    if len(indices) == 0:
        raise InputError(f"{data.path}: no samples to evaluate on (the test split is empty); "
                         "write the file with a nonzero test fraction")
    times = data.t.tolist()
    sums = ErrorSums.zeros(len(times), data.n_channels, math.prod(data.space_shape), device)
    plane = len(data.space) > 1
    banded = not plane and data.n_x // 2 + 1 > PDEBENCH_HIGH
    pdebench = []
    model.eval()
    shard = indices if ctx is None else np.array_split(indices, ctx.world_size)[ctx.rank]
    for block in data.iter_batches(batch_size, shard):
        true = torch.from_numpy(block).to(device, next(model.parameters()).dtype)
        pred, true = flat_space(model(true[:, 0], times), data), flat_space(true, data)
        sums.add(pred, true)
        # Bands 1, 2 on a small grid only let the other metrics through; its fRMSEs are dropped below.
        bands = {} if banded else {"low": 1, "high": 2}
        with np.errstate(divide="ignore", invalid="ignore"):  # 0 / 0 where a target is all zero: NaN -> null
            pdebench.append(list(vars(pdebench_metrics(pred, true, **bands)).values()))
    errors = sums.combined(all_reduce_sum).errors(len(indices))
    pdebench_mean = _mean_over_ranks(pdebench)
    if not banded:
        pdebench_mean.update(frmse_low=None, frmse_mid=None, frmse_high=None)
    if plane:
        pdebench_mean.update(brmse=None)
    return {
        "nrmse_predicted": errors.nrmse_predicted,
        "final_nrmse": errors.final_nrmse,
        "rmse_predicted": errors.rmse_predicted,
        "nrmse_per_time": errors.nrmse_per_time,
        "nrmse_per_channel": dict(zip(data.channels, errors.nrmse_per_channel)),
        "n_samples": len(indices),
        "pdebench": pdebench_mean,
    }


def _mean_over_ranks(batches: list[list[float]]) -> dict[str, float]:
    """PDEBench's batch values averaged over the batches of every rank (each scored its own)."""
    names = [field.name for field in dataclasses.fields(PDEBenchMetrics)]
    sums = torch.tensor([*np.sum(batches, axis=0), len(batches)] if batches else [0.0] * (len(names) + 1),
                        dtype=torch.float64)
    sums = all_reduce_sum(sums)
    return dict(zip(names, (sums[:-1] / sums[-1]).tolist()))


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

    model: nn.Module
    state: dict[str, Any]
    checkpoint: Path

    @property
    def data_path(self) -> Path:
        return Path(self.state["data"]["path"])

    @property
    def label(self) -> str:
        """The variant name as figures and tables show it, with a non-default model or layer."""
        described = self.model.config.describe()
        name = get_variant(described["variant"]).label
        detail = described.get("layer", described["model"])
        return name if detail == "spectral" else f"{name} ({detail})"


def load_run(run: str | os.PathLike[str], device: torch.device | str = "cpu") -> LoadedRun:
    """Rebuild the model of a run directory or checkpoint on ``device``, in eval mode."""
    path = checkpoint_path(run)
    state = load_checkpoint(path, required={"format": str, "config": dict, "grid": dict, "data": dict,
                                            "model": dict})
    check_format(state, FORMAT, path, "a 1-D field fit", "pass a run directory written by `physode fit`")
    grid = state["grid"]
    try:
        model = stored_config(state["config"]["model"]).build(
            stored_grid(grid), len(grid.get("channels", ["u"])))  # runs from before channels: one field
        model.to(DTYPES[state["config"].get("dtype", "float32")])  # before loading: float64 weights stay exact
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
            f"fit on {grid['n_x']} points spaced {grid['dx']:.6g}; use it on data on the same grid"
        )
    fitted = stored_grid(grid)
    if data.space_shape != fitted.shape or data_grid(data).periodic != fitted.periodic:
        raise InputError(f"{data.path} is a {' x '.join(map(str, data.space_shape))} field but the model in "
                         f"{run.checkpoint} was fit on {' x '.join(map(str, fitted.shape))} points "
                         f"({'periodic' if fitted.periodic else 'walled'}); use it on data on the same grid")
    channels = list(grid.get("channels", ["u"]))
    if list(data.channels) != channels:
        raise InputError(f"{data.path} has channels {list(data.channels)} but the model in {run.checkpoint} "
                         f"was fit to {channels}; use it on data with the same fields")


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
        **loaded.model.config.describe(),
        "params": parameter_count(loaded.model), "epoch": loaded.state.get("epoch"), **metrics,
    }
    return record
