"""The continuous adjoint of Neural ODE (Chen et al. 2018): optimize-then-discretize.

Backward solves the adjoint equations in reverse time together with the state itself, so memory
is O(1) in the number of steps. For a coupled block this gives the adjoints of both z and w
(ANODEV2 Eq. 7a-7e). The result approximates the gradient of the continuous problem, not of the
discrete forward map, and the reverse-time state reconstruction can be unstable: for a diffusive
weight evolution (``SpectralRDA`` with diffusion) it is an ill-posed backward heat equation.
Use it to compare; use :class:`~physode.gradients.Checkpoint` for exact gradients.
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
    OutputGradients,
    RandomState,
    State,
    replayed,
    requires_grad_copy,
    restored,
    run_forward,
)
from physode.steppers import ButcherTableau, StepSizeController, get_method, integrate_adaptive


class Adjoint(GradientStrategy):
    """Approximate gradients from a reverse-time solve of the adjoint equations.

    Args:
        method: stepper for the reverse solve; defaults to the forward solve's method.
        controller: step the reverse solve adaptively between output times with this controller
            (the method must be an embedded pair) instead of on the forward grid.
    """

    name = "adjoint"

    def __init__(
        self, method: str | ButcherTableau | None = None, controller: StepSizeController | None = None
    ) -> None:
        self.method = None if method is None else get_method(method)
        self.controller = controller

    def integrate(self, solve: DiscreteSolve, y0: State, params: Sequence[Tensor]) -> State:
        if not torch.is_grad_enabled():
            return run_forward(solve, y0)[0]
        tableau = self.method or solve.tableau
        return _AdjointSolve.apply(solve, tableau, self.controller, len(y0), *y0, *params)

    def __repr__(self) -> str:
        return f"Adjoint(method={self.method.name if self.method else None!r}, controller={self.controller})"


class _AdjointSolve(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx: Any,
        solve: DiscreteSolve,
        tableau: ButcherTableau,
        controller: StepSizeController | None,
        n_state: int,
        *inputs: Tensor,
    ) -> State:
        y0, params = inputs[:n_state], inputs[n_state:]
        ctx.solve, ctx.tableau, ctx.controller, ctx.params = solve, tableau, controller, params
        ctx.rng = RandomState(y0)
        ctx.autocast = AutocastState()
        outputs, final = run_forward(solve, y0)
        ctx.save_for_backward(*final)
        return outputs

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Tensor | None) -> tuple[Tensor | None, ...]:
        solve: DiscreteSolve = ctx.solve
        params = [p for p in ctx.params if p.requires_grad]
        y = tuple(ctx.saved_tensors)
        k = len(y)
        adj_y = tuple(torch.zeros_like(s) for s in y)
        adj_p = tuple(torch.zeros_like(p) for p in params)
        output_grads = OutputGradients(solve, grad_outputs)

        def augmented(t: float, s: State) -> State:
            state, adjoint = s[:k], s[k : 2 * k]
            with torch.enable_grad():
                state = requires_grad_copy(state)
                rate = solve.vector_field(t, state)
                # Constant rates (a static weight's zero) carry no gradient.
                tracked = [(r, a) for r, a in zip(rate, adjoint) if r.requires_grad]
                vjps = torch.autograd.grad(
                    [r for r, _ in tracked],
                    (*state, *params),
                    [a for _, a in tracked],
                    allow_unused=True,
                )
            vjps = tuple(
                torch.zeros_like(x) if v is None else v for v, x in zip(vjps, (*state, *params))
            )
            return (*(r.detach() for r in rate), *(-v for v in vjps))

        adj_y = tuple(output_grads.add(adj_y, solve.n_steps))
        with replayed(ctx.rng, ctx.autocast), restored(solve.buffers()):
            for lo, grid in reversed(_reverse_segments(solve, ctx.controller)):
                s = (*y, *adj_y, *adj_p)
                if ctx.controller is None:
                    for hi_t, lo_t in zip(reversed(grid[1:]), reversed(grid[:-1])):
                        s = ctx.tableau.step(augmented, hi_t, lo_t - hi_t, s)
                else:  # its own adaptive reverse solve
                    s = integrate_adaptive(augmented, ctx.tableau, grid[::-1], s, ctx.controller).states[-1]
                y, adj_y, adj_p = s[:k], s[k : 2 * k], s[2 * k :]
                adj_y = tuple(output_grads.add(adj_y, lo))
        grads_p = iter(adj_p)
        param_grads = [next(grads_p) if p.requires_grad else None for p in ctx.params]
        y_grads = [a if need else None for a, need in zip(adj_y, ctx.needs_input_grad[4 : 4 + k])]
        return (None, None, None, None, *y_grads, *param_grads)


def _reverse_segments(
    solve: DiscreteSolve, controller: StepSizeController | None
) -> list[tuple[int, Sequence[float]]]:
    """The reverse solve's pieces as (grid index of the lower end, ascending times): each forward
    step on its reverse grid, or with a controller, each stretch between output times."""
    if controller is None:
        return [(n, solve.reverse_grid(n)) for n in range(solve.n_steps)]
    bounds = sorted({0, *solve.outputs, solve.n_steps})
    return [(lo, (solve.times[lo], solve.times[hi])) for lo, hi in zip(bounds, bounds[1:])]
