"""L-BFGS on the whole training set after Adam: fits that reach what a small model can represent.

Why: a coefficient's time profile reaches the loss only through its integral (a Fourier mode's
phase is ``k * integral of c``), so the loss is a smoothing operator squared in the profile and
its fast components are weakly determined. Adam with a few hundred noisy steps stalls far above
the model's floor on such an ill-conditioned, small problem (a sinusoidal c(t) at 7e-2 test nRMSE
after 60 epochs, 3e-2 after 240); full-batch L-BFGS with a strong-Wolfe line search, which
uses the curvature Adam ignores, takes the same fit to 5e-3 in seconds. For the dozens of weights
of a linear layer each iteration is one pass over the training set. It is deterministic (no
sampling), so a run killed during it and resumed repeats it exactly.

L-BFGS's stopping tolerances are absolute (a loss change below 1e-9, a gradient entry below 1e-7), so
L-BFGS sees the loss divided by its value where the polish begins: the tolerances become relative, and
a fit whose loss is already 1e-8 is polished as far as one at 1e-1 (measured: the transport sinusoid's
latent-9 fit stopped after 76 evaluations at 1.3e-2 test nRMSE; relative, it runs on to 6.2e-3).

L-BFGS can also stop on those tolerances long before the model's floor: its line search returns
tiny steps once the curvature pairs it keeps describe a part of the path already left behind. While
budget remains, the polish then restarts it from the best weights with an empty history, the loss
divided by its value there, until a restart gains less than :data:`RESTART_MIN_GAIN` (measured, the
transport switch's Galerkin fit in float64: the first run stops after 197 evaluations at 1.0e-2 test
nRMSE, training loss 6.4e-5; restarted, 200 more reach 3.6e-3, loss 7.7e-6).

A trial step of the line search can leave the range where the loss is finite: L-BFGS's first trial in a
run moves the weights by up to one along the gradient, and where a weight enters exponentially (ANODEV2's
evolution rates) that can land where the solve blows up (measured: diffusion nu(t) fit on every 4th frame,
loss 6e-6 after Adam, first trial 1.5e12). torch's strong-Wolfe interpolation then overflows in float32 and returns a NaN
step, after which every evaluation is NaN and the polish gains nothing (float64 survived the same trial and
reached 1.3e-13). So a non-finite loss ends the L-BFGS run, and the next one starts from the best weights
with its steps :data:`STEP_CUT` times shorter (L-BFGS's ``lr``: the first trial of every line search).

With a validation split (``validation``), the polish also stops when it stops helping: every
``check_every`` evaluations it validates its best weights so far (those of the lowest training loss),
stops once ``patience`` evaluations bring no validation gain of ``min_gain`` (relative), and keeps the
weights validated best, Adam's own if no polished weights beat them. Why: a polish can fit the
training samples closer while the error on unseen ones rises (reported in issue 27 on a KdV file:
0.4615 -> 0.4707 test nRMSE) or spend most of a fit's time gaining nothing, and still be essential on
other files (0.526 -> 0.159): only held-out samples tell these apart.

With a time budget (``seconds``, what ``physode fit --budget`` leaves after Adam), the polish also
stops before an evaluation that would end past it, judged by the longest evaluation so far (its
validations included): a budgeted fit's polish used to run to its evaluation budget after Adam had
spent the wall time (the 2-D benchmark's transport fit: 343 s of a 90 s budget).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from torch import Tensor, nn

from physode.problems.fitting.loss import trajectory_loss
from physode.problems.fitting.samples import TrainSplit
from physode.problems.fitting.validation import Plateau
from physode.training import DistContext, all_reduce_gradients, all_reduce_sum

HISTORY = 50  # curvature pairs kept: more than the linear models' parameters' worth of directions
RESTART_MIN_GAIN = 0.01  # a restart that lowers the loss by less than this fraction ends the polish
CHECK_EVERY = 5  # evaluations between validations: each costs a forward pass over the validation samples
STEP_CUT = 0.1  # after a non-finite loss, the next L-BFGS run's steps are this much shorter


@dataclass(frozen=True)
class Validation:
    """How the polish watches a validation split: ``score()`` is the model's validation error now."""

    score: Callable[[], float]
    patience: int
    min_gain: float
    check_every: int = CHECK_EVERY


class _BudgetSpent(Exception):
    """Raised by the loss closure once the evaluation budget is spent (L-BFGS's own max_eval is
    checked only between line searches, so it can overrun by a few evaluations)."""


class _TimeSpent(Exception):
    """Raised by the loss closure when the next evaluation would end past the time budget."""


class _NoValidationGain(Exception):
    """Raised by the loss closure once the validation error has stopped falling."""


class _NonFinite(Exception):
    """Raised by the loss closure when a trial step's loss is not finite (see the module docstring)."""


@dataclass(frozen=True)
class PolishResult:
    """What a polish did: the full-horizon training loss before and after (the best evaluated, whose
    weights the model keeps; in the loss's own units, not L-BFGS's scaled ones), the loss evaluations
    spent, how often L-BFGS was restarted, and whether the line search stopped on an overflow (a
    direction along which the loss is flat; the best weights are kept all the same). ``stop``: why it
    ended, ``"budget"``, ``"time"`` (the time budget), ``"converged"`` (a restart gained too little), ``"overflow"`` or
    ``"validation"`` (no gain); with a validation split, the validation error of the weights it began
    with and of those it kept (the weights of the lowest validation error, not training loss)."""

    loss_before: float
    loss_after: float
    evaluations: int
    restarts: int
    overflowed: bool
    stop: str = "budget"
    validation_before: float | None = None
    validation_after: float | None = None


def training_loss(model: nn.Module, split: TrainSplit, times: Sequence[float], kind: str, weight: Tensor | float,
                  ctx: DistContext, chunk: int, dtype: torch.dtype) -> Tensor:
    """The loss over every training sample at the full horizon, gradients accumulated in chunks of
    ``chunk`` samples (memory stays that of one batch); under ``torchrun`` each rank takes its
    share and the loss and gradients are summed over ranks. Returns the (detached) global loss."""
    mine = np.array_split(np.arange(len(split)), ctx.world_size)[ctx.rank]
    total = torch.zeros((), device=ctx.device, dtype=dtype)
    for start in range(0, len(mine), chunk):
        positions = mine[start : start + chunk]
        true = split.read(positions).to(ctx.device, dtype)
        observed = split.observed_at(positions)
        pred = model(true[:, 0], times)
        loss = trajectory_loss(pred[:, 1:], true[:, 1:], kind, weight,
                               None if observed is None else observed[:, 1:].to(ctx.device)) * len(true) / len(split)
        loss.backward()
        total += loss.detach()
    if ctx.distributed:  # not DDP: the ranks' numbers of chunks (backward calls) differ, down to none
        all_reduce_gradients(model)
    return all_reduce_sum(total)


def polish(model: nn.Module, split: TrainSplit, times: Sequence[float], *, budget: int, kind: str,
           weight: Tensor | float, ctx: DistContext, chunk: int, dtype: torch.dtype,
           on_evaluation: Callable[[float], None] = lambda loss: None,
           validation: Validation | None = None, seconds: float | None = None,
           clock: Callable[[], float] = time.perf_counter) -> PolishResult:
    """L-BFGS on the full-horizon training loss (:func:`training_loss`), at most ``budget`` loss
    evaluations (each one pass over the training set, as costly as an epoch of Adam's steps or less).

    ``on_evaluation(loss)`` is called after each evaluation (progress). An L-BFGS run stops when the
    loss or the step stops changing relative to the loss where the run begins (L-BFGS's tolerances,
    applied to the loss divided by that value), so the result does not depend on the loss's units;
    it is restarted with an empty history while restarts gain, and with shorter steps after a non-finite
    loss (see the module docstring; ``restarts`` counts both).
    ``validation``: also stop when the validation error stops falling, keeping the weights validated best.
    ``seconds``: the time budget (None: none), read on ``clock``: after the first evaluation (the caller checks
    that there is room for one), none starts that would end past it at the cost of the longest so far."""
    params = [p for p in model.parameters() if p.requires_grad]
    best = {"loss": math.inf, "weights": [p.detach().clone() for p in params]}
    losses: list[float] = []
    scale = 1.0  # L-BFGS sees the loss divided by its value where the current run began (1 if not positive)
    watch = None if validation is None else _Watch(validation, params)
    began, longest = clock(), 0.0

    def closure() -> Tensor:
        nonlocal scale, longest
        if len(losses) >= budget:
            raise _BudgetSpent
        start = clock()
        if seconds is not None and losses and start - began + longest > seconds:
            raise _TimeSpent
        optimizer.zero_grad(set_to_none=False)
        loss = training_loss(model, split, times, kind, weight, ctx, chunk, dtype)
        value = loss.item()
        if len(losses) == run_began:
            scale = value if math.isfinite(value) and value > 0 else 1.0
        losses.append(value)
        for p in params:
            if p.grad is not None:
                p.grad.div_(scale)
        if value < best["loss"]:  # NaN never is: a diverging trial step is not kept
            best.update(loss=value, weights=[p.detach().clone() for p in params])
        on_evaluation(value)
        if not math.isfinite(value):
            raise _NonFinite
        if watch is not None and watch.due(len(losses) - 1):
            watch.check(len(losses) - 1, best)
            if watch.plateau.exhausted(len(losses) - 1):
                raise _NoValidationGain
        longest = max(longest, clock() - start)
        return loss / scale

    model.train()
    stop = "budget"
    runs, step = 0, 1.0
    while len(losses) < budget:
        runs += 1
        run_began, loss_at_start = len(losses), best["loss"]
        with torch.no_grad():  # each run starts from the best weights evaluated so far
            for p, value in zip(params, best["weights"]):
                p.copy_(value)
        remaining = budget - run_began
        optimizer = torch.optim.LBFGS(params, lr=step, max_iter=remaining, max_eval=remaining,
                                      history_size=HISTORY, line_search_fn="strong_wolfe")
        try:
            optimizer.step(closure)
        except _BudgetSpent:
            break
        except _NoValidationGain:
            stop = "validation"
            break
        except _NonFinite:
            step *= STEP_CUT
            continue
        except _TimeSpent:
            stop = "time"
            break
        except RuntimeError as err:  # the line search extrapolated a step past the float range
            if "overflow" not in str(err):
                raise
            stop = "overflow"
            break
        if not best["loss"] < (1 - RESTART_MIN_GAIN) * loss_at_start:
            stop = "converged"
            break
    model.zero_grad(set_to_none=True)
    kept_loss, kept = best["loss"], best["weights"]
    if watch is not None:
        watch.check(len(losses) - 1, best)  # the last best weights, if not validated yet
        kept_loss, kept = watch.kept or (kept_loss, kept)
    with torch.no_grad():
        for p, value in zip(params, kept):
            p.copy_(value)
    return PolishResult(losses[0], kept_loss, len(losses), max(runs - 1, 0), stop == "overflow", stop,
                        *((watch.first, watch.plateau.best) if watch is not None else ()))


class _Watch:
    """The polish's validation: the weights of the lowest training loss so far, validated every
    ``check_every`` evaluations after the first (Adam's weights, at 0 evaluations spent); keeps the
    best validated and their training loss."""

    def __init__(self, validation: Validation, params: list[Tensor]) -> None:
        self.validation, self.params = validation, params
        self.plateau = Plateau(validation.patience, validation.min_gain)
        self.checked: list[Tensor] | None = None
        self.first: float | None = None
        self.kept: tuple[float, list[Tensor]] | None = None

    def due(self, spent: int) -> bool:
        return spent % self.validation.check_every == 0

    def check(self, spent: int, best: dict) -> None:
        """Validate ``best``'s weights unless done already, ``spent`` evaluations after the first."""
        if best["weights"] is self.checked:  # a new best is a new list
            return
        self.checked = best["weights"]
        trial = [p.detach().clone() for p in self.params]  # the point L-BFGS just evaluated, put back below
        with torch.no_grad():
            for p, value in zip(self.params, best["weights"]):
                p.copy_(value)
            score = self.validation.score()
            for p, value in zip(self.params, trial):
                p.copy_(value)
        if self.first is None:
            self.first = score
        if self.plateau.update(spent, score):
            self.kept = (best["loss"], best["weights"])
