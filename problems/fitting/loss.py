"""The training loss of a trajectory fit, and the check that it has not diverged."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import torch

from physode.errors import TrainingDiverged

LOSSES = ("mse", "relative")
# A loss this many times the batch's mean square (u(t0) included, so decaying data do not trip it)
# means the fit diverged: predicting zero scores below 1 and predicting u(t0) a few times the number
# of intervals; the curriculum raises the loss as the horizon grows, but never anywhere near this.
DIVERGENCE_FACTOR = 1e4


@dataclasses.dataclass(frozen=True)
class BatchLoss:
    """One global batch's loss: this rank's share (to differentiate), the global value, the batch's
    weighted mean square (the scale divergence is judged by) and the horizon it was taken over."""

    shard: torch.Tensor
    value: float
    scale: float
    horizon: int


def check_divergence(batch: BatchLoss, where: str, last_saved: int, out: Path) -> None:
    """Stop with :class:`TrainingDiverged` on a non-finite loss or one far above the data's scale;
    ``where``: the epoch and step, ``last_saved``: the epoch of the last checkpoint in ``out`` (0: none)."""
    loss, scale = batch.value, batch.scale
    if math.isfinite(loss) and not loss > DIVERGENCE_FACTOR * scale > 0:
        return
    kept = (f"the last good checkpoint (epoch {last_saved}) in {out} is kept" if last_saved
            else "no checkpoint was written yet")
    ratio = f" ({loss / scale:.3g} x the data's mean square)" if scale > 0 else ""
    raise TrainingDiverged(
        f"training diverged: the loss is {loss:.3g}{ratio} at {where}; {kept}. Check the data's scale, lower "
        "--lr or raise --steps-per-interval, then start a new --out"
    )


def trajectory_loss(pred: torch.Tensor, true: torch.Tensor, kind: str, weight: torch.Tensor | float = 1.0,
                    observed: torch.Tensor | None = None) -> torch.Tensor:
    """Training loss over ``(batch, times, [channels,] x)`` predicted states.

    ``mse``: the mean squared error, each channel's term times its ``weight``
    (:func:`.evaluate.channel_weights`). ``relative``: each state's (and channel's) squared error
    over the true one's squared norm, the square of the nRMSE the fit is scored on. On decaying data
    (diffusion) plain MSE all but ignores the late, small states, so the late-time dynamics (a
    growing nu(t)) go unlearned while nRMSE weighs them as much as the early ones.
    ``observed`` ``(batch, times)`` booleans: the mean is over the observed states only (the others'
    values, whatever they are, do not enter); a batch with none observed has loss 0.
    """
    if observed is not None:
        # An unobserved state's truth is the prediction itself: zero error and zero gradient, whatever
        # value the file holds there (a where, not a product: inf * 0 is NaN).
        true = torch.where(observed.reshape(*observed.shape, *[1] * (pred.ndim - 2)), true, pred.detach())
        states = observed.sum().clamp_min(1)
    error = (pred - true).square()
    if kind == "mse":
        weighted = error * weight
        return weighted.mean() if observed is None else weighted.sum() / (states * error[0, 0].numel())
    # Over the spatial axes: the last one, or the last two of a 2-D field (which always has a channel axis).
    space = min(3, error.ndim - 1)
    relative = error.flatten(space).sum(-1) / true.square().flatten(space).sum(-1).clamp_min(1e-12)
    return relative.mean() if observed is None else relative.sum() / (states * relative[0, 0].numel())
