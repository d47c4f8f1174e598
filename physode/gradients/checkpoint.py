"""ANODE's discretize-then-optimize gradient with checkpointing.

The forward pass stores only the solve's input. Backward recomputes the trajectory from it (same
random numbers, same autocast, BatchNorm statistics left as the forward pass set them) and runs
one backward sweep through the discrete solver, so gradients are exactly those of
:class:`~physode.gradients.Backprop`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from physode.gradients.base import (
    AutocastState,
    DiscreteSolve,
    GradientStrategy,
    RandomState,
    State,
    UnchangedSinceForward,
    replayed,
    requires_grad_copy,
    restored,
    run_forward,
)


class Checkpoint(GradientStrategy):
    """Exact gradients; stores the block input only, recomputes the trajectory in backward."""

    name = "checkpoint"

    def integrate(self, solve: DiscreteSolve, y0: State, params: Sequence[Tensor]) -> State:
        if not torch.is_grad_enabled():
            return run_forward(solve, y0)[0]
        return _CheckpointedSolve.apply(solve, len(y0), *y0, *params)


class _CheckpointedSolve(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, solve: DiscreteSolve, n_state: int, *inputs: Tensor) -> State:
        y0, params = inputs[:n_state], inputs[n_state:]
        ctx.solve = solve
        ctx.unchanged = UnchangedSinceForward(solve, inputs)
        ctx.params = params  # parameters live in the module anyway: nothing new is kept alive
        ctx.rng = RandomState(y0)
        ctx.autocast = AutocastState()
        ctx.save_for_backward(*y0)
        return run_forward(solve, y0)[0]

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Tensor) -> tuple[Tensor | None, ...]:
        ctx.unchanged.check()
        solve: DiscreteSolve = ctx.solve
        y0 = ctx.saved_tensors
        # Buffers are restored only after the backward sweep: BatchNorm saves them for backward.
        with replayed(ctx.rng, ctx.autocast), restored(solve.buffers()):
            with torch.enable_grad():
                y = requires_grad_copy(y0, ctx.needs_input_grad[2 : 2 + len(y0)])
                outputs = run_forward(solve, y)[0]
            pairs = [
                (o, g) for o, g in zip(outputs, grad_outputs) if g is not None and o.requires_grad
            ]
            wrt = [*y, *ctx.params]
            wanted = [i for i, w in enumerate(wrt) if w.requires_grad]
            grads: list[Tensor | None] = [None] * len(wrt)
            if pairs and wanted:
                found = torch.autograd.grad(
                    [o for o, _ in pairs],
                    [wrt[i] for i in wanted],
                    [g for _, g in pairs],
                    allow_unused=True,
                )
                for i, g in zip(wanted, found):
                    grads[i] = g
        return (None, None, *grads)
