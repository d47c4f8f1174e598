"""``odeint`` and ``odesolve``: the torchdiffeq-familiar functional entry points.

A fixed-step method steps on the given times (or a grid of at most ``step_size``). An embedded
pair (``"dopri5"``, ``"bosh3"``) without ``step_size`` steps adaptively: the forward pass records
the accepted grid, and the gradient is that of the accepted discrete solve (``backprop``
differentiates the recorded steps themselves; ``checkpoint`` and ``recursive`` replay the grid;
``adjoint`` takes the search as its forward pass, without a replay, and runs its own adaptive
reverse-time solve at the same tolerances).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from physode.errors import InputError
from physode.gradients import Adjoint, Backprop, GradientStrategy, get_gradient
from physode.gradients.base import ContinuousDynamics, DiscreteSolve, State, restored
from physode.grids import as_times, grid_with_step_size
from physode.steppers import (
    AdaptiveSolution,
    Stepper,
    StepSizeController,
    compiled_stepper,
    get_method,
    integrate_adaptive,
)


class _FunctionSolve(DiscreteSolve, ContinuousDynamics):
    """``dy/dt = func(t, y)`` on a fixed grid with a stepper (a solve that is also its own
    continuous dynamics)."""

    def __init__(
        self,
        func: Callable[[float, Tensor], Tensor],
        grid: Sequence[float],
        outputs: Sequence[int],
        stepper: Stepper,
        forward_states: Sequence[State] | None = None,
    ) -> None:
        self.func = func
        self.times = grid
        self.outputs = outputs
        self.stepper = stepper
        self.forward_states = forward_states

    @property
    def steps_per_call(self) -> int:
        return self.stepper.steps_per_call

    def step(self, n: int, state: State) -> State:
        t = self.times[n]
        return (self.stepper.step(self.func, t, self.times[n + 1] - t, state[0]),)

    def steps(self, n: int, m: int, state: State) -> list[State]:
        return [(y,) for y in self.stepper.steps(self.func, self.times[n : m + 1], state[0])]

    def dynamics(self) -> ContinuousDynamics:
        return self

    def vector_field(self, t: float, state: State) -> State:
        return (self.func(t, state[0]),)

    def reverse_grid(self, n: int) -> Sequence[float]:
        return (self.times[n], self.times[n + 1])

    def buffers(self) -> Sequence[Tensor]:
        return tuple(self.func.buffers()) if isinstance(self.func, nn.Module) else ()

    def training_modes(self) -> tuple[bool, ...]:
        return tuple(m.training for m in self.func.modules()) if isinstance(self.func, nn.Module) else ()


@dataclass(frozen=True)
class ODESolution:
    """The result of :func:`odesolve`."""

    #: ``y`` at each requested time, shape ``(len(t), *y0.shape)``.
    ys: Tensor
    #: The grid the solution was stepped on (for an adaptive solve: the accepted steps).
    grid: tuple[float, ...]
    #: Evaluations of ``func`` by the forward solve (adaptive: trial steps and first-step
    #: selection; a strategy's replay of the accepted grid is not counted).
    nfe: int
    n_accepted: int
    n_rejected: int


def adaptive_controller(
    stepper: Stepper, rtol: float | None, atol: float | None, steps: int = 1, weight_steps: int | None = None
) -> StepSizeController | None:
    """The controller a block asks for with ``rtol``/``atol`` (``None``: fixed steps)."""
    if rtol is None and atol is None:
        return None
    if not stepper.embedded:
        raise InputError(
            f"rtol/atol need an adaptive method, but {stepper.name!r} has no error estimate: "
            "use method='dopri5' or 'bosh3', or drop the tolerances"
        )
    if steps != 1 or weight_steps is not None:
        raise InputError("steps/weight_steps set fixed grids: give them or rtol/atol, not both")
    defaults = StepSizeController()
    return StepSizeController(defaults.rtol if rtol is None else rtol, defaults.atol if atol is None else atol)


def accepted_grid(
    solve: DiscreteSolve,
    times: Sequence[float],
    y0: tuple[Tensor, ...],
    stepper: Stepper,
    controller: StepSizeController,
    *,
    as_forward: bool = False,
) -> AdaptiveSolution:
    """Search the accepted grid of ``solve``'s continuous dynamics through ``times`` without a
    graph, for a gradient strategy to run the discrete solve on.

    By default the search has no side effects (module buffers restored, the caller's RNG stream
    untouched) and keeps no states: the strategy's replay is the forward pass. ``as_forward``
    makes the search the forward pass itself, for a strategy that does not replay the grid (the
    adjoint): buffers and the RNG stream advance as in any forward pass, and the states at
    ``times`` are kept.
    """
    dynamics = solve.dynamics()
    if dynamics is None:
        raise InputError(
            "adaptive stepping controls the error of continuous dynamics, and this solve has none "
            "(e.g. sigma re-applied after every weight step): use fixed steps"
        )
    devices = sorted({t.device.index or 0 for t in y0 if t.is_cuda})
    isolated = contextlib.ExitStack()
    if not as_forward:
        isolated.enter_context(torch.random.fork_rng(devices=devices))
        isolated.enter_context(restored(solve.buffers()))
    with torch.no_grad(), isolated:
        found = integrate_adaptive(dynamics.vector_field, stepper, times, y0, controller)
    if not as_forward:
        found.states = []  # the replay recomputes them with the strategy's graph
    return found


def odesolve(
    func: Callable[[float, Tensor], Tensor],
    y0: Tensor,
    t: Tensor | Sequence[float],
    *,
    method: str | Stepper = "rk4",
    grad: str | GradientStrategy = "backprop",
    step_size: float | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    controller: StepSizeController | None = None,
    params: Sequence[Tensor] | None = None,
    compile: bool = False,
) -> ODESolution:
    """Solve ``dy/dt = func(t, y)``, ``y(t[0]) = y0``; return ``y`` at each ``t`` and statistics.

    Args:
        func: the vector field, called as ``func(t, y)`` with ``t`` a Python float.
        y0: initial state, any shape, dtype and device.
        t: strictly increasing output times; the first is the initial time.
        method: ``"euler"``, ``"midpoint"``, ``"heun"``, ``"rk4"`` (fixed steps), ``"bosh3"``,
            ``"dopri5"`` (adaptive unless ``step_size`` is given), ``"ifrk4"`` (fixed steps of a
            ``func`` given as a :class:`~physode.steppers.SemilinearField`) or a ``Stepper`` (e.g. a
            ``ButcherTableau``).
        grad: ``"backprop"``, ``"checkpoint"``, ``"recursive"``, ``"adjoint"`` or a
            ``GradientStrategy``.
        step_size: largest fixed step; by default one step per interval of ``t`` (fixed-step
            methods) or adaptive steps (embedded pairs).
        rtol, atol: tolerances of adaptive stepping (defaults ``1e-7``, ``1e-9``, as
            torchdiffeq's); shorthand for ``controller=StepSizeController(rtol, atol)``.
        controller: full control of adaptive stepping (first step, ``dt_min``, ``max_steps``).
        params: tensors to differentiate with respect to under ``checkpoint``, ``recursive`` and
            ``adjoint``; defaults to ``func.parameters()`` when ``func`` is an ``nn.Module``.
            (``backprop`` reaches every tensor ``func`` uses.)
        compile: run fixed steps (``func`` and the stage loop) through ``torch.compile``
            (:class:`~physode.steppers.CompiledStepper`), 25 steps per compiled call: the same
            results to float round-off. On ``benchmarks/perf``'s small field a training step
            then costs about a third of torchdiffeq's per step (eager: 0.6x), after about a
            minute of compiling on a CPU, hence off by default. Falls back to eager steps with a
            warning where compilation fails.

    Raises:
        InputError: bad arguments, e.g. tolerances for a method without an error estimate.
        SolverError: an adaptive solve could not reach ``t[-1]``; the message names where.
    """
    if not isinstance(y0, Tensor):
        raise InputError(f"y0 must be a torch.Tensor, got {type(y0).__name__}")
    if not y0.is_floating_point():
        raise InputError(f"y0 must be floating point, got dtype {y0.dtype}")
    times = as_times(t)
    stepper = compiled_stepper(get_method(method)) if compile else get_method(method)
    strategy = get_gradient(grad)
    if params is None:
        params = tuple(func.parameters()) if isinstance(func, nn.Module) else ()
    params = tuple(p for p in params if p.requires_grad)
    tolerances = rtol is not None or atol is not None or controller is not None
    if tolerances and not stepper.embedded:
        raise InputError(
            f"rtol/atol/controller need an adaptive method, but {stepper.name!r} has no error "
            "estimate: use method='dopri5' or 'bosh3', or drop the tolerances"
        )
    if tolerances and step_size:
        raise InputError("give either step_size (fixed steps) or rtol/atol (adaptive), not both")
    if not stepper.embedded or step_size:
        grid, outputs = grid_with_step_size(times, step_size) if step_size else (times, range(len(times)))
        solve = _FunctionSolve(func, grid, list(outputs), stepper)
        strategy.check(solve)
        ys = strategy.integrate(solve, (y0,), params)[0]
        nfe = stepper.evaluations * solve.n_steps
        return ODESolution(ys, tuple(grid), nfe, solve.n_steps, 0)
    if controller is None:
        controller = adaptive_controller(stepper, rtol, atol) or StepSizeController()
    elif rtol is not None or atol is not None:
        raise InputError("give either rtol/atol or a controller (which has its own), not both")
    # Backprop differentiates the search itself: its step sizes are Python floats, so the graph
    # is exactly that of the accepted discrete solve. The others replay the accepted grid.
    if isinstance(strategy, Backprop) or not torch.is_grad_enabled():
        found = integrate_adaptive(func, stepper, times, y0, controller)
        ys = torch.stack(found.states)
    else:
        if isinstance(strategy, Adjoint) and strategy.controller is None:
            strategy = Adjoint(strategy.method, controller=controller)
        dynamics = _FunctionSolve(func, times, range(len(times)), stepper)
        as_forward = not strategy.replays_adaptive_grid
        found = accepted_grid(dynamics, times, (y0,), stepper, controller, as_forward=as_forward)
        solve = _FunctionSolve(func, found.grid, found.outputs, stepper, found.states if as_forward else None)
        strategy.check(solve)
        ys = strategy.integrate(solve, (y0,), params)[0]
    return ODESolution(ys, tuple(found.grid), found.nfe, found.n_accepted, found.n_rejected)


def odeint(
    func: Callable[[float, Tensor], Tensor],
    y0: Tensor,
    t: Tensor | Sequence[float],
    *,
    method: str | Stepper = "rk4",
    grad: str | GradientStrategy = "backprop",
    step_size: float | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    controller: StepSizeController | None = None,
    params: Sequence[Tensor] | None = None,
    compile: bool = False,
) -> Tensor:
    """``y`` at each ``t``, shape ``(len(t), *y0.shape)``: :func:`odesolve` without statistics.

    Fixed steps with ``"euler"``, ``"midpoint"``, ``"heun"``, ``"rk4"``; adaptive steps with
    ``"dopri5"`` or ``"bosh3"`` and ``rtol``/``atol``. See :func:`odesolve` for every argument.
    """
    return odesolve(
        func, y0, t, method=method, grad=grad, step_size=step_size, rtol=rtol, atol=atol,
        controller=controller, params=params, compile=compile,
    ).ys


__all__ = ["ODESolution", "accepted_grid", "adaptive_controller", "odeint", "odesolve"]
