"""A fit's two schedules: the learning rate's one cycle and the horizon curriculum.

Horizon curriculum: the error of a wrongly rotated Fourier mode is smallest when the mode is damped
away, so a model fit to whole trajectories from the start falls into "predict zero" for every mode
whose phase is more than a quarter turn off. Training first on the earliest stored interval and
lengthening the horizon geometrically (:func:`horizon`) keeps each extension within reach of what
has already been learned.
"""

from __future__ import annotations

import math

import torch

# Learning-rate warm-up (fraction of the steps): short, because the curriculum's first, shortest
# horizons must be learned before the horizon grows (a long warm-up leaves them under-fit).
WARMUP = 0.05


def one_cycle(optimizer: torch.optim.Optimizer, total_steps: int) -> torch.optim.lr_scheduler.OneCycleLR:
    """One-cycle learning rates over ``total_steps``, peaking at each parameter group's ``lr``.

    torch's schedule divides by (warm-up steps - 1): a fit of exactly 20 steps, whose 5% warm-up is
    one step, would stop on a division by zero, so its warm-up takes two. Every other length keeps 5%.
    """
    pct_start = WARMUP if WARMUP * total_steps != 1 else 2 / total_steps
    return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=[g["lr"] for g in optimizer.param_groups],
                                               total_steps=total_steps, pct_start=pct_start)


def horizon(step: int, total_steps: int, n_intervals: int, curriculum: float) -> int:
    """Stored intervals trained on at ``step``: ``ceil(N ** (step / ramp))`` of ``N`` intervals over the
    first ``ramp = curriculum * total_steps`` steps, then all of them."""
    ramp = curriculum * total_steps
    if step >= ramp:
        return n_intervals
    return min(n_intervals, max(1, math.ceil(n_intervals ** (step / ramp))))
