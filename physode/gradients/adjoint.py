"""The continuous adjoint of Neural ODE (Chen et al. 2018): optimize-then-discretize.

Backward solves the adjoint equations in reverse time together with the state itself. For a
coupled block this gives the adjoints of both z and w (ANODEV2 Eq. 7a-7e). The result
approximates the gradient of the continuous problem, not of the discrete forward map; it
converges to it as the steps shrink. As torchdiffeq does, the reverse solve restarts from the
stored forward state at every output time, so the state is only reconstructed over one output
interval (memory is O(outputs), not O(steps)): reconstructing a stiff decay over a long horizon
from its end would amplify round-off without bound.

Only a solve that offers :class:`~physode.gradients.base.ContinuousDynamics` can be
differentiated this way; others are refused. For a diffusive weight evolution (``SpectralRDA``
with diffusion over spatial axes) the reverse-time weight equation is an ill-posed backward heat
equation: physode warns. Use :class:`~physode.gradients.Checkpoint` for exact gradients.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from physode.errors import InputError
from physode.gradients.base import (
    AutocastState,
    ContinuousDynamics,
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
from physode.steppers import ButcherTableau, get_method


class Adjoint(GradientStrategy):
    """Approximate gradients from a reverse-time solve of the adjoint equations.

    Args:
        method: stepper for the reverse solve; defaults to the forward solve's method.
    """

    name = "adjoint"

    def __init__(self, method: str | ButcherTableau | None = None) -> None:
        self.method = None if method is None else get_method(method)

    def check(self, solve: DiscreteSolve) -> None:
        dynamics = _dynamics(solve)
        if not dynamics.reverse_time_well_posed:
            warnings.warn(
                "the adjoint integrates the weight evolution backwards in time, which is ill-posed "
                "with diffusion (anti-diffusion amplifies high wavenumbers): its gradients may be "
                "inaccurate or blow up; use grad='checkpoint' for exact gradients",
                stacklevel=3,
            )

    def integrate(self, solve: DiscreteSolve, y0: State, params: Sequence[Tensor]) -> State:
        dynamics = _dynamics(solve)
        if not torch.is_grad_enabled():
            return run_forward(solve, y0)[0]
        tableau = self.method or dynamics.tableau
        return _AdjointSolve.apply(solve, dynamics, tableau, len(y0), *y0, *params)

    def __repr__(self) -> str:
        return f"Adjoint(method={self.method.name if self.method else None!r})"


def _dynamics(solve: DiscreteSolve) -> ContinuousDynamics:
    dynamics = solve.dynamics()
    if dynamics is None:
        raise InputError(
            "grad='adjoint' needs continuous dynamics whose flow the steps compute, and this solve "
            "has none (e.g. sigma re-applied after every weight step): use grad='checkpoint' or "
            "grad='recursive'"
        )
    return dynamics


class _AdjointSolve(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx: Any,
        solve: DiscreteSolve,
        dynamics: ContinuousDynamics,
        tableau: ButcherTableau,
        n_state: int,
        *inputs: Tensor,
    ) -> State:
        y0, params = inputs[:n_state], inputs[n_state:]
        ctx.solve, ctx.dynamics, ctx.tableau, ctx.params = solve, dynamics, tableau, params
        ctx.unchanged = UnchangedSinceForward(solve, inputs)
        ctx.rng = RandomState(y0)
        ctx.autocast = AutocastState()
        outputs, final = run_forward(solve, y0)
        # The reverse solve restarts from these: the outputs, and the final state if not one.
        ctx.final_is_output = solve.outputs[-1] == solve.n_steps
        ctx.save_for_backward(*outputs, *(() if ctx.final_is_output else final))
        return outputs

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Tensor | None) -> tuple[Tensor | None, ...]:
        ctx.unchanged.check()
        solve: DiscreteSolve = ctx.solve
        dynamics: ContinuousDynamics = ctx.dynamics
        params = [p for p in ctx.params if p.requires_grad]
        k = len(grad_outputs)
        saved = ctx.saved_tensors
        stored = {index: tuple(s[i] for s in saved[:k]) for i, index in enumerate(solve.outputs)}
        if not ctx.final_is_output:
            stored[solve.n_steps] = tuple(saved[k:])
        y = stored[solve.n_steps]
        adj_y = tuple(torch.zeros_like(s) for s in y)
        adj_p = tuple(torch.zeros_like(p) for p in params)
        output_grads = OutputGradients(solve, grad_outputs)

        def augmented(t: float, s: State) -> State:
            state, adjoint = s[:k], s[k : 2 * k]
            with torch.enable_grad():
                state = requires_grad_copy(state)
                rate = dynamics.vector_field(t, state)
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
            for n in reversed(range(solve.n_steps)):
                y = stored.get(n + 1, y)  # restart from the forward state where it was kept
                grid = dynamics.reverse_grid(n)
                for hi, lo in zip(reversed(grid[1:]), reversed(grid[:-1])):
                    s = ctx.tableau.step(augmented, hi, lo - hi, (*y, *adj_y, *adj_p))
                    y, adj_y, adj_p = s[:k], s[k : 2 * k], s[2 * k :]
                adj_y = tuple(output_grads.add(adj_y, n))
        grads_p = iter(adj_p)
        param_grads = [next(grads_p) if p.requires_grad else None for p in ctx.params]
        y_grads = [a if need else None for a, need in zip(adj_y, ctx.needs_input_grad[4 : 4 + k])]
        return (None, None, None, None, *y_grads, *param_grads)
