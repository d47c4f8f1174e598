"""How the FNO peers train, the same for each, as FNO's users train it.

- Adam, lr 1e-3, weight decay 1e-4: PDEBench's FNO baselines (``pdebench/models/config/args/*.yaml``;
  NOTES.md section 7); neuraloperator's Darcy example also uses Adam with weight decay 1e-4.
- The loss: the relative L2 error per sample, channel and time (neuraloperator's ``LpLoss(p=2)``, the
  loss its examples train with), which is also what the benchmarks score (nRMSE).
- The learning rate halves when the validation error stalls for ``lr_patience`` epochs
  (``ReduceLROnPlateau``, one of neuraloperator's configured schedulers): the epoch count is not
  known in advance when a fit stops on validation, so a schedule over a fixed length does not apply.
- Early stopping: the fit stops once ``patience`` epochs bring no gain of ``min_gain`` (relative) in
  the validation nRMSE, at the latest after ``epoch_cap`` epochs, and keeps the weights that
  validated best. Without validation samples the training loss stands in for it.
- Batches of ``batch`` trajectories, shuffled by a generator seeded with the fit's seed.

:class:`Schedule` holds these settings; its defaults are the peers' (``benchmarks/pde/patience.py``
measures why the patiences are as long as they are).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

import torch
from torch import nn

from physode.problems.fitting.validation import BestWeights
from physode.problems.peers.data import PeerData
from physode.trajectories import nrmse



@dataclass(frozen=True)
class Schedule:
    """How a peer trains (see the module docstring)."""

    lr: float = 1e-3
    weight_decay: float = 1e-4
    batch: int = 16
    lr_factor: float = 0.5
    # Measured on the quick diffusion file (45 fit samples, 3 batches an epoch; the direct FNO's test
    # nRMSE, benchmarks/pde/patience.py): patiences 10 and 50 stopped at 5.3e-3 after 249 epochs, 30 and
    # 100 at 2.4e-3 after 1128, below a one-cycle 3e-3 FNO of 1000 epochs (2.5e-3): shorter ones stop early.
    lr_patience: int = 30
    patience: int = 100
    min_gain: float = 1e-3
    epoch_cap: int = 5000  # a fit that reaches it is recorded as stopped by it ("epoch cap")


def relative_l2(pred: torch.Tensor, true: torch.Tensor, observed: torch.Tensor | None = None) -> torch.Tensor:
    """neuraloperator's ``LpLoss(p=2)``: ``||pred - true|| / ||true||`` over the last axis (the callers
    flatten a 2-D field's axes into it), averaged; with ``observed``
    (booleans of the states' shape without the channel axis) over the observed states only (none: 0)."""
    errors = nrmse(pred, true)
    if observed is None:
        return errors.mean()
    states = observed[..., None].expand_as(errors).to(errors.device)
    # A where, not a product: an unobserved state's error may be inf (inf * 0 is NaN).
    return torch.where(states, errors, 0.0).sum() / states.sum().clamp_min(1)


class Task(Protocol):
    """What one peer trains on: a loss per batch of trajectories and its validation error."""

    phases: int  # training phases in turn, each until its validation error stalls (fno-ar: 2)

    def loss(self, model: nn.Module, batch: torch.Tensor, observed: torch.Tensor | None, generator: torch.Generator,
             phase: int) -> torch.Tensor:
        """The loss on ``batch`` (``observed``: which of its frames were observed; None: all)."""
        ...

    def validation_error(self, model: nn.Module, samples: torch.Tensor, observed: torch.Tensor | None) -> float:
        """The nRMSE the peer is scored by, on ``samples`` (the full trajectories; their observed frames)."""
        ...


@dataclass(frozen=True)
class Limits:
    """When a fit stops at the latest: its wall time and its epochs (None: the schedule's epoch cap)."""

    budget_seconds: float | None = None
    max_epochs: int | None = None


@dataclass(frozen=True)
class Trained:
    epochs: int
    stopped: str  # "validation" | "training loss" | "budget" | "epoch cap"


def train(model: nn.Module, task: Task, data: PeerData, seed: int, limits: Limits, schedule: Schedule,
          device: torch.device, began: float) -> Trained:
    """Train ``model`` on ``data.fit`` until one of the stops above; the best weights are put back."""
    fit, validation = data.fit.to(device), data.validation.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=schedule.lr, weight_decay=schedule.weight_decay)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=schedule.lr_factor,
                                                           patience=schedule.lr_patience)
    generator = torch.Generator().manual_seed(seed)
    best = BestWeights(model, schedule.patience, schedule.min_gain)

    def over_budget() -> bool:
        return limits.budget_seconds is not None and time.perf_counter() - began >= limits.budget_seconds

    phase, phase_began, epoch = 0, 0, 0
    stopped = "epoch cap"
    while epoch < (limits.max_epochs or schedule.epoch_cap):
        epoch += 1
        losses = []
        for chosen in torch.randperm(len(fit), generator=generator).split(schedule.batch):
            observed = None if data.fit_observed is None else data.fit_observed[chosen].to(device)
            loss = task.loss(model, fit[chosen.to(device)], observed, generator, phase)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            if over_budget():
                break
        error = (task.validation_error(model, validation, data.validation_observed) if len(validation)
                 else sum(losses) / len(losses))
        best.update(epoch, error)
        scheduler.step(error)
        if over_budget():
            stopped = "budget"
            break
        if best.plateau.exhausted(epoch, not_before=phase_began):
            if phase + 1 < task.phases:  # the next phase starts from the best weights so far
                model.load_state_dict(best.weights)
                phase, phase_began = phase + 1, epoch
                continue
            stopped = "validation" if len(validation) else "training loss"
            break
    best.restore()
    return Trained(epochs=epoch, stopped=stopped)
