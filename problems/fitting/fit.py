"""Fit an ODE model (:mod:`.model_kinds`) to a 1-D periodic trajectory file: given u(t0), predict u at every time.

Works on any file :class:`physode.io.TrajectoryFile` reads (physode format or PDEBench 1D): the
model sees only the field, the times and the grid. Loss: mean squared error over the predicted
times (channels weighted by :func:`.evaluate.channel_weights`); reported on the file's test split
(:mod:`.evaluate`): nRMSE over the predicted times (``test_nrmse``) and PDEBench's metrics
(``test_pdebench``).

Training is deterministic for a given seed: the initial weights come from ``torch.manual_seed``,
the batch order from a seeded generator saved in every checkpoint together with the weights,
Adam's moments, the learning-rate schedule and the global RNGs. A run killed at any point and
resumed from its last checkpoint therefore ends with exactly the metrics of an uninterrupted run.

Under ``torchrun`` (gloo on CPU, NCCL on CUDA) each rank reads only its shard of every global batch
through a bounded sample cache (:class:`TrainSplit`: files larger than memory train); gradients are
summed with each rank's loss weighted by its share, so N processes take exactly one's steps, also
for an uneven last batch (hence not DDP's mean). Rank 0 writes; evaluation splits the test set.

Horizon curriculum: the error of a wrongly rotated Fourier mode is smallest when the mode is
damped away, so a model fit to whole trajectories from the start falls into "predict zero" for
every mode whose phase is more than a quarter turn off. Training first on the earliest stored
interval and lengthening the horizon geometrically (``ceil(N ** (s / S))`` of ``N`` intervals at
step ``s`` of the ``S = curriculum * total`` curriculum steps) keeps each extension within reach
of what has already been learned.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from physode.errors import InputError, TrainingDiverged
from physode.io import TrajectoryFile, check_run_dir, file_fingerprint
from physode.problems.fitting.evaluate import DTYPES, FORMAT, SUMMARY, channel_weights, evaluate_model
from physode.problems.fitting.fit_config import FitConfig, default_polish
from physode.problems.fitting.model_kinds import AnyModel, build_for_grid, describe, parameter_groups, shaping_settings
from physode.problems.fitting.models import ModelConfig, parameter_count
from physode.problems.fitting.loss import trajectory_loss
from physode.problems.fitting.polish import polish
from physode.problems.fitting.samples import TrainSplit
from physode.training import (
    CHECKPOINT,
    METRICS,
    DistContext,
    MetricsWriter,
    all_reduce_gradients,
    all_reduce_sum,
    close_distributed,
    init_distributed,
    progress_bar,
    rank_zero_lock,
    read_metrics,
    restore_training_state,
    resume_state,
    save_checkpoint,
    training_state,
    write_json,
)

# Fields a resumed run may change; everything else must match its checkpoint. The polish budget may:
# a polish not yet finished runs from its start with the budget given now, one finished stays.
RESUMABLE_CHANGES = ("progress", "cache_mb", "polish")
# Learning-rate warm-up (fraction of the steps): short, because the curriculum's first, shortest
# horizons must be learned before the horizon grows (a long warm-up leaves them under-fit).
WARMUP = 0.05
# A loss this many times the batch's mean square (u(t0) included, so decaying data do not trip it)
# means the fit diverged: predicting zero scores below 1 and predicting u(t0) a few times the number
# of intervals; the curriculum raises the loss as the horizon grows, but never anywhere near this.
DIVERGENCE_FACTOR = 1e4
MAX_SOLVER_STEPS = 10**6  # solver steps over all stored intervals; their times are a Python list


def horizon(step: int, total_steps: int, n_intervals: int, curriculum: float) -> int:
    """Stored intervals trained on at ``step``: geometric growth from 1 to ``n_intervals``."""
    ramp = curriculum * total_steps
    if step >= ramp:
        return n_intervals
    return min(n_intervals, max(1, math.ceil(n_intervals ** (step / ramp))))


def _data_record(data: TrajectoryFile) -> dict[str, Any]:
    """What identifies the data a run was fit to (checked on resume, used by evaluate and plot)."""
    return {"path": str(data.path.resolve()), "n_samples": data.n_samples, "n_times": data.n_times,
            "n_x": data.n_x, "n_train": len(data.train), "n_test": len(data.test),
            "fingerprint": file_fingerprint(data.path)}


def fit(data_path: str | os.PathLike[str], out: str | os.PathLike[str], config: FitConfig = FitConfig(),
        device: str = "auto", resume: bool = False) -> dict[str, Any]:
    """Fit ``config`` to the file ``data_path``, writing checkpoints and metrics to the run directory ``out``.

    ``resume`` continues the run in ``out`` from its checkpoint (a finished run is only
    re-evaluated). Returns the final summary, also written to ``out/metrics.json``.
    """
    out = check_run_dir(out)
    ctx = init_distributed(device)
    try:
        return _open_and_fit(data_path, out, config, ctx, resume)
    finally:
        close_distributed()


def _compared(config: FitConfig) -> dict[str, Any]:
    """The settings a resume must repeat: the linear model's on the fields that shape it."""
    settings = dataclasses.asdict(config)
    if isinstance(config.model, ModelConfig):
        settings["model"] = shaping_settings(config.model)
    return settings


def _open_and_fit(data_path: str | os.PathLike[str], out: Path, config: FitConfig, ctx: DistContext,
                  resume: bool) -> dict[str, Any]:
    with TrajectoryFile(data_path) as data:
        if data.n_times < 2:
            raise InputError(f"{data.path}: a fit needs at least two stored times, the file has {data.n_times}")
        steps = (data.n_times - 1) * config.model.steps_per_interval
        if steps > MAX_SOLVER_STEPS:
            raise InputError(f"{data.n_times - 1} intervals x {config.model.steps_per_interval} steps per interval "
                             f"= {steps} solver steps, more than {MAX_SOLVER_STEPS}; lower --steps-per-interval")
        if len(data.test) == 0:
            raise InputError(f"{data.path}: the file has no test samples; write it with a nonzero test fraction")
        record = _data_record(data)
        with rank_zero_lock(out, command=f"physode fit {data.path}"):
            state = resume_state(
                out, resume=resume, format=FORMAT, what="a 1-D field fit",
                required={"data": dict, "epoch": int, "model": dict, "optimizer": dict, "scheduler": dict,
                          "generator": torch.Tensor, "rng": dict, "elapsed_s": float},
                config=_compared(config), may_change=RESUMABLE_CHANGES, identity={"data": record},
            )
            if ctx.distributed:  # every rank has read the checkpoint before rank 0 writes a new one
                torch.distributed.barrier()
            return _fit(config, data, record, out, ctx, state)


def _fit(config: FitConfig, data: TrajectoryFile, record: dict[str, Any], out: Path, ctx: DistContext,
         state: dict[str, Any] | None) -> dict[str, Any]:
    device = ctx.device
    torch.manual_seed(config.seed)
    model = build_for_grid(config.model, data.x, data.n_channels).to(device, DTYPES[config.dtype])
    train_split = TrainSplit(data, int(config.cache_mb * 2**20))
    weight = channel_weights(data, train_split.indices).to(device, DTYPES[config.dtype])
    times = data.t.tolist()
    n_intervals = len(times) - 1
    steps_per_epoch = math.ceil(len(train_split) / config.batch_size)
    total_steps = config.epochs * steps_per_epoch
    optimizer = torch.optim.Adam(parameter_groups(model, config.lr, config.rate_lr))
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=[g["lr"] for g in optimizer.param_groups],
                                                    total_steps=total_steps, pct_start=WARMUP)
    generator = torch.Generator().manual_seed(config.seed)
    start, elapsed, polished = 0, 0.0, False
    if state is not None:
        restore_training_state(state, model, optimizer, scheduler, generator)
        start, elapsed, polished = state["epoch"], state["elapsed_s"], bool(state.get("polished", False))

    def save(epoch: int) -> None:
        save_checkpoint(out / CHECKPOINT, {
            "format": FORMAT, "config": dataclasses.asdict(config), "data": record,
            "grid": {"n_x": data.n_x, "dx": float(np.diff(data.x).mean()), "channels": list(data.channels)},
            "epoch": epoch, "polished": polished,
            **training_state(model, optimizer, scheduler, generator), "elapsed_s": elapsed,
        })

    # Records are keyed by optimizer step; the polish's one record (step total + 1) is kept on resume
    # only if the checkpoint was written after it.
    metrics = (MetricsWriter(out / METRICS, keep_through=start * steps_per_epoch + polished, key="step")
               if ctx.is_main else None)
    last_saved = start
    with progress_bar(total=total_steps, initial=start * steps_per_epoch, unit="step", leave=False,
                      desc=f"fit {config.model.variant}", enabled=config.progress and ctx.is_main) as bar:
        for epoch in range(start + 1, config.epochs + 1):
            began = time.perf_counter()
            model.train()
            loss_sum, count = 0.0, 0
            step = (epoch - 1) * steps_per_epoch
            for global_size, shard in train_split.batches(config.batch_size, generator, ctx):
                h = horizon(step, total_steps, n_intervals, config.curriculum)
                # A rank may get none of a short last batch: it adds zero to the loss and the gradients.
                shard_loss = torch.zeros((), device=device, dtype=DTYPES[config.dtype])
                shard_scale = torch.zeros((), device=device, dtype=DTYPES[config.dtype])
                if len(shard):
                    true = shard[:, : h + 1].to(device, DTYPES[config.dtype])
                    pred = model(true[:, 0], times[: h + 1])
                    # This shard's part of the global batch's loss; summed over ranks, the batch mean.
                    shard_loss = trajectory_loss(pred[:, 1:], true[:, 1:], config.loss, weight) * len(shard) / global_size
                    # The batch's weighted mean square (u(t0) included), the scale divergence is judged by.
                    shard_scale = (true.square() * weight).sum() / (global_size * true[0].numel())
                loss_value, scale = all_reduce_sum(torch.stack([shard_loss.detach(), shard_scale])).tolist()
                if not math.isfinite(loss_value) or loss_value > DIVERGENCE_FACTOR * scale > 0:
                    kept = (f"the last good checkpoint (epoch {last_saved}) in {out} is kept" if last_saved
                            else "no checkpoint was written yet")
                    ratio = f" ({loss_value / scale:.3g} x the data's mean square)" if scale > 0 else ""
                    raise TrainingDiverged(
                        f"training diverged: the loss is {loss_value:.3g}{ratio} at epoch {epoch}, step {step + 1} "
                        f"(horizon {h} of {n_intervals} intervals); {kept}. Check the data's scale, lower "
                        "--lr or raise --steps-per-interval, then start a new --out"
                    )
                optimizer.zero_grad(set_to_none=True)
                if shard_loss.requires_grad:
                    shard_loss.backward()
                if ctx.distributed:
                    all_reduce_gradients(model)
                optimizer.step()
                scheduler.step()
                loss_sum += loss_value * global_size
                count += global_size
                step += 1
                bar.update()
                bar.set_postfix(loss=f"{loss_value:.2e}", horizon=h, refresh=False)  # drawn with the next redraw
            elapsed += time.perf_counter() - began
            entry: dict[str, Any] = {"epoch": epoch, "step": step, "train_loss": loss_sum / count,
                                     "horizon": h, "lr": scheduler.get_last_lr()[0], "time_s": elapsed}
            if config.eval_every and epoch % config.eval_every == 0:
                test = evaluate_model(model, data, data.test, device, config.eval_batch_size, ctx)
                entry.update(test_nrmse=test["nrmse_predicted"], test_final_nrmse=test["final_nrmse"])
            if metrics is None:
                continue
            metrics.write(entry)  # before the checkpoint: a kill in between only repeats this record
            if epoch % config.checkpoint_every == 0 or epoch == config.epochs:
                save(epoch)
                last_saved = epoch
    test = None  # the final model's test metrics, once computed
    budget = default_polish(parameter_count(model)) if config.polish is None else config.polish
    if budget and not polished:
        began = time.perf_counter()
        with progress_bar(total=budget, unit="eval", leave=False, desc=f"polish {config.model.variant}",
                          enabled=config.progress and ctx.is_main) as bar:
            def shown(loss: float) -> None:
                bar.update()
                bar.set_postfix(loss=f"{loss:.2e}", refresh=False)
            result = polish(model, train_split, times, budget=budget, kind=config.loss, weight=weight,
                            ctx=ctx, chunk=config.batch_size, dtype=DTYPES[config.dtype], on_evaluation=shown)
        elapsed += time.perf_counter() - began
        polished = True
        test = evaluate_model(model, data, data.test, device, config.eval_batch_size, ctx)
        if metrics is not None:
            metrics.write({"epoch": config.epochs, "step": total_steps + 1, "phase": "polish",
                           "train_loss": result.loss_after, "train_loss_before": result.loss_before,
                           "budget": budget, "evaluations": result.evaluations, "restarts": result.restarts,
                           "overflowed": result.overflowed, "time_s": elapsed,
                           "test_nrmse": test["nrmse_predicted"], "test_final_nrmse": test["final_nrmse"]})
            save(config.epochs)
    return _summarise(model, config, data, record, out, ctx, elapsed, test)


def _summarise(model: AnyModel, config: FitConfig, data: TrajectoryFile, record: dict[str, Any],
               out: Path, ctx: DistContext, elapsed: float, test: dict[str, Any] | None) -> dict[str, Any]:
    """Final test metrics of the fitted model (``test``, evaluated here if None), written to
    ``out/metrics.json`` by rank 0."""
    if test is None:
        test = evaluate_model(model, data, data.test, ctx.device, config.eval_batch_size, ctx)
    if ctx.distributed:  # rank 0's last metrics record is written before anyone reads the history
        torch.distributed.barrier()
    history = read_metrics(out / METRICS)
    summary = {
        **describe(config.model), "params": parameter_count(model),
        "epochs": config.epochs, "test_nrmse": test["nrmse_predicted"], "test_final_nrmse": test["final_nrmse"],
        "test_rmse": test["rmse_predicted"], "nrmse_per_time": test["nrmse_per_time"],
        "test_pdebench": test["pdebench"],
        "train_loss": history[-1]["train_loss"] if history else None,
        "fit_time_s": elapsed, "data": record["path"], "n_test": test["n_samples"],
    }
    if ctx.is_main:
        write_json(out / SUMMARY, summary)
    return summary

