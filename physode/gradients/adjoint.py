"""The continuous adjoint of Neural ODE (Chen et al. 2018): optimize-then-discretize.

Backward solves the adjoint equations in reverse time together with the state itself. For a
coupled block this gives the adjoints of both z and w (ANODEV2 Eq. 7a-7e). The result
approximates the gradient of the continuous problem, not of the discrete forward map; it
converges to it as the steps shrink. As torchdiffeq does, the reverse solve restarts from the
stored forward state at every output time, so the state is only reconstructed over one output
interval (memory is O(outputs), not O(steps)): reconstructing a stiff decay over a long horizon
from its end would amplify round-off without bound.

Only a solve whose steps discretize :class:`~physode.gradients.base.ContinuousDynamics` at its
stepper's order can be differentiated this way; others are refused when the block is built (a
per-step sigma, endpoint alignment, a memory kernel above second order). For a diffusive weight
evolution (``SpectralRDA`` with diffusion over spatial axes) the reverse-time weight equation is
an ill-posed backward heat equation: physode warns when the block is built. Where the reverse
solve is unstable or under-resolved for the values at hand (e.g. strongly evolving ``Neural``
weights, whose gradient error was still 6.5e-2 at 160 RK4 steps), its state drifts from the
stored forward states it restarts from: backward measures that drift and warns past
:data:`DRIFT_LIMIT`. Use :class:`~physode.gradients.Checkpoint` for exact gradients.
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
from physode.steppers import Stepper, StepSizeController, get_method, integrate_adaptive


class Adjoint(GradientStrategy):
    """Approximate gradients from a reverse-time solve of the adjoint equations.

    Args:
        method: stepper for the reverse solve; defaults to the forward solve's method.
        controller: step the reverse solve adaptively between output times with this controller
            (the method must be an embedded pair) instead of on the forward grid.
    """

    name = "adjoint"
    replays_adaptive_grid = False

    def __init__(
        self, method: str | Stepper | None = None, controller: StepSizeController | None = None
    ) -> None:
        self.method = None if method is None else get_method(method)
        if self.method is not None and self.method.semilinear:
            raise InputError(_SEMILINEAR.format(name=self.method.name))
        self.controller = controller

    def check(self, solve: DiscreteSolve) -> None:
        dynamics = _dynamics(solve)
        if self.method is None and dynamics.stepper.semilinear:
            raise InputError(_SEMILINEAR.format(name=dynamics.stepper.name))
        if dynamics.mismatch is not None:
            raise InputError(
                f"grad='adjoint' differentiates the continuous equations, and {dynamics.mismatch}: "
                "use grad='checkpoint' or grad='recursive' for the exact gradient"
            )
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
            return _forward(solve, y0)[0]
        stepper = self.method or dynamics.stepper
        return _AdjointSolve.apply(solve, dynamics, stepper, self.controller, len(y0), *y0, *params)

    def __repr__(self) -> str:
        return f"Adjoint(method={self.method.name if self.method else None!r}, controller={self.controller})"


_SEMILINEAR = (
    "grad='adjoint' integrates its adjoint equations, one vector field not split into a linear part "
    "and the rest, and method {name!r} only steps fields split as dy/dt = L y + N(t, y): pass "
    "physode.Adjoint(method='rk4') for the reverse solve, or use grad='checkpoint'"
)


#: The reverse solve's largest relative distance from a stored forward state before backward warns.
#: Measured on strongly evolving Neural weights (RK4, 10-320 steps): past it the gradient's relative
#: error was 5e-3 to 0.6, below it at most 1.2e-3.
DRIFT_LIMIT = 1e-3
_DRIFTED = (
    "the adjoint's reverse-time solve did not retrace the forward pass (its state drifted more than "
    f"{DRIFT_LIMIT:g} relative from a stored forward state): the reverse-time equations are unstable "
    "or under-resolved here (e.g. strongly evolving Neural weights), so its gradient may be far off; "
    "use grad='checkpoint' or grad='recursive' for the exact gradient, or more steps"
)


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
        stepper: Stepper,
        controller: StepSizeController | None,
        n_state: int,
        *inputs: Tensor,
    ) -> State:
        y0, params = inputs[:n_state], inputs[n_state:]
        ctx.solve, ctx.dynamics, ctx.stepper, ctx.params = solve, dynamics, stepper, params
        ctx.controller = controller
        ctx.unchanged = UnchangedSinceForward(solve, inputs)
        ctx.rng = RandomState(y0)
        ctx.autocast = AutocastState()
        outputs, final = _forward(solve, y0)
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
        drift = y[0].new_zeros((), dtype=torch.float64)
        with replayed(ctx.rng, ctx.autocast), restored(solve.buffers()):
            for lo, hi, grid in reversed(_reverse_segments(solve, dynamics, ctx.controller)):
                if hi in stored and hi != solve.n_steps:
                    drift = torch.maximum(drift, _relative_gap(y, stored[hi]))
                y = stored.get(hi, y)  # restart from the forward state where it was kept
                s = (*y, *adj_y, *adj_p)
                if ctx.controller is None:
                    for hi_t, lo_t in zip(reversed(grid[1:]), reversed(grid[:-1])):
                        s = ctx.stepper.step(augmented, hi_t, lo_t - hi_t, s)
                else:  # its own adaptive reverse solve
                    s = integrate_adaptive(augmented, ctx.stepper, grid[::-1], s, ctx.controller).states[-1]
                y, adj_y, adj_p = s[:k], s[k : 2 * k], s[2 * k :]
                adj_y = tuple(output_grads.add(adj_y, lo))
        if 0 in stored:
            drift = torch.maximum(drift, _relative_gap(y, stored[0]))
        if drift.item() > DRIFT_LIMIT:  # one synchronisation per backward
            warnings.warn(_DRIFTED, stacklevel=2)
        grads_p = iter(adj_p)
        param_grads = [next(grads_p) if p.requires_grad else None for p in ctx.params]
        y_grads = [a if need else None for a, need in zip(adj_y, ctx.needs_input_grad[5 : 5 + k])]
        return (None, None, None, None, None, *y_grads, *param_grads)


def _forward(solve: DiscreteSolve, y0: State) -> tuple[State, State]:
    """The output states (stacked) and the final state: an adaptive search's, when it was the
    forward pass, else from running the steps."""
    if solve.forward_states is None:
        return run_forward(solve, y0)
    states = solve.forward_states
    return tuple(torch.stack(parts) for parts in zip(*states)), states[-1]


def _relative_gap(reconstructed: State, forward: State) -> Tensor:
    """The largest relative distance, over the state's components, of the reverse solve's
    reconstruction from the forward pass's state."""
    gaps = [
        (a - b).double().norm() / b.double().norm().clamp_min(torch.finfo(torch.float64).tiny)
        for a, b in zip(reconstructed, forward)
    ]
    return torch.stack(gaps).max()


def _reverse_segments(
    solve: DiscreteSolve, dynamics: ContinuousDynamics, controller: StepSizeController | None
) -> list[tuple[int, int, Sequence[float]]]:
    """The reverse solve's pieces as (grid indices of the lower and upper end, ascending times):
    each forward step on its reverse grid, or with a controller, each stretch between outputs."""
    if controller is None:
        return [(n, n + 1, dynamics.reverse_grid(n)) for n in range(solve.n_steps)]
    bounds = sorted({0, *solve.outputs, solve.n_steps})
    return [(lo, hi, (solve.times[lo], solve.times[hi])) for lo, hi in zip(bounds, bounds[1:])]
