"""The training loss of a trajectory fit."""

from __future__ import annotations

import torch

LOSSES = ("mse", "relative")


def trajectory_loss(pred: torch.Tensor, true: torch.Tensor, kind: str, weight: torch.Tensor | float = 1.0) -> torch.Tensor:
    """Training loss over ``(batch, times, [channels,] x)`` predicted states.

    ``mse``: the mean squared error, each channel's term times its ``weight``
    (:func:`.evaluate.channel_weights`). ``relative``: each state's (and channel's) squared error
    over the true one's squared norm, the square of the nRMSE the fit is scored on. On decaying data
    (diffusion) plain MSE all but ignores the late, small states, so the late-time dynamics (a
    growing nu(t)) go unlearned while nRMSE weighs them as much as the early ones.
    """
    error = (pred - true).square()
    if kind == "mse":
        return (error * weight).mean()
    # Over the spatial axes: the last one, or the last two of a 2-D field (which always has a channel axis).
    space = min(3, error.ndim - 1)
    return (error.flatten(space).sum(-1) / true.square().flatten(space).sum(-1).clamp_min(1e-12)).mean()
