"""L-BFGS on the whole training set after Adam: fits that reach what a small model can represent.

Why: a coefficient's time profile reaches the loss only through its integral (a Fourier mode's
phase is ``k * integral of c``), so the loss is a smoothing operator squared in the profile and
its fast components are weakly determined. Adam with a few hundred noisy steps stalls far above
the model's floor on such an ill-conditioned, small problem (a sinusoidal c(t) at 7e-2 test nRMSE
after 60 epochs, 3e-2 after 240); full-batch L-BFGS with a strong-Wolfe line search, which
uses the curvature Adam ignores, takes the same fit to 5e-3 in seconds. For the dozens of weights
of a linear layer each iteration is one pass over the training set. It is deterministic (no
sampling), so a run killed during it and resumed repeats it exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from torch import Tensor, nn

from physode.problems.pde1d.loss import trajectory_loss
from physode.problems.pde1d.samples import TrainSplit
from physode.training import DistContext, all_reduce_gradients, all_reduce_sum

HISTORY = 50  # curvature pairs kept: more than the linear models' parameters' worth of directions


@dataclass(frozen=True)
class PolishResult:
    """What a polish did: the full-horizon training loss before and after, the loss evaluations
    spent, and whether the result was kept (a non-finite or higher loss restores the weights)."""

    loss_before: float
    loss_after: float
    evaluations: int
    kept: bool


def training_loss(model: nn.Module, split: TrainSplit, times: Sequence[float], kind: str, weight: Tensor | float,
                  ctx: DistContext, chunk: int, dtype: torch.dtype) -> Tensor:
    """The loss over every training sample at the full horizon, gradients accumulated in chunks of
    ``chunk`` samples (memory stays that of one batch); under ``torchrun`` each rank takes its
    share and the loss and gradients are summed over ranks. Returns the (detached) global loss."""
    mine = np.array_split(np.arange(len(split)), ctx.world_size)[ctx.rank]
    total = torch.zeros((), device=ctx.device, dtype=dtype)
    for start in range(0, len(mine), chunk):
        true = split.read(mine[start : start + chunk]).to(ctx.device, dtype)
        pred = model(true[:, 0], times)
        loss = trajectory_loss(pred[:, 1:], true[:, 1:], kind, weight) * len(true) / len(split)
        loss.backward()
        total += loss.detach()
    if ctx.distributed:
        all_reduce_gradients(model)
    return all_reduce_sum(total)


def polish(model: nn.Module, split: TrainSplit, times: Sequence[float], *, budget: int, kind: str,
           weight: Tensor | float, ctx: DistContext, chunk: int, dtype: torch.dtype,
           on_evaluation: Callable[[float], None] = lambda loss: None) -> PolishResult:
    """L-BFGS on the full-horizon training loss (:func:`training_loss`), at most ``budget`` loss
    evaluations (each one pass over the training set, as costly as an epoch of Adam's steps or less).

    ``on_evaluation(loss)`` is called after each evaluation (progress). Stops early when the loss
    or the step stops changing (L-BFGS's tolerances)."""
    params = [p for p in model.parameters() if p.requires_grad]
    saved = [p.detach().clone() for p in params]
    optimizer = torch.optim.LBFGS(params, lr=1.0, max_iter=budget, max_eval=budget,
                                  history_size=HISTORY,
                                  line_search_fn="strong_wolfe")
    evaluations = 0

    def closure() -> Tensor:
        nonlocal evaluations
        optimizer.zero_grad(set_to_none=False)
        loss = training_loss(model, split, times, kind, weight, ctx, chunk, dtype)
        evaluations += 1
        on_evaluation(loss.item())
        return loss

    model.train()
    before = optimizer.step(closure).item()  # the first evaluation is at the starting weights
    after = training_loss(model, split, times, kind, weight, ctx, chunk, dtype).item()  # at the final weights
    model.zero_grad(set_to_none=True)
    kept = math.isfinite(after) and after <= before
    if not kept:
        with torch.no_grad():
            for p, value in zip(params, saved):
                p.copy_(value)
        after = before
    return PolishResult(before, after, evaluations, kept)
