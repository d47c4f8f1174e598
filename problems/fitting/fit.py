"""Fit an ODE model (a family of :mod:`.models`) to a 1-D or 2-D trajectory file: given u(t0), predict u at every time.

Works on any file :class:`physode.trajectories.TrajectoryFile` reads (physode format or PDEBench 1D): the
model sees only the field, the times and the grid. Loss: mean squared error over the predicted
times (channels weighted by :func:`.evaluate.channel_weights`); reported on the file's test split
(:mod:`.evaluate`): nRMSE over the predicted times (``test_nrmse``) and PDEBench's metrics
(``test_pdebench``).

Training is deterministic for a given seed: the initial weights come from ``torch.manual_seed``,
the batch order from a seeded generator saved in every checkpoint together with the weights,
Adam's moments, the learning-rate schedule and the global RNGs. A run killed at any point and
resumed from its last checkpoint therefore ends with exactly the metrics of an uninterrupted run.
The phases of a fit (set-up, Adam, polish, summary) are :class:`.trainer.Trainer`'s; this module
checks the data and the run directory and resumes. Adam and the polish stop on a validation split
carved out of the training samples (:mod:`.validation`); the test split is read once the fit is done.

Under ``torchrun`` (gloo on CPU, NCCL on CUDA) each rank reads only its shard of every global batch
through a bounded sample cache (:class:`TrainSplit`: files larger than memory train); Adam's
gradients are averaged by torch's DistributedDataParallel over each rank's loss weighted by its share
times the number of ranks, so N processes take exactly one's steps, also for an uneven last batch
(the L-BFGS polish sums its chunked gradients itself). Rank 0 writes; evaluation splits the test set.

The horizon curriculum and the one-cycle learning rate: :mod:`.schedule`.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from physode.errors import InputError
from physode.io import check_run_dir, file_fingerprint
from physode.problems.fitting.evaluate import EVALUATION, FORMAT, SUMMARY, data_grid
from physode.problems.fitting.fit_config import DTYPES, FitConfig, pushforward_length, window_length
from physode.problems.fitting.samples import carve_validation
from physode.problems.fitting.trainer import Trainer
from physode.resources import check_memory, model_bytes
from physode.trajectories import TrajectoryFile
from physode.training import (METRICS, DistContext, clear_run, close_distributed, init_distributed, rank_zero_lock,
                              resume_state)

# Fields a resumed run may change; everything else must match its checkpoint. The polish's budget and
# patience may: a polish not yet finished runs from its start with those given now, one finished stays. The
# initial weights may: the checkpoint holds the weights since (the file they came from may be gone).
RESUMABLE_CHANGES = ("progress", "cache_mb", "polish", "polish_patience", "initial_weights")
MAX_SOLVER_STEPS = 10**6  # solver steps over all stored intervals; their times are a Python list


def fit(data_path: str | os.PathLike[str], out: str | os.PathLike[str], config: FitConfig = FitConfig(),
        device: str = "auto", resume: bool = False, overwrite: bool = False) -> dict[str, Any]:
    """Fit ``config`` to the file ``data_path``, writing checkpoints and metrics to the run directory ``out``.

    ``resume`` continues the run in ``out`` from its checkpoint (a finished run is only
    re-evaluated); ``overwrite`` replaces it (its checkpoint, metrics and evaluation are removed
    once the data and the model are checked; other files in ``out`` stay). Without either, a run
    in ``out`` is refused. Returns the final summary, also written to ``out/metrics.json``.
    """
    if resume and overwrite:
        raise InputError("--resume continues the run in --out and --overwrite replaces it; pass one")
    out = check_run_dir(out)
    ctx = init_distributed(device)
    try:
        summary = _open_and_fit(data_path, out, config, ctx, resume, overwrite)
        close_distributed(wait=True)
        return summary
    finally:
        close_distributed()


def _open_and_fit(data_path: str | os.PathLike[str], out: Path, config: FitConfig, ctx: DistContext,
                  resume: bool, overwrite: bool) -> dict[str, Any]:
    with TrajectoryFile(data_path) as data:
        _check_data(data, config)
        record = _data_record(data)
        with rank_zero_lock(out, command=f"physode fit {data.path}", outputs=(METRICS, SUMMARY)) as lock:
            if overwrite and lock is not None:  # rank 0 removes the old run; every rank starts a new one
                clear_run(out, (METRICS, SUMMARY, EVALUATION))
            state = None if overwrite else resume_state(
                out, resume=resume, format=FORMAT, what="a 1-D field fit",
                required={"data": dict, "epoch": int, "model": dict, "optimizer": dict, "scheduler": dict,
                          "generator": torch.Tensor, "rng": dict, "elapsed_s": float},
                config=_compared(config), may_change=RESUMABLE_CHANGES, identity={"data": record},
            )
            if ctx.distributed:  # every rank has read the checkpoint before rank 0 writes a new one
                torch.distributed.barrier()
            return Trainer(config, data, record, out, ctx, state).run()


def _check_data(data: TrajectoryFile, config: FitConfig) -> None:
    """A file the fit can train on and be scored on, within the solver's step limit, by a model that fits
    in memory (priced on the meta device before the run directory is touched)."""
    if data.n_times < 2:
        raise InputError(f"{data.path}: a fit needs at least two stored times, the file has {data.n_times}")
    steps = (data.n_times - 1) * config.model.steps_per_interval
    if steps > MAX_SOLVER_STEPS:
        raise InputError(f"{data.n_times - 1} intervals x {config.model.steps_per_interval} steps per interval "
                         f"= {steps} solver steps, more than {MAX_SOLVER_STEPS}; lower --steps-per-interval")
    if config.windows is not None and config.windows > data.n_times - 1:
        raise InputError(f"--windows {config.windows}: the file has {data.n_times - 1} stored intervals; "
                         "a window spans at most all of them")
    lead = pushforward_length(config) - 1  # intervals rolled out before each window
    if lead and lead + window_length(config) > data.n_times - 1:
        raise InputError(f"--pushforward {config.pushforward}: a window of {window_length(config)} stored intervals "
                         f"after {lead} rolled out spans {lead + window_length(config)}, the file has {data.n_times - 1}; "
                         "lower --pushforward or --windows")
    if len(data.test) == 0:
        raise InputError(f"{data.path}: the file has no test samples; write it with a nonzero test fraction")
    _check_observed(data)
    carve_validation(data, config.validation_fraction, config.seed)  # enough training samples to hold some out
    grid = data_grid(data)
    check_memory(4 * model_bytes(lambda: config.model.build(grid, data.n_channels), DTYPES[config.dtype]),
                 "the model's weights, gradients and Adam's moments",
                 "lower --latent, --hidden, --width, --hidden-channels, --modes or --blocks")


def _check_observed(data: TrajectoryFile) -> None:
    """A file with an ``observed`` mask: every training trajectory starts from an observed state and has one
    later, and the test samples, scored on every frame, are fully observed."""
    if data.observed is None:
        return
    train, test = data.observed[data.train], data.observed[data.test]
    fix = "fix the file's `observed` mask (True = observed)"
    if not train[:, 0].all():
        raise InputError(f"{data.path}: training sample {data.train[np.argmin(train[:, 0])]} has its first frame "
                         f"unobserved; a fit starts every trajectory from its observed u(t0): {fix} or drop it")
    if not train[:, 1:].any(axis=1).all():
        raise InputError(f"{data.path}: training sample {data.train[np.argmin(train[:, 1:].any(axis=1))]} has no "
                         f"observed frame after the first, nothing to fit it to: {fix} or drop it")
    if not test.all():
        raise InputError(f"{data.path}: test sample {data.test[np.argmin(test.all(axis=1))]} has unobserved "
                         f"frames; the test split is scored on every frame: {fix} or move it to the training split")


def _data_record(data: TrajectoryFile) -> dict[str, Any]:
    """What identifies the data a run was fit to (checked on resume, used by evaluate and plot)."""
    return {"path": str(data.path.resolve()), "n_samples": data.n_samples, "n_times": data.n_times,
            "n_x": data.n_x, "n_train": len(data.train), "n_test": len(data.test),
            "fingerprint": file_fingerprint(data.path)}


def _compared(config: FitConfig) -> dict[str, Any]:
    """The settings a resume must repeat: the model's only on the fields that shape it."""
    settings = dataclasses.asdict(config)
    settings["model"] = config.model.shaping_settings()
    return settings
