"""A fit's schedules: the learning rate's one cycle (sized by steps, or by a wall-time budget:
:class:`BudgetCycle`) and the horizon curriculum.

Horizon curriculum: the error of a wrongly rotated Fourier mode is smallest when the mode is damped
away, so a model fit to whole trajectories from the start falls into "predict zero" for every mode
whose phase is more than a quarter turn off. Training first on the earliest stored interval and
lengthening the horizon geometrically (:func:`horizon`) keeps each extension within reach of what
has already been learned.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable

import torch

# Learning-rate warm-up (fraction of the steps): short, because the curriculum's first, shortest
# horizons must be learned before the horizon grows (a long warm-up leaves them under-fit).
WARMUP = 0.05
# torch's OneCycleLR defaults, which BudgetCycle shares: the first rate is lr / 25, the last lr / 25e4.
DIV_FACTOR, FINAL_DIV_FACTOR = 25.0, 1e4
# A budgeted fit's warm-up in steps: they are timed to size the schedule to the budget.
BUDGET_WARMUP = 20
# Early stopping waits until the cycle's learning rate has come down to this fraction of its peak: near the
# peak a rollout's validation error swings with the step size (a plateau there is noise, not convergence),
# and stopping then keeps weights that the decay would have improved (measured on a Swift-Hohenberg file:
# benchmarks/yourdata/notes.md).
ANNEALED = 0.1


def one_cycle(optimizer: torch.optim.Optimizer, total_steps: int) -> torch.optim.lr_scheduler.OneCycleLR:
    """One-cycle learning rates over ``total_steps``, peaking at each parameter group's ``lr``.

    torch's schedule divides by (warm-up steps - 1): a fit of exactly 20 steps, whose 5% warm-up is
    one step, would stop on a division by zero, so its warm-up takes two. Every other length keeps 5%.
    """
    pct_start = one_cycle_warmup(total_steps) / total_steps
    return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=[g["lr"] for g in optimizer.param_groups],
                                               total_steps=total_steps, pct_start=pct_start)


def one_cycle_warmup(total_steps: int) -> float:
    """The warm-up steps of :func:`one_cycle` over ``total_steps``."""
    return WARMUP * total_steps if WARMUP * total_steps != 1 else 2.0


def annealed_from(warmup: float, total_steps: int) -> int:
    """The first step of a one-cycle schedule (``warmup`` steps up, cosine decay until ``total_steps``)
    whose learning rate is at most :data:`ANNEALED` of its peak: where early stopping starts to count."""
    decayed = math.acos(2 * ANNEALED - 1) / math.pi  # (1 + cos(pi f)) / 2 = ANNEALED at this fraction f
    return math.ceil(warmup + decayed * (total_steps - warmup))


def patience_from(warmup: float, total_steps: int, curriculum: float, steps_per_epoch: int) -> int:
    """The epoch from which early stopping's patience counts: once the curriculum has reached every interval
    and the learning rate has decayed to :data:`ANNEALED` of its peak (:func:`annealed_from`)."""
    last = max(curriculum * total_steps, annealed_from(warmup, total_steps))
    return math.ceil(last / steps_per_epoch)


def horizon(step: int, total_steps: int, n_intervals: int, curriculum: float) -> int:
    """Stored intervals trained on at ``step``: ``ceil(N ** (step / ramp))`` of ``N`` intervals over the
    first ``ramp = curriculum * total_steps`` steps, then all of them."""
    ramp = curriculum * total_steps
    if step >= ramp:
        return n_intervals
    return min(n_intervals, max(1, math.ceil(n_intervals ** (step / ramp))))


class BudgetCycle(torch.optim.lr_scheduler.LRScheduler):
    """The one-cycle shape of :func:`one_cycle` (warm-up from ``lr / 25`` to ``lr`` over ``warmup``
    steps, cosine decay to ``lr / 25e4`` at ``total_steps``) whose length a wall-time budget sets as
    the fit goes (:class:`BudgetClock`). Saved with the scheduler's state."""

    def __init__(self, optimizer: torch.optim.Optimizer, warmup: int, total_steps: int) -> None:
        self.warmup, self.total_steps = warmup, total_steps
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:  # type: ignore[override]
        step = min(self.last_epoch, self.total_steps)
        if step < self.warmup:
            start, end, fraction = 1 / DIV_FACTOR, 1.0, step / self.warmup
        else:
            start, end = 1.0, 1 / (DIV_FACTOR * FINAL_DIV_FACTOR)
            fraction = (step - self.warmup) / max(1, self.total_steps - self.warmup)
        factor = end + (start - end) * (1 + math.cos(math.pi * fraction)) / 2
        return [base * factor for base in self.base_lrs]


@dataclasses.dataclass
class BudgetClock:
    """A fit's wall-time budget of ``seconds`` over at most ``cap`` steps. The warm-up's steps are timed
    (``warmup_s``) and, at its end, one validation (``validation_s``); from then on, after every step,
    the schedule's length is what the budget leaves room for at the mean time per step so far (since
    the warm-up's first step, validations included), so the learning rate has decayed when the budget
    is spent even where the machine's load changes. ``spent``: the budget stopped the fit. Saved in
    every checkpoint (a resumed fit keeps the timing; where it stops depends on its own steps' times).
    """

    seconds: float
    cap: int
    warmup_s: float = 0.0
    validation_s: float = 0.0
    warmup_end: float = 0.0  # the fit's elapsed seconds when the warm-up ended
    spent: bool = False

    def after_step(self, step: int, step_s: float, elapsed: float, schedule: BudgetCycle,
                   validate: Callable[[], object] | None) -> bool:
        """After step ``step`` (``step_s`` seconds; ``elapsed`` seconds of the fit so far; ``validate``:
        the fit's validation, None without one): True once the schedule is over or the budget has no
        room for one more step and a validation."""
        timed = max(1, schedule.warmup - 1)  # the first step pays one-time costs (allocation, caches)
        if step <= schedule.warmup:
            if step > 1 or schedule.warmup == 1:
                self.warmup_s += step_s
            if step == schedule.warmup:
                began = time.perf_counter()
                if validate is not None:
                    validate()
                self.validation_s = time.perf_counter() - began
                elapsed = self.warmup_end = elapsed + self.validation_s
        if step >= schedule.warmup:
            per_step = (self.warmup_s + elapsed - self.warmup_end) / (timed + step - schedule.warmup)
            room = max(0, math.floor((self.seconds - elapsed - self.validation_s) / max(per_step, 1e-9)))
            schedule.total_steps = min(self.cap, step + room)
        over = step >= schedule.total_steps and schedule.total_steps < self.cap
        self.spent = over or elapsed + step_s + self.validation_s > self.seconds
        return self.spent
