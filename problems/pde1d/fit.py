"""Fit a single-layer ODE model to a 1-D periodic trajectory file: given u(t0), predict u at every time.

Works on any file :class:`physode.io.TrajectoryFile` reads (physode format or PDEBench 1D): the
model sees only the field, the times and the grid. Loss: mean squared error over the predicted
times; reported: PDEBench's nRMSE on the file's test split (:mod:`.evaluate`).

Training is deterministic for a given seed: the initial weights come from ``torch.manual_seed``,
the batch order from a seeded generator saved in every checkpoint together with the weights,
Adam's moments, the learning-rate schedule and the global RNGs. A run killed at any point and
resumed from its last checkpoint therefore ends with exactly the metrics of an uninterrupted run.

Horizon curriculum: the error of a wrongly rotated Fourier mode is smallest when the mode is
damped away, so a model fit to whole trajectories from the start falls into "predict zero" for
every mode whose phase is more than a quarter turn off. Training first on the earliest stored
interval and lengthening the horizon geometrically (``ceil(N ** (s / S))`` of ``N`` intervals at
step ``s`` of the ``S = curriculum * total`` curriculum steps) keeps each extension within reach
of what has already been learned.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from physode.errors import InputError
from physode.io import TrajectoryFile, atomic_write_text
from physode.problems.pde1d.evaluate import FORMAT, SUMMARY, evaluate_model
from physode.problems.pde1d.models import ModelConfig, TrajectoryModel, build_model, parameter_count
from physode.training import (
    CHECKPOINT,
    METRICS,
    MetricsWriter,
    progress_bar,
    read_metrics,
    resolve_device,
    restore_training_state,
    resume_state,
    save_checkpoint,
    training_state,
)

# Fields a resumed run may change; everything else must match its checkpoint.
RESUMABLE_CHANGES = ("progress",)
CACHE_LIMIT_BYTES = 256 * 2**20  # a train split up to this size is read once and kept in memory
# Learning-rate warm-up (fraction of the steps): short, because the curriculum's first, shortest
# horizons must be learned before the horizon grows (a long warm-up leaves them under-fit).
WARMUP = 0.05
LOSSES = ("mse", "relative")


def trajectory_loss(pred: torch.Tensor, true: torch.Tensor, kind: str) -> torch.Tensor:
    """Training loss over ``(batch, times, ...)`` predicted states.

    ``relative`` divides each state's squared error by the true state's squared norm, the square of
    the nRMSE the fit is scored on. On decaying data (diffusion) plain MSE all but ignores the late,
    small states, so the late-time dynamics (a growing nu(t)) go unlearned while nRMSE weighs them
    as much as the early ones.
    """
    error = (pred - true).square()
    if kind == "mse":
        return error.mean()
    dims = tuple(range(2, pred.ndim))
    return (error.sum(dims) / true.square().sum(dims).clamp_min(1e-12)).mean()


class TrainingDiverged(InputError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


@dataclass(frozen=True)
class FitConfig:
    """A fitting run. The defaults fit the quickstart / benchmark transport data in 15-40 s on one core."""

    model: ModelConfig = field(default_factory=ModelConfig)
    epochs: int = 60
    batch_size: int = 16
    lr: float = 0.03
    curriculum: float = 0.7  # fraction of all steps over which the horizon grows to every interval
    evolution_lr: float | None = None  # peak learning rate of ANODEV2's evolution rates (None: lr)
    loss: str = "mse"  # "mse", or "relative": squared error / squared norm of the true state, per time
    seed: int = 0
    checkpoint_every: int = 5  # epochs
    eval_every: int = 10  # epochs between test-metric records in metrics.jsonl (0: only at the end)
    eval_batch_size: int = 256
    progress: bool = True

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "checkpoint_every", "eval_batch_size"):
            if getattr(self, name) < 1:
                raise InputError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(self, name)}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise InputError(f"--lr must be positive, got {self.lr}")
        if not 0.0 <= self.curriculum < 1.0:
            raise InputError(f"--curriculum must be in [0, 1) (a fraction of the steps), got {self.curriculum}")
        if self.evolution_lr is not None and not (math.isfinite(self.evolution_lr) and self.evolution_lr > 0):
            raise InputError(f"--evolution-lr must be positive, got {self.evolution_lr}")
        if self.loss not in LOSSES:
            raise InputError(f"--loss must be one of {', '.join(LOSSES)}, got {self.loss!r}")
        if self.eval_every < 0:
            raise InputError(f"--eval-every must be >= 0, got {self.eval_every}")


def horizon(step: int, total_steps: int, n_intervals: int, curriculum: float) -> int:
    """Stored intervals trained on at ``step``: geometric growth from 1 to ``n_intervals``."""
    ramp = curriculum * total_steps
    if step >= ramp:
        return n_intervals
    return min(n_intervals, max(1, math.ceil(n_intervals ** (step / ramp))))


def parameter_groups(model: TrajectoryModel, config: FitConfig) -> list[dict[str, Any]]:
    """The layer's weights at ``lr``; the evolution operator's rates at ``evolution_lr``.

    An evolution rate (ANODEV2's reaction ``rho``, e.g. the 1.5 of ``nu0 exp(1.5 t)``) is of order
    one while a layer weight may be 0.01 (a small diffusivity in velocity units). One learning
    rate cannot serve both within a few hundred steps: sized for the weights, the rate cannot travel
    its distance (Adam moves a parameter by at most about the summed learning rates), and the fit
    settles in the valley where larger static weights mimic a smaller growth.
    """
    rates = [p for name, p in model.named_parameters() if name.startswith("block.operators.")]
    weights = [p for name, p in model.named_parameters() if not name.startswith("block.operators.")]
    if config.evolution_lr is None or not rates:
        return [{"params": weights + rates, "lr": config.lr}]
    return [{"params": weights, "lr": config.lr}, {"params": rates, "lr": config.evolution_lr}]


class TrainSplit:
    """The training samples of a file, in memory when small, otherwise read batch by batch."""

    def __init__(self, data: TrajectoryFile, cache_limit_bytes: int = CACHE_LIMIT_BYTES) -> None:
        self.data = data
        self.indices = data.train
        if len(self.indices) == 0:
            raise InputError(f"{data.path}: the file has no training samples (all are marked test)")
        size = len(self.indices) * data.n_times * data.n_x * 4
        self.cache = data.batch(self.indices) if size <= cache_limit_bytes else None

    def __len__(self) -> int:
        return len(self.indices)

    def batches(self, batch_size: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
        """Shuffled batches (float32, CPU); the order depends only on ``generator``."""
        order = torch.randperm(len(self), generator=generator).numpy()
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            yield self.cache[chosen] if self.cache is not None else self.data.batch(self.indices[chosen])


def _data_record(data: TrajectoryFile) -> dict[str, Any]:
    """What identifies the data a run was fit to (checked on resume, used by evaluate and plot)."""
    return {"path": str(data.path.resolve()), "n_samples": data.n_samples, "n_times": data.n_times,
            "n_x": data.n_x, "n_train": len(data.train), "n_test": len(data.test)}


def fit(data_path: str | os.PathLike[str], out: str | os.PathLike[str], config: FitConfig = FitConfig(),
        device: str = "auto", resume: bool = False) -> dict[str, Any]:
    """Fit ``config`` to the file ``data_path``, writing checkpoints and metrics to the run directory ``out``.

    ``resume`` continues the run in ``out`` from its checkpoint (a finished run is only
    re-evaluated). Returns the final summary, also written to ``out/metrics.json``.
    """
    out = Path(out)
    target = resolve_device(device)
    with TrajectoryFile(data_path) as data:
        if data.n_times < 2:
            raise InputError(f"{data.path}: a fit needs at least two stored times, the file has {data.n_times}")
        record = _data_record(data)
        state = resume_state(
            out, resume=resume, format=FORMAT, what="a 1-D field fit",
            required=("data", "epoch", "model", "optimizer", "scheduler", "generator", "rng"),
            config=dataclasses.asdict(config), may_change=RESUMABLE_CHANGES, identity={"data": record},
        )
        if len(data.test) == 0:
            raise InputError(f"{data.path}: the file has no test samples; write it with a nonzero test fraction")
        return _fit(config, data, record, out, target, state)


def _fit(config: FitConfig, data: TrajectoryFile, record: dict[str, Any], out: Path, device: torch.device,
         state: dict[str, Any] | None) -> dict[str, Any]:
    torch.manual_seed(config.seed)
    model = build_model(config.model, data.x).to(device)
    train_split = TrainSplit(data)
    times = data.t.tolist()
    n_intervals = len(times) - 1
    steps_per_epoch = math.ceil(len(train_split) / config.batch_size)
    total_steps = config.epochs * steps_per_epoch
    groups = parameter_groups(model, config)
    optimizer = torch.optim.Adam(groups)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=[g["lr"] for g in groups],
                                                    total_steps=total_steps, pct_start=WARMUP)
    generator = torch.Generator().manual_seed(config.seed)
    start, elapsed = 0, 0.0
    if state is not None:
        restore_training_state(state, model, optimizer, scheduler, generator)
        start, elapsed = state["epoch"], state["elapsed_s"]

    def save(epoch: int) -> None:
        save_checkpoint(out / CHECKPOINT, {
            "format": FORMAT, "config": dataclasses.asdict(config), "data": record,
            "grid": {"n_x": data.n_x, "dx": float(np.diff(data.x).mean())}, "epoch": epoch,
            **training_state(model, optimizer, scheduler, generator), "elapsed_s": elapsed,
        })

    metrics = MetricsWriter(out / METRICS, keep_through=start)
    last_saved = start
    with progress_bar(total=total_steps, initial=start * steps_per_epoch, unit="step", leave=False,
                      desc=f"fit {config.model.variant}", enabled=config.progress) as bar:
        for epoch in range(start + 1, config.epochs + 1):
            began = time.perf_counter()
            model.train()
            loss_sum, count = 0.0, 0
            step = (epoch - 1) * steps_per_epoch
            for batch in train_split.batches(config.batch_size, generator):
                h = horizon(step, total_steps, n_intervals, config.curriculum)
                true = batch[:, : h + 1].to(device)
                pred = model(true[:, 0], times[: h + 1])
                loss = trajectory_loss(pred[:, 1:], true[:, 1:], config.loss)
                if not torch.isfinite(loss):
                    kept = (f"the last good checkpoint (epoch {last_saved}) in {out} is kept" if last_saved
                            else "no checkpoint was written yet")
                    raise TrainingDiverged(
                        f"training diverged: the loss is {loss.item()} at epoch {epoch}, step {step + 1} "
                        f"(horizon {h} of {n_intervals} intervals); {kept}. Check the data's scale, lower "
                        "--lr or raise --steps-per-interval, then start a new --out"
                    )
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                scheduler.step()
                loss_sum += loss.item() * len(batch)
                count += len(batch)
                step += 1
                bar.update()
                bar.set_postfix(loss=f"{loss.item():.2e}", horizon=h, refresh=False)  # drawn with the next redraw
            elapsed += time.perf_counter() - began
            entry: dict[str, Any] = {"epoch": epoch, "step": step, "train_loss": loss_sum / count,
                                     "horizon": h, "lr": scheduler.get_last_lr()[0], "time_s": elapsed}
            if config.eval_every and epoch % config.eval_every == 0:
                test = evaluate_model(model, data, data.test, device, config.eval_batch_size)
                entry.update(test_nrmse=test["nrmse"], test_final_nrmse=test["final_nrmse"])
            metrics.write(entry)  # before the checkpoint: a kill in between only repeats this record
            if epoch % config.checkpoint_every == 0 or epoch == config.epochs:
                save(epoch)
                last_saved = epoch
    return _summarise(model, config, data, record, out, device, elapsed)


def _summarise(model: TrajectoryModel, config: FitConfig, data: TrajectoryFile, record: dict[str, Any],
               out: Path, device: torch.device, elapsed: float) -> dict[str, Any]:
    """Final test metrics of the fitted model, written to ``out/metrics.json``."""
    test = evaluate_model(model, data, data.test, device, config.eval_batch_size)
    history = read_metrics(out / METRICS)
    summary = {
        "variant": config.model.variant, "layer": config.model.layer, "params": parameter_count(model),
        "epochs": config.epochs, "test_nrmse": test["nrmse"], "test_final_nrmse": test["final_nrmse"],
        "test_rmse": test["rmse"], "nrmse_per_time": test["nrmse_per_time"],
        "train_loss": history[-1]["train_loss"] if history else None,
        "fit_time_s": elapsed, "data": record["path"], "n_test": test["n_samples"],
    }
    atomic_write_text(out / SUMMARY, json.dumps(summary, indent=2) + "\n")
    return summary

