"""A learned evolution: ``q`` is a small network of the weight (and optionally time)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from physode.evolution.base import EvolutionOperator


class Neural(EvolutionOperator):
    """``dw/dt = net(w)`` (or ``net(t, w)``), integrated with the block's Runge-Kutta method.

    By default ``net`` is a pointwise MLP applied to every weight entry, so its size does not
    depend on the weight's; its last layer starts at zero, so training starts from static
    weights (an ANODE block).

    Args:
        net: maps a weight tensor to a rate of the same shape; called as ``net(w)``, or
            ``net(t, w)`` when ``time_input``. Default: the pointwise MLP.
        hidden: width of the default MLP.
        time_input: feed time to ``net`` (the default MLP takes it as a second feature).
    """

    def __init__(
        self, net: nn.Module | None = None, *, hidden: int = 16, time_input: bool = False
    ) -> None:
        super().__init__()
        self.time_input = time_input
        self.pointwise = net is None
        if net is None:
            net = nn.Sequential(nn.Linear(1 + time_input, hidden), nn.Tanh(), nn.Linear(hidden, 1))
            nn.init.zeros_(net[-1].weight)
            nn.init.zeros_(net[-1].bias)
        self.net = net

    def bind(self, weight: Tensor) -> None:
        self.net.to(dtype=weight.dtype, device=weight.device)

    def rate(self, state: Tensor, t: float) -> Tensor:
        if not self.pointwise:
            return self.net(t, state) if self.time_input else self.net(state)
        x = state.reshape(-1, 1)
        if self.time_input:
            x = torch.cat([x, torch.full_like(x, t)], dim=1)
        return self.net(x).reshape(state.shape)
