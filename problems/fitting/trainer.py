"""The trainer: one fit's phases, read top to bottom in :meth:`Trainer.run`.

1. set-up (:class:`Trainer`'s constructor): the model, the training and validation splits, the
   optimizer and its one-cycle schedule (sized by a time budget if there is one), the batch-order
   generator, the resumed state if any;
2. :meth:`Trainer.train_adam`: epochs of Adam steps, each checked for divergence and validated, with a
   metrics record per epoch and a checkpoint every ``checkpoint_every`` epochs, until every epoch has
   run, the validation error stops falling (:mod:`.validation`) or the time budget is spent; the best
   validated weights go on. A step trains on whole trajectories from u(t0), or with ``windows`` on
   windows from every stored state (an epoch: each window once); validation scores whole trajectories;
3. :meth:`Trainer.polish`: full-batch L-BFGS (:mod:`.polish`) on whole trajectories, cut when the validation
   error stops falling or the time budget Adam left is spent, recorded and checkpointed once;
4. :meth:`Trainer.summarise`: the final test metrics, written to ``metrics.json``. The test split
   is read only then (and for ``eval_every``'s records, which decide nothing).

Every random draw happens in the same order in every run (the weights from ``torch.manual_seed``
first, then the batch order from its own generator), so a resumed run repeats an uninterrupted one.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from physode.trajectories import TrajectoryFile
from physode.problems.fitting.evaluate import FORMAT, SUMMARY, channel_weights, data_grid, evaluate_model, grid_record
from physode.problems.fitting.fit_config import DTYPES, FitConfig, default_polish, initial_model
from physode.problems.fitting.loss import BatchLoss, check_divergence, trajectory_loss
from physode.problems.fitting.models import parameter_count
from physode.problems.fitting.polish import Validation, polish
from physode.problems.fitting.samples import Splits
from physode.problems.fitting.schedule import (BUDGET_WARMUP, BudgetClock, BudgetCycle, horizon, one_cycle,
                                              one_cycle_warmup, patience_from)
from physode.problems.fitting.validation import BestWeights, validation_nrmse
from physode.problems.fitting.windows import WindowPlan, pushed_forward
from physode.training import (CHECKPOINT, METRICS, DistContext, MetricsWriter, all_reduce_sum, data_parallel,
                              progress_bar, read_metrics, restore_training_state, save_checkpoint, training_state,
                              write_json)


class Trainer:
    """One fit of ``config`` to ``data``, writing to the run directory ``out`` (rank 0 only);
    ``state``: the checkpoint it resumes from, or None."""

    def __init__(self, config: FitConfig, data: TrajectoryFile, record: dict[str, Any], out: Path,
                 ctx: DistContext, state: dict[str, Any] | None) -> None:
        self.config, self.data, self.record, self.out, self.ctx = config, data, record, out, ctx
        self.dtype = DTYPES[config.dtype]
        self.grid = grid = data_grid(data)
        torch.manual_seed(config.seed)
        self.model = initial_model(config, grid, data.n_channels, fresh=state is None).to(ctx.device, self.dtype)
        self.replica = data_parallel(self.model, ctx)  # trains; self.model is saved, validated, polished
        splits = Splits.carve(data, config.validation_fraction, config.seed, int(config.cache_mb * 2**20))
        self.split, self.validation = splits.fit, splits.validation
        self.weight = channel_weights(data, self.split.indices).to(ctx.device, self.dtype)
        self.times = data.t.tolist()
        self.plan = plan = WindowPlan.of(config, state, len(self.times) - 1)
        self.steps_per_epoch = (self.split.window_steps(config.batch_size, plan.starts) if plan.windows
                                else math.ceil(len(self.split) / config.batch_size))
        cap = config.epochs * self.steps_per_epoch
        self.optimizer = torch.optim.Adam(config.model.parameter_groups(self.model, config.lr, config.rate_lr))
        self.warmup = one_cycle_warmup(cap) if config.budget_seconds is None else min(BUDGET_WARMUP, cap)
        self.scheduler = (one_cycle(self.optimizer, cap) if config.budget_seconds is None else
                          BudgetCycle(self.optimizer, self.warmup, cap))
        self.clock = None if config.budget_seconds is None else BudgetClock(config.budget_seconds, cap)
        self.generator = torch.Generator().manual_seed(config.seed)
        self.best = None if self.validation is None else BestWeights(self.model, config.patience, config.min_gain)
        if self.best is not None and state is None and config.initial_weights is not None:
            self.best.update(0, self.validate())  # continued weights (a trial's): kept unless an epoch validates better
        self.start, self.elapsed, self.polished, self.adam_stop, self.epoch_s = 0, 0.0, False, None, 0.0
        if state is not None:
            restore_training_state(state, self.model, self.optimizer, self.scheduler, self.generator)
            self.start, self.elapsed = state["epoch"], state["elapsed_s"]
            if self.clock is not None:
                self.clock = BudgetClock(**state["budget_clock"])
            self.polished, self.adam_stop = bool(state.get("polished", False)), state.get("adam_stop")
            if self.best is not None:
                self.best.load_state_dict(state["early_stopping"])
        self.last_saved = self.epochs_run = self.start
        # Records are keyed by step; the polish's one (step total + 1) is kept on resume only if checkpointed after it.
        self.metrics = (MetricsWriter(out / METRICS, keep_through=self.total_steps + 1 if self.polished
                                      else self.start * self.steps_per_epoch, key="step") if ctx.is_main else None)

    def run(self) -> dict[str, Any]:
        """Every phase in turn; returns the final summary."""
        self.train_adam()
        return self.summarise(self.polish())

    def checkpoint(self, epoch: int) -> None:
        """Everything a resume needs, written atomically to the run's checkpoint."""
        save_checkpoint(self.out / CHECKPOINT, {
            "format": FORMAT, "config": dataclasses.asdict(self.config), "data": self.record,
            "grid": grid_record(self.grid, self.data), "windows": self.plan.windows, "pushforward": self.plan.lead + 1,
            "epoch": epoch, "polished": self.polished, "adam_stop": self.adam_stop,
            "budget_clock": None if self.clock is None else dataclasses.asdict(self.clock),
            "validation_indices": [] if self.validation is None else self.validation.indices.tolist(),
            "early_stopping": None if self.best is None else self.best.state_dict(),
            **training_state(self.model, self.optimizer, self.scheduler, self.generator), "elapsed_s": self.elapsed,
        })

    def validate(self) -> float:
        """The model's nRMSE on the validation split (every rank gets the same value)."""
        return validation_nrmse(self.model, self.validation, self.times, self.ctx, self.config.eval_batch_size,
                                self.dtype)

    def evaluate(self) -> dict[str, Any]:
        """The model's metrics on the file's test split (every rank scores its share)."""
        return evaluate_model(self.model, self.data, self.data.test, self.ctx.device, self.config.eval_batch_size,
                              self.ctx)

    # --- Adam -------------------------------------------------------------------------------------

    def train_adam(self) -> None:
        """The epochs not yet done, until the last or until the validation error stops falling (then
        the best validated weights are put back); each one's record is written before its checkpoint (a
        kill in between only repeats the record). The last record says why Adam stopped."""
        config = self.config
        if self.adam_stop is not None:  # a resumed run whose Adam phase is over
            return
        with progress_bar(total=self.total_steps, initial=self.start * self.steps_per_epoch, unit="step",
                          leave=False, desc=f"fit {config.model.variant}",
                          enabled=config.progress and self.ctx.is_main) as bar:
            for epoch in range(self.start + 1, config.epochs + 1):
                entry = self.epoch(epoch, bar)
                self.epochs_run, self.adam_stop = epoch, self.stop_reason(epoch, entry)
                if self.metrics is not None:
                    self.metrics.write(entry)
                    if epoch % config.checkpoint_every == 0 or self.adam_stop is not None:
                        self.checkpoint(epoch)
                        self.last_saved = epoch
                if self.adam_stop is not None:
                    break

    @property
    def total_steps(self) -> int:
        """Adam's steps: ``epochs`` of them, or what a time budget leaves room for once it is fixed."""
        return self.scheduler.total_steps

    def stop_reason(self, epoch: int, entry: dict[str, Any]) -> str | None:
        """``"validation"`` once the validation error has stopped falling, ``"budget"`` once the time
        budget is spent, ``"epochs"`` after the last epoch, else None; when Adam stops, the best
        validated weights are put back and ``entry`` says why and which they were."""
        stop = "budget" if self.clock is not None and self.clock.spent else "epochs" if epoch == self.config.epochs else None
        if self.best is not None:
            self.best.update(epoch, entry["validation_nrmse"])
            counts_from = patience_from(self.warmup, self.total_steps, self.config.curriculum, self.steps_per_epoch)
            if self.best.plateau.exhausted(epoch, not_before=counts_from):
                stop = "validation"
            if stop is not None:
                entry.update(self.best.restore())
        if stop is not None:
            entry["stop"] = stop
        return stop

    def epoch(self, epoch: int, bar: Any) -> dict[str, Any]:
        """One pass over the training split in seeded order; returns the epoch's metrics record."""
        began = time.perf_counter()
        self.model.train()
        loss_sum, count, step = 0.0, 0, (epoch - 1) * self.steps_per_epoch
        for global_size, start, shard, observed in self.batches():
            began_step = time.perf_counter()
            loss = self.batch_loss(global_size, start, shard, observed, step)
            where = f"epoch {epoch}, step {step + 1} (horizon {loss.horizon} of {self.plan.span} intervals)"
            check_divergence(loss, where, self.last_saved, self.out)
            self.descend(loss.shard)
            loss_sum += loss.value * global_size
            count += global_size
            step += 1
            bar.update()
            bar.set_postfix(loss=f"{loss.value:.2e}", horizon=loss.horizon, refresh=False)  # drawn with the next redraw
            if self.clock is not None:  # a budgeted fit: the warm-up sizes the schedule; then stop when it is spent
                now = time.perf_counter()
                spent = self.clock.after_step(step, now - began_step, self.elapsed + now - began, self.scheduler,
                                              None if self.best is None else self.validate)
                bar.total = self.total_steps
                if spent:
                    break
        validation = {} if self.best is None else {"validation_nrmse": self.validate()}  # timed: part of the fit
        self.epoch_s = time.perf_counter() - began
        self.elapsed += self.epoch_s
        entry: dict[str, Any] = {"epoch": epoch, "step": step, "train_loss": loss_sum / count, **validation,
                                 "horizon": loss.horizon, "lr": self.scheduler.get_last_lr()[0],
                                 "time_s": self.elapsed}
        if self.config.eval_every and epoch % self.config.eval_every == 0:
            test = self.evaluate()
            entry.update(test_nrmse=test["nrmse_predicted"], test_final_nrmse=test["final_nrmse"])
        return entry

    def batches(self) -> Iterator[tuple[int, int, torch.Tensor, torch.Tensor | None]]:
        """One epoch's global batches: size, stored time they start from, this rank's shard, its observed frames."""
        if self.plan.windows:
            yield from self.split.window_batches(self.config.batch_size, self.plan.starts, self.generator, self.ctx)
        else:
            for global_size, shard, observed in self.split.batches(self.config.batch_size, self.generator, self.ctx):
                yield global_size, 0, shard, observed

    def batch_loss(self, global_size: int, start: int, shard: torch.Tensor, observed: torch.Tensor | None,
                   step: int) -> BatchLoss:
        """The loss of one global batch of ``global_size`` samples from stored time ``start`` on, of
        which this rank holds ``shard`` (``observed``: which of its frames the loss may see)."""
        config, device = self.config, self.ctx.device
        h = horizon(step, self.total_steps, self.plan.span, config.curriculum)
        shard_scale = torch.zeros((), device=device, dtype=self.dtype)
        if not len(shard):  # none of a short last batch here: adds zero to the loss and the gradients
            shard_loss = self.idle_loss()
        else:
            lead = self.plan.lead  # the pushforward: from the model's own state `lead` intervals on
            end = start + lead + h + 1
            true = shard[:, start:end].to(device, self.dtype)
            seen = None if observed is None else observed[:, start:end].to(device)
            first = pushed_forward(self.model, true[:, 0], self.times[start : start + lead + 1]) if lead else true[:, 0]
            pred = self.replica(first, self.times[start + lead : end])
            # This shard's part of the global batch's loss; summed over ranks, the batch mean.
            shard_loss = trajectory_loss(pred[:, 1:], true[:, lead + 1 :], config.loss, self.weight,
                                         None if seen is None else seen[:, lead + 1 :]) * len(shard) / global_size
            # The batch's weighted mean square (u(t0) and observed frames), the scale divergence is judged by.
            known = true if seen is None else true * seen.reshape(*seen.shape, *[1] * (true.ndim - 2))
            shard_scale = (known.square() * self.weight).sum() / (global_size * true[0].numel())
        value, scale = all_reduce_sum(torch.stack([shard_loss.detach(), shard_scale])).tolist()
        return BatchLoss(shard_loss, value, scale, h)

    def descend(self, shard_loss: torch.Tensor) -> None:
        """One Adam step on the global batch's gradient, and one step of the schedule."""
        self.optimizer.zero_grad(set_to_none=True)
        # DDP averages the ranks' gradients: each rank's share of the batch loss times the world size makes
        # that average the global batch's gradient, also for an uneven last batch (one process: times 1).
        (shard_loss * self.ctx.world_size).backward()
        self.optimizer.step()
        self.scheduler.step()

    def idle_loss(self) -> torch.Tensor:
        """Zero with a graph through every parameter: zero times the first interval's prediction of one
        training sample (a real state: a made-up one could trip the solvers' warnings)."""
        first = self.split.read(np.arange(1))[:, 0].to(self.ctx.device, self.dtype)
        return self.replica(first, self.times[:2]).sum() * 0.0

    # --- polish and summary -----------------------------------------------------------------------

    def polish(self) -> dict[str, Any] | None:
        """L-BFGS after Adam unless a resumed run finished it, stopped on the validation split if there is one and
        within the time budget Adam left (none if no room for one evaluation: about Adam's last epoch, or mean one
        after a resume); returns the polished model's test metrics (None when no polish ran here)."""
        config = self.config
        budget = default_polish(parameter_count(self.model)) if config.polish is None else config.polish
        seconds = None if config.budget_seconds is None else config.budget_seconds - self.elapsed
        evaluation_s = self.epoch_s or self.elapsed / max(1, self.epochs_run)
        if not budget or self.polished or (seconds is not None and seconds < evaluation_s):
            return None
        began = time.perf_counter()
        with progress_bar(total=budget, unit="eval", leave=False, desc=f"polish {config.model.variant}",
                          enabled=config.progress and self.ctx.is_main) as bar:
            def shown(loss: float) -> None:
                bar.update()
                bar.set_postfix(loss=f"{loss:.2e}", refresh=False)
            watch = None if self.best is None else Validation(self.validate, config.polish_patience, config.min_gain)
            result = polish(self.model, self.split, self.times, budget=budget, kind=config.loss, weight=self.weight,
                            ctx=self.ctx, chunk=config.batch_size, dtype=self.dtype, on_evaluation=shown,
                            validation=watch, seconds=seconds)
        self.elapsed += time.perf_counter() - began
        self.polished = True
        test = self.evaluate()
        if self.metrics is not None:
            self.metrics.write({"epoch": self.epochs_run, "step": self.total_steps + 1, "phase": "polish",
                                "train_loss": result.loss_after, "train_loss_before": result.loss_before,
                                "budget": budget, "evaluations": result.evaluations, "restarts": result.restarts,
                                "overflowed": result.overflowed, "stop": result.stop, "time_s": self.elapsed,
                                "validation_nrmse_before": result.validation_before,
                                "validation_nrmse": result.validation_after,
                                "test_nrmse": test["nrmse_predicted"], "test_final_nrmse": test["final_nrmse"]})
            self.checkpoint(self.epochs_run)
        return test

    def summarise(self, test: dict[str, Any] | None) -> dict[str, Any]:
        """Final test metrics of the fitted model (``test``, evaluated here if None), written to
        ``metrics.json`` by rank 0."""
        test = self.evaluate() if test is None else test
        if self.ctx.distributed:  # rank 0's last metrics record is written before anyone reads the history
            torch.distributed.barrier()
        history = read_metrics(self.out / METRICS)
        summary = {
            **self.config.model.describe(), "params": parameter_count(self.model),
            "epochs": self.config.epochs, "epochs_run": self.epochs_run, "test_nrmse": test["nrmse_predicted"],
            "test_final_nrmse": test["final_nrmse"], "test_rmse": test["rmse_predicted"],
            "nrmse_per_time": test["nrmse_per_time"], "test_pdebench": test["pdebench"],
            "train_loss": history[-1]["train_loss"] if history else None,
            "fit_time_s": self.elapsed, "stopped": self.adam_stop, "windows": self.plan.windows,
            "pushforward": self.plan.lead + 1, "data": self.record["path"], "n_test": test["n_samples"],
            "n_validation": 0 if self.best is None else len(self.validation),
            "validation_nrmse": None if self.best is None else self.validate(),
        }
        if self.ctx.is_main:
            write_json(self.out / SUMMARY, summary)
        return summary
