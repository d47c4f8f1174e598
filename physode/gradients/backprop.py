"""Autograd through every step: the reference. Memory grows with the number of steps."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from physode.gradients.base import DiscreteSolve, GradientStrategy, State, run_forward


class Backprop(GradientStrategy):
    """Differentiate the discrete solver by keeping the whole computation graph."""

    name = "backprop"

    def integrate(self, solve: DiscreteSolve, y0: State, params: Sequence[Tensor]) -> State:
        return run_forward(solve, y0)[0]
