"""Recursive (binomial, revolve-style) checkpointing for long horizons.

Like :class:`~physode.gradients.Checkpoint`, the forward pass stores only the solve's input and
gradients are exactly those of back-propagation through the discrete solver. Backward does not
rebuild the whole trajectory's graph: it reverses the steps one at a time, each from a snapshot
of the state, by recursive bisection. With ``N`` steps it keeps at most ``ceil(log2 N)`` snapshots
and one step's graph alive, and recomputes ``O(N log N)`` steps. With a smaller ``snapshots``
budget, the deepest segments are reversed by recomputing from their start (more compute, the
same exact gradients).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from physode.errors import InputError
from physode.gradients.base import (
    AutocastState,
    DiscreteSolve,
    GradientStrategy,
    OutputGradients,
    RandomState,
    State,
    UnchangedSinceForward,
    replayed,
    requires_grad_copy,
    restored,
    run_forward,
)


class Recursive(GradientStrategy):
    """Exact gradients with O(log N) stored states.

    Args:
        snapshots: most states kept at once during backward (besides the input); default
            unlimited, which bisection keeps below ``ceil(log2 N)``.
    """

    name = "recursive"

    def __init__(self, snapshots: int | None = None) -> None:
        valid = snapshots is None or (
            isinstance(snapshots, int) and not isinstance(snapshots, bool) and snapshots >= 0
        )
        if not valid:
            raise InputError(f"snapshots must be an integer >= 0 or None, got {snapshots!r}")
        self.snapshots = snapshots
        #: Most snapshots held at once by the last backward pass (for tests and benchmarks).
        self.peak_snapshots = 0

    def integrate(self, solve: DiscreteSolve, y0: State, params: Sequence[Tensor]) -> State:
        if not torch.is_grad_enabled():
            return run_forward(solve, y0)[0]
        return _RecursiveSolve.apply(self, solve, len(y0), *y0, *params)

    def __repr__(self) -> str:
        return f"Recursive(snapshots={self.snapshots})"


class _Reverser:
    """Reverses steps ``[a, b)`` given the state at ``a``; accumulates the adjoint."""

    def __init__(
        self, ctx: Any, solve: DiscreteSolve, grad_outputs: Sequence[Tensor | None]
    ) -> None:
        self.solve = solve
        self.params = [p for p in ctx.params if p.requires_grad]
        self.output_grads = OutputGradients(solve, grad_outputs)
        self.param_grads: list[Tensor | None] = [None] * len(self.params)
        self.live = 0
        self.peak = 0

    def advance(
        self, state: State, rng: RandomState, a: int, b: int
    ) -> tuple[State, RandomState]:
        """The state at ``b`` from the state at ``a`` (no graph), and the RNG state there."""
        rng.restore()
        with torch.no_grad():
            for n in range(a, b):
                state = self.solve.step(n, state)
        return state, RandomState(state)

    def reverse_step(
        self, n: int, state: State, rng: RandomState, adjoint: list[Tensor | None]
    ) -> list[Tensor | None]:
        """Back-propagate ``adjoint`` (at ``n + 1``) through step ``n``."""
        rng.restore()
        with torch.enable_grad():
            x = requires_grad_copy(state)
            out = self.solve.step(n, x)
        pairs = [(o, g) for o, g in zip(out, adjoint) if g is not None and o.requires_grad]
        if not pairs:
            return [None] * len(state)
        wrt = [*x, *self.params]
        grads = torch.autograd.grad(
            [o for o, _ in pairs], wrt, [g for _, g in pairs], allow_unused=True
        )
        for i, g in enumerate(grads[len(x) :]):
            if g is not None:
                self.param_grads[i] = g if self.param_grads[i] is None else self.param_grads[i] + g
        return list(grads[: len(x)])

    def reverse(
        self,
        a: int,
        b: int,
        state: State,
        rng: RandomState,
        adjoint: list[Tensor | None],
        budget: int | None,
    ) -> list[Tensor | None]:
        """Adjoint at ``a`` from the adjoint at ``b``, holding at most ``budget`` more snapshots."""
        if b - a == 1:
            return self.output_grads.add(self.reverse_step(a, state, rng, adjoint), a)
        if budget == 0:
            # No snapshot left: recompute each step of the segment from its start.
            for n in reversed(range(a, b)):
                mid_state, mid_rng = self.advance(state, rng, a, n)
                adjoint = self.output_grads.add(self.reverse_step(n, mid_state, mid_rng, adjoint), n)
            return adjoint
        m = (a + b) // 2
        mid_state, mid_rng = self.advance(state, rng, a, m)
        self.live += 1
        self.peak = max(self.peak, self.live)
        left_budget = None if budget is None else budget - 1
        adjoint = self.reverse(m, b, mid_state, mid_rng, adjoint, left_budget)
        del mid_state
        self.live -= 1
        return self.reverse(a, m, state, rng, adjoint, budget)


class _RecursiveSolve(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx: Any, strategy: Recursive, solve: DiscreteSolve, n_state: int, *inputs: Tensor
    ) -> State:
        y0, params = inputs[:n_state], inputs[n_state:]
        ctx.strategy, ctx.solve, ctx.params = strategy, solve, params
        ctx.unchanged = UnchangedSinceForward(solve, inputs)
        ctx.rng = RandomState(y0)
        ctx.autocast = AutocastState()
        ctx.save_for_backward(*y0)
        return run_forward(solve, y0)[0]

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Tensor | None) -> tuple[Tensor | None, ...]:
        ctx.unchanged.check()
        solve: DiscreteSolve = ctx.solve
        y0 = tuple(ctx.saved_tensors)
        reverser = _Reverser(ctx, solve, grad_outputs)
        adjoint = reverser.output_grads.add([None] * len(y0), solve.n_steps)
        with replayed(ctx.rng, ctx.autocast), restored(solve.buffers()):
            adjoint = reverser.reverse(
                0, solve.n_steps, y0, ctx.rng, adjoint, ctx.strategy.snapshots
            )
        ctx.strategy.peak_snapshots = reverser.peak
        grads_p = iter(reverser.param_grads)
        param_grads = [next(grads_p) if p.requires_grad else None for p in ctx.params]
        y_grads = [
            g if need else None for g, need in zip(adjoint, ctx.needs_input_grad[3 : 3 + len(y0)])
        ]
        return (None, None, None, *y_grads, *param_grads)
