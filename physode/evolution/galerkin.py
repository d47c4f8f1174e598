"""Weights expanded in a truncated basis in time (Galerkin Neural ODEs, Massaroli et al. 2020).

Not an evolution by an ODE: the peer that answers whether evolving weights by dynamics beats
expanding them in a fixed basis. The bases are torchdyn's (``torchdyn.nn.galerkin``) ``Fourier``
(``cos(n t)``, ``sin(n t)``) and ``Polynomial`` (``t^n``), implemented here: torchdyn itself
pulls in pytorch-lightning, ipykernel and pinned torchcde/poethepoet.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from physode.errors import InputError
from physode.evolution.base import EvolutionOperator, group_shape
from physode.steppers import Stepper

BASES = ("fourier", "polynomial")


class Galerkin(EvolutionOperator):
    """``w(t) = w0 * sum_j a_j phi_j(t)`` per weight group.

    ``fourier``: ``phi = 1, sin(f t), cos(f t), sin(2 f t), cos(2 f t), ...`` (torchdyn's basis
    is ``f = 1``); ``polynomial``: ``phi_j = t^j``. The coefficients ``a`` (``size`` per group) start at ``e_1`` (static
    weights ``w0``). The state is ``w0`` itself (it does not move); the time dependence is all in
    the read-out, defined for every ``t``, so there is nothing to discretize.

    Args:
        size: number of basis functions (coefficients per group).
        basis: ``"fourier"`` or ``"polynomial"``.
        per_channel: one set of coefficients per output channel (each entry of the weight's
            ``channel_axis``) instead of one per layer.
        channel_axis: the weight's axis of channels (default: the first, ``(out, in, ...)``).
        frequency: ``f`` of the Fourier basis, in radians per unit time.
    """

    has_weights_at = True

    def __init__(
        self, size: int = 8, *, basis: str = "fourier", per_channel: bool = False, channel_axis: int = 0,
        frequency: float = 1.0,
    ) -> None:
        super().__init__()
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise InputError(f"basis size must be an integer >= 1, got {size!r}")
        if basis not in BASES:
            raise InputError(f"unknown basis {basis!r}: choose one of {list(BASES)}")
        self.size = size
        self.basis = basis
        self.per_channel = per_channel
        self.channel_axis = channel_axis
        if not (math.isfinite(frequency) and frequency > 0):
            raise InputError(f"frequency must be a positive number, got {frequency!r}")
        self.frequency = float(frequency)

    def bind(self, weight: Tensor) -> None:
        self.group_view = group_shape(weight, self.per_channel, self.channel_axis)
        coefficients = torch.zeros(math.prod(self.group_view), self.size, dtype=weight.dtype, device=weight.device)
        coefficients[:, 0] = 1.0
        self.coefficients = nn.Parameter(coefficients)

    def functions(self, t: float) -> list[float]:
        """``phi_j(t)``, ``j = 0 .. size - 1``."""
        if self.basis == "polynomial":
            return [t**j for j in range(self.size)]
        phase = self.frequency * t
        return [
            math.cos((j + 1) // 2 * phase) if j % 2 == 0 else math.sin((j + 1) // 2 * phase)
            for j in range(self.size)
        ]

    def rate(self, state: Tensor, t: float) -> Tensor:
        return state.new_zeros(()).expand_as(state)

    def step(self, state: Tensor, t: float, dt: float, method: Stepper) -> Tensor:
        return state

    def readout(self, state: Tensor, t: float) -> Tensor:
        return state * self._gains([t], state)[0]

    def weights_at(self, state: Tensor, t: float, times: Sequence[float]) -> Tensor:
        # The state does not move: every time's read-out at once, from one table of the basis.
        return state * self._gains(times, state)

    def _gains(self, times: Sequence[float], state: Tensor) -> Tensor:
        """``sum_j a_j phi_j(t)`` per time and group, ``(len(times), *group_view)``; the read-out of
        one time and of many sum the same products in the same order (the same floats)."""
        phi = torch.tensor([self.functions(s) for s in times], dtype=state.dtype, device=state.device)
        return (self.coefficients.to(state.dtype) * phi[:, None]).sum(-1).view(len(times), *self.group_view)

    def extra_repr(self) -> str:
        return f"size={self.size}, basis={self.basis!r}, per_channel={self.per_channel}"
