"""How the FNO peers train, the same for each, as FNO's users train it.

- Adam, lr 1e-3, weight decay 1e-4: PDEBench's FNO baselines (``pdebench/models/config/args/*.yaml``;
  NOTES.md section 7); neuraloperator's Darcy example also uses Adam with weight decay 1e-4.
- The loss: the relative L2 error per sample, channel and time (neuraloperator's ``LpLoss(p=2)``, the
  loss its examples train with), which is also what the benchmarks score (nRMSE).
- The learning rate halves when the validation error stalls for :data:`LR_PATIENCE` epochs
  (``ReduceLROnPlateau``, one of neuraloperator's configured schedulers): the epoch count is not
  known in advance when a fit stops on validation, so a schedule over a fixed length does not apply.
- Early stopping: the fit stops once :data:`PATIENCE` epochs bring no gain of :data:`MIN_GAIN`
  (relative) in the validation nRMSE, at the latest after :data:`EPOCH_CAP` epochs, and keeps the
  weights that validated best. Without validation samples the training loss stands in for it.
- Batches of :data:`BATCH` trajectories, shuffled by a generator seeded with the fit's seed.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass
from typing import Protocol

import torch
from torch import nn

from physode.problems.fitting.validation import Plateau
from physode.problems.peers.data import PeerData
from physode.trajectories import nrmse

LR, WEIGHT_DECAY = 1e-3, 1e-4
BATCH = 16
LR_FACTOR, LR_PATIENCE = 0.5, 10
PATIENCE, MIN_GAIN = 50, 1e-3
EPOCH_CAP = 5000  # a fit that reaches it is recorded as stopped by it ("epoch cap")


def relative_l2(pred: torch.Tensor, true: torch.Tensor) -> torch.Tensor:
    """neuraloperator's ``LpLoss(p=2)``: ``||pred - true|| / ||true||`` over x, averaged."""
    return nrmse(pred, true).mean()


class Task(Protocol):
    """What one peer trains on: a loss per batch of trajectories and its validation error."""

    phases: int  # training phases in turn, each until its validation error stalls (fno-ar: 2)

    def loss(self, model: nn.Module, batch: torch.Tensor, generator: torch.Generator, phase: int) -> torch.Tensor:
        ...

    def validation_error(self, model: nn.Module, samples: torch.Tensor) -> float:
        """The nRMSE the peer is scored by, on ``samples`` (the full trajectories)."""
        ...


class BestWeights:
    """The plateau of the monitored errors and a copy of the weights of the best one. (A copy of the
    whole state dict: neuraloperator's holds its constructor's arguments beside the tensors.)"""

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.plateau = Plateau(PATIENCE, MIN_GAIN)
        self.weights = copy.deepcopy(model.state_dict())

    def update(self, epoch: int, error: float) -> None:
        if self.plateau.update(epoch, error if math.isfinite(error) else math.inf):
            self.weights = copy.deepcopy(self.model.state_dict())

    def restore(self) -> None:
        self.model.load_state_dict(self.weights)


@dataclass(frozen=True)
class Limits:
    """When a fit stops at the latest: its wall time and its epochs (None: :data:`EPOCH_CAP`)."""

    budget_seconds: float | None = None
    max_epochs: int | None = None


@dataclass(frozen=True)
class Trained:
    epochs: int
    stopped: str  # "validation" | "training loss" | "budget" | "epoch cap"


def train(model: nn.Module, task: Task, data: PeerData, seed: int, limits: Limits, device: torch.device,
          began: float) -> Trained:
    """Train ``model`` on ``data.fit`` until one of the stops above; the best weights are put back."""
    fit, validation = data.fit.to(device), data.validation.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=LR_FACTOR, patience=LR_PATIENCE)
    generator = torch.Generator().manual_seed(seed)
    best = BestWeights(model)

    def over_budget() -> bool:
        return limits.budget_seconds is not None and time.perf_counter() - began >= limits.budget_seconds

    phase, phase_began, epoch = 0, 0, 0
    stopped = "epoch cap"
    while epoch < (limits.max_epochs or EPOCH_CAP):
        epoch += 1
        losses = []
        for chosen in torch.randperm(len(fit), generator=generator).split(BATCH):
            loss = task.loss(model, fit[chosen.to(device)], generator, phase)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            if over_budget():
                break
        error = task.validation_error(model, validation) if len(validation) else sum(losses) / len(losses)
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
