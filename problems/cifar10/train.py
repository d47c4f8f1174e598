"""Train and evaluate the CIFAR-10 networks: ANODE's recipe, exact resume, data parallel.

One function, :func:`train`, serves a single process and ``torchrun`` alike. Every epoch ends
with a JSON-lines metrics record and an atomically written checkpoint holding everything that
determines the rest of the run (weights, optimizer, scheduler, data generator, global RNGs), so a
killed run resumed with ``resume=True`` produces exactly the metrics of an uninterrupted one.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from physode.errors import InputError, TrainingDiverged, one_line
from physode.io import check_run_dir
from physode.log import LOGGER
from physode.problems.cifar10.config import TrainConfig
from physode.problems.cifar10.data import data_fingerprints, eval_batches, load_cifar10, train_batches
from physode.problems.cifar10.models import build_model
from physode.training import (
    CHECKPOINT,
    DistContext,
    METRICS,
    MetricsWriter,
    all_reduce_sum,
    check_format,
    clear_run,
    close_distributed,
    init_distributed,
    load_checkpoint,
    progress_bar,
    rank_zero_lock,
    resolve_device,
    restore_training_state,
    resume_state,
    save_checkpoint,
    sync_batchnorm,
    training_state,
)

FORMAT = "physode.cifar10/1"
# Fields a resumed run may change; everything else must match the checkpoint.
RESUMABLE_CHANGES = ("epochs", "progress")


def _autocast(device: torch.device, enabled: bool) -> torch.autocast:
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=enabled)


def run_epoch(model: nn.Module, batches: Iterable[tuple[torch.Tensor, torch.Tensor]], ctx: DistContext,
              amp: bool, memory_format: torch.memory_format,
              optimizer: torch.optim.Optimizer | None = None, bar: tqdm | None = None) -> dict[str, float]:
    """Train (given an optimizer) or evaluate over ``batches``; loss/accuracy summed over all ranks.

    Sums stay on the device so nothing synchronises per step; the bar shows images/s.
    """
    totals = torch.zeros(3, device=ctx.device, dtype=torch.float64)  # loss sum, correct, count
    model.train(optimizer is not None)
    with torch.set_grad_enabled(optimizer is not None):
        for images, labels in batches:
            with _autocast(ctx.device, amp):
                logits = model(images.contiguous(memory_format=memory_format))
                loss = F.cross_entropy(logits.float(), labels)
            if optimizer is not None:
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
            n = labels.numel()
            totals += torch.stack([loss.detach().double() * n, (logits.argmax(1) == labels).sum().double(),
                                   totals.new_tensor(n)])
            if bar is not None:
                bar.update(n * ctx.world_size)
    loss_sum, correct, count = all_reduce_sum(totals).tolist()
    return {"loss": loss_sum / count, "acc": correct / count}


def train(config: TrainConfig, data_root: str | os.PathLike[str], out: str | os.PathLike[str],
          device: str = "auto", resume: bool = False, download: bool = False,
          overwrite: bool = False) -> list[dict[str, Any]]:
    """Train ``config`` on the CIFAR-10 in ``data_root``, writing checkpoint and metrics to ``out``.

    Under ``torchrun`` each process trains its shard of every global batch with DDP and
    global-batch BatchNorm, so N processes take the same steps as one. ``resume`` continues from
    ``out``'s checkpoint if there is one; ``overwrite`` replaces the run in ``out`` (its checkpoint
    and metrics). Returns this process's metrics records.
    """
    if resume and overwrite:
        raise InputError("--resume continues the run in --out and --overwrite replaces it; pass one")
    out = check_run_dir(out)
    with rank_zero_lock(out, command="physode train cifar10") as lock:  # one run per directory
        if overwrite and lock is not None:  # rank 0 removes the old run; every rank starts a new one
            clear_run(out)
        state = None if overwrite else resume_state(
            out, resume=resume, format=FORMAT, what="CIFAR-10",
            required={"epoch": int, "model": dict, "optimizer": dict, "scheduler": dict,
                      "generator": torch.Tensor, "rng": dict},
            config=dataclasses.asdict(config), may_change=RESUMABLE_CHANGES,
            identity={"data": data_fingerprints(data_root)},
        )
        ctx = init_distributed(device)
        try:
            result = _train(config, ctx, Path(data_root), out, state, download)
            close_distributed(wait=True)
            return result
        finally:
            close_distributed()


def _train(config: TrainConfig, ctx: DistContext, data_root: Path, out: Path,
           state: dict[str, Any] | None, download: bool) -> list[dict[str, Any]]:
    on_cuda = ctx.device.type == "cuda"
    amp = on_cuda if config.amp is None else config.amp
    memory_format = torch.channels_last if (on_cuda if config.channels_last is None else config.channels_last) \
        else torch.contiguous_format
    if config.deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = not config.deterministic

    if download and ctx.distributed:  # one process downloads, the others wait for it
        if ctx.is_main:
            load_cifar10(data_root, download=True)
        torch.distributed.barrier()
        download = False
    torch.manual_seed(config.seed)
    model = build_model(config.arch, config.variant)  # first: a bad name fails before the data loads
    train_set, test_set = load_cifar10(data_root, download=download)
    data_record = data_fingerprints(data_root) if ctx.is_main else {}  # checked on --resume
    train_set = train_set.head(config.limit_train).to(ctx.device)
    test_set = test_set.head(config.limit_test).to(ctx.device)
    if ctx.distributed:
        model = sync_batchnorm(model, ctx.device)
    model = model.to(ctx.device, memory_format=memory_format)
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                                weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, list(config.milestones), config.gamma)
    generator = torch.Generator(ctx.device).manual_seed(config.seed)
    start = 0
    if state is not None:
        restore_training_state(state, model, optimizer, scheduler, generator)
        start = state["epoch"]
    net = DistributedDataParallel(model, device_ids=[ctx.device] if on_cuda else None) if ctx.distributed else model

    metrics = MetricsWriter(out / METRICS, keep_through=start) if ctx.is_main else None
    records = []
    for epoch in range(start + 1, config.epochs + 1):
        lr = optimizer.param_groups[0]["lr"]
        steps = len(train_set) // config.batch_size
        with progress_bar(total=steps * config.batch_size, unit="img", unit_scale=True, leave=False,
                          desc=f"epoch {epoch}/{config.epochs}", enabled=config.progress and ctx.is_main) as bar:
            began = time.perf_counter()
            batches = train_batches(train_set, config.batch_size, generator, ctx.rank, ctx.world_size,
                                    config.augment)
            fit = run_epoch(net, batches, ctx, amp, memory_format, optimizer, bar)
            seconds = time.perf_counter() - began
        if not math.isfinite(fit["loss"]):  # every rank sees the same reduced loss and stops here
            raise TrainingDiverged(
                f"training diverged: the mean training loss of epoch {epoch} is {fit['loss']}; "
                + (f"the last good checkpoint (epoch {epoch - 1}) in {out} is kept" if epoch > 1
                   else "no checkpoint was written")
                + ". Lower --lr (or raise --batch-size) and start a new --out"
            )
        scheduler.step()
        test = run_epoch(net, eval_batches(test_set, config.eval_batch_size, ctx.rank, ctx.world_size),
                         ctx, amp, memory_format)
        record = {"epoch": epoch, "train_loss": fit["loss"], "train_acc": fit["acc"], "test_loss": test["loss"],
                  "test_acc": test["acc"], "lr": lr, "images_per_s": steps * config.batch_size / seconds,
                  "time_s": time.perf_counter() - began}
        records.append(record)
        if metrics is not None:  # metrics first: a kill in between only repeats this record on resume
            metrics.write(record)
            save_checkpoint(out / CHECKPOINT, {
                "format": FORMAT, "config": dataclasses.asdict(config), "epoch": epoch,
                "data": data_record,
                **training_state(model, optimizer, scheduler, generator),
            })
            # The epoch's summary, with or without --no-progress (which hides only the bars).
            LOGGER.info(f"epoch {epoch}: train loss {fit['loss']:.4f} acc {fit['acc']:.4f} | test loss "
                        f"{test['loss']:.4f} acc {test['acc']:.4f} | {record['images_per_s']:.0f} img/s")
    return records


def load_model(checkpoint: str | os.PathLike[str], device: str | torch.device = "cpu") -> tuple[nn.Module, dict[str, Any]]:
    """The model stored in a training checkpoint, on ``device``, and the whole checkpoint dict
    (``config``, ``epoch``, ...)."""
    state = load_checkpoint(checkpoint, required={"format": str, "config": dict, "model": dict})
    check_format(state, FORMAT, Path(checkpoint), "CIFAR-10", "use a CIFAR-10 run")
    config = state["config"]
    try:
        model = build_model(config["arch"], config["variant"]).to(device)
        model.load_state_dict(state["model"])
    except (RuntimeError, KeyError, TypeError) as err:
        raise InputError(f"{checkpoint} does not fit {config.get('arch')}/{config.get('variant')} ({one_line(err)}); "
                         "it was written by an incompatible version") from err
    return model, state


def evaluate(checkpoint: str | os.PathLike[str], data_root: str | os.PathLike[str], device: str = "auto",
             batch_size: int = 1000, limit_test: int | None = None) -> dict[str, float]:
    """Test loss and accuracy of the model in a training checkpoint (single process)."""
    target = resolve_device(device)
    model = load_model(checkpoint, target)[0]
    test_set = load_cifar10(data_root)[1].head(limit_test).to(target)
    return run_epoch(model, eval_batches(test_set, batch_size), DistContext(0, 1, target),
                     amp=target.type == "cuda", memory_format=torch.contiguous_format)
