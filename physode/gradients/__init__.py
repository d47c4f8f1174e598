"""Gradient strategies: how the gradient of a discretized solve is computed.

- :class:`Backprop`: autograd through every step (reference; memory grows with steps).
- :class:`Checkpoint`: ANODE's exact discretize-then-optimize gradient, storing only the input.
- :class:`Adjoint`: the continuous adjoint of Neural ODE (approximate, O(1) memory in steps).
- :class:`Recursive`: exact like ``Checkpoint``, Revolve's binomial checkpointing from a few snapshots
  (long horizons).
"""

from __future__ import annotations

from physode.errors import InputError
from physode.gradients.adjoint import Adjoint
from physode.gradients.backprop import Backprop
from physode.gradients.base import DiscreteSolve, GradientStrategy
from physode.gradients.checkpoint import Checkpoint
from physode.gradients.recursive import Recursive

STRATEGIES: dict[str, type[GradientStrategy]] = {
    cls.name: cls for cls in (Backprop, Checkpoint, Adjoint, Recursive)
}


def get_gradient(grad: str | GradientStrategy) -> GradientStrategy:
    """Resolve a strategy name (or pass a strategy object through)."""
    if isinstance(grad, GradientStrategy):
        return grad
    try:
        return STRATEGIES[grad]()
    except (KeyError, TypeError):
        raise InputError(
            f"unknown gradient strategy {grad!r}: choose one of {sorted(STRATEGIES)} "
            "or pass a physode.gradients.GradientStrategy"
        ) from None


__all__ = [
    "STRATEGIES",
    "Adjoint",
    "Backprop",
    "Checkpoint",
    "DiscreteSolve",
    "GradientStrategy",
    "Recursive",
    "get_gradient",
]
