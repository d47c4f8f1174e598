"""Early stopping on a validation split carved out of the training samples (:func:`.samples.carve_validation`).

The validation samples are scored as the test split is at the end (nRMSE over the predicted times,
:mod:`physode.trajectories.metrics`), so "the validation error stopped falling" means the error the
fit is judged by stopped falling. Adam stops when ``patience`` epochs bring no gain of ``min_gain``
(relative), counted once its one-cycle learning rate has decayed (:data:`.schedule.ANNEALED`), and hands the polish the weights validated best; the polish (:mod:`.polish`) validates
its best weights every few evaluations and stops the same way. The test split is never read for it.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from physode.problems.fitting.evaluate import flat_space
from physode.problems.fitting.samples import TrainSplit
from physode.trajectories import nrmse
from physode.training import DistContext, all_reduce_sum


@torch.no_grad()
def validation_nrmse(model: nn.Module, split: TrainSplit, times: Sequence[float], ctx: DistContext, chunk: int,
                     dtype: torch.dtype) -> float:
    """nRMSE of ``model`` over the predicted times of the samples in ``split``, scored as the test
    split is (the mean over samples, predicted times and channels), over the observed frames only
    where the file marks some unobserved; under ``torchrun`` each rank scores its share and every
    rank gets the same value."""
    mine = np.array_split(np.arange(len(split)), ctx.world_size)[ctx.rank]
    sums = torch.zeros(2, dtype=torch.float64, device=ctx.device)  # nRMSE over observed (sample, time), their count
    training = model.training
    model.eval()
    for start in range(0, len(mine), chunk):
        positions = mine[start : start + chunk]
        true = split.read(positions).to(ctx.device, dtype)
        pred = model(true[:, 0], times)
        errors = nrmse(flat_space(pred, split.data), flat_space(true, split.data)).double()
        errors = errors.reshape(len(true), len(times), -1).mean(-1)[:, 1:]  # t[0] is given
        observed = split.observed_at(positions)
        seen = torch.ones_like(errors, dtype=torch.bool) if observed is None else observed[:, 1:].to(ctx.device)
        sums += torch.stack([torch.where(seen, errors, 0.0).sum(), seen.sum().double()])
    model.train(training)
    total, count = all_reduce_sum(sums).tolist()
    return total / count


@dataclasses.dataclass
class Plateau:
    """The lowest validation error seen (``best``, at step ``best_at``) and the last gain of at least
    ``min_gain`` relative (to ``anchor``, at ``anchor_at``): a run of small gains does not reset the
    patience, but the best weights are still the lowest error's. Steps are epochs or evaluations."""

    patience: int
    min_gain: float
    best: float = math.inf
    best_at: int = 0
    anchor: float = math.inf
    anchor_at: int = 0

    def update(self, at: int, value: float) -> bool:
        """Record ``value`` at step ``at``; True if it is the new best (NaN never is)."""
        if value < self.anchor * (1 - self.min_gain):
            self.anchor, self.anchor_at = value, at
        if value < self.best:
            self.best, self.best_at = value, at
            return True
        return False

    def exhausted(self, at: int, not_before: int = 0) -> bool:
        """No gain of ``min_gain`` in the ``patience`` steps up to ``at`` (counted from ``not_before``)."""
        return at - max(self.anchor_at, not_before) >= self.patience


def _copied_state(model: nn.Module) -> dict[str, Any]:
    """A copy of ``model``'s state dict; entries that are not tensors (neuraloperator's models keep
    their constructor's arguments there) are copied too."""
    return {name: value.detach().clone() if torch.is_tensor(value) else copy.deepcopy(value)
            for name, value in model.state_dict().items()}


class BestWeights:
    """Early stopping: the plateau of the validation errors and the weights of the best one, both
    saved in every checkpoint so a resumed run stops where an uninterrupted one does (physode's fits
    and the peers, :mod:`physode.problems.peers`, alike)."""

    def __init__(self, model: nn.Module, patience: int, min_gain: float) -> None:
        self.model = model
        self.plateau = Plateau(patience, min_gain)
        self.weights = _copied_state(model)

    def update(self, epoch: int, value: float) -> None:
        if self.plateau.update(epoch, value):
            self.weights = _copied_state(self.model)

    def restore(self) -> dict[str, Any]:
        """Put the best weights back into the model; returns which they were, for the metrics."""
        self.model.load_state_dict(self.weights)
        return {"best_epoch": self.plateau.best_at, "best_validation_nrmse": self.plateau.best}

    def state_dict(self) -> dict[str, Any]:
        return {"plateau": dataclasses.asdict(self.plateau), "weights": self.weights}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.plateau = Plateau(**state["plateau"])
        self.weights = state["weights"]
