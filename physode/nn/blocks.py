"""ODE blocks: a residual branch ``f`` turned into ``dz/dt = f(z, theta(t))``.

:class:`CoupledODEBlock` is ANODEV2: chosen parameters of ``f`` evolve in time by their own ODE
``dw/dt = q(w; p)`` and ``f`` is applied with the evolved values (``torch.func.functional_call``),
so an existing residual branch becomes a coupled block without being rewritten.
:class:`ODEBlock` is the static special case (Neural ODE / ANODE).

The activation ``z`` and the weights may live on different grids (``steps`` and
``weight_steps``): each stage of the ``z`` stepper sees ``theta`` at its own stage time, obtained
by evolving the weights from the last point of their grid by the remaining fraction of a step.
Equal grids give configuration one of the paper, ``steps=2, weight_steps=10`` configuration two.
"""

from __future__ import annotations

import bisect
import copy
import warnings
from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn
from torch.func import functional_call

from physode.errors import InputError
from physode.evolution import Dirac, EvolutionOperator, SpectralRDA, TimeKernel
from physode.gradients import GradientStrategy, get_gradient
from physode.gradients.adjoint import Adjoint
from physode.gradients.base import DiscreteSolve, State
from physode.grids import as_times, check_steps, subdivide
from physode.integrate import accepted_grid, adaptive_controller
from physode.steppers import AdaptiveSolution, ButcherTableau, get_method


class CoupledODEBlock(nn.Module):
    """ANODEV2 block: ``dz/dt = f(z, theta(t))``, ``dw/dt = q(w; p)``, ``theta = K * w``.

    Args:
        f: the residual branch, any ``nn.Module`` called as ``f(z)`` (or ``f(t, z)``).
        evolve: names of ``f``'s parameters that evolve in time (``dict(f.named_parameters())``
            keys), or a mapping from those names to their own operators.
        operator: the evolution operator for every name in ``evolve`` (each weight gets its own
            bound copy); default :class:`~physode.evolution.SpectralRDA`.
        t1: final time (the block integrates over ``[0, t1]``).
        steps: ``z`` steps over ``[0, t1]``, or per output interval when ``forward`` is given
            ``times``.
        weight_steps: weight steps on the same span (default: ``steps``).
        method: Runge-Kutta method, e.g. ``"euler"`` (a ResNet step), ``"rk4"``.
        grad: ``"checkpoint"`` (exact, low memory), ``"backprop"`` or ``"adjoint"``.
        kernel: time kernel ``K``; default :class:`~physode.evolution.Dirac` (``theta = w``).
        time_input: call ``f(t, z)`` instead of ``f(z)``.
        rtol, atol: step adaptively with an embedded pair (``method="dopri5"`` or ``"bosh3"``)
            instead of ``steps`` equal steps; each forward pass first finds the accepted grid
            (without a graph, statistics in ``self.stats``), then the gradient strategy runs on it.
    """

    def __init__(
        self,
        f: nn.Module,
        evolve: Sequence[str] | Mapping[str, EvolutionOperator] = (),
        operator: EvolutionOperator | None = None,
        *,
        t1: float = 1.0,
        steps: int = 1,
        weight_steps: int | None = None,
        method: str | ButcherTableau = "euler",
        grad: str | GradientStrategy = "checkpoint",
        kernel: TimeKernel | None = None,
        time_input: bool = False,
        rtol: float | None = None,
        atol: float | None = None,
    ) -> None:
        super().__init__()
        self.f = f
        if isinstance(evolve, str):
            evolve = [evolve]
        if isinstance(evolve, Mapping):
            if operator is not None:
                raise InputError("give either a mapping of operators or `operator`, not both")
            operators = dict(evolve)
        else:
            template = SpectralRDA() if operator is None else operator
            operators = {name: copy.deepcopy(template) for name in evolve}
        named = dict(f.named_parameters())
        for name, op in operators.items():
            if name not in named:
                raise InputError(
                    f"{type(f).__name__} has no parameter {name!r} to evolve; "
                    f"its parameters are {sorted(named)}"
                )
            if not isinstance(op, EvolutionOperator):
                raise InputError(f"operator for {name!r} must be an EvolutionOperator, got {op!r}")
            op.bind(named[name].detach())
        self.evolved = tuple(operators)
        # ModuleDict keys may not contain dots; keep the mapping by position.
        self.operators = nn.ModuleList(operators.values())
        self.kernel = Dirac() if kernel is None else kernel
        if not t1 > 0:
            raise InputError(f"t1 must be > 0, got {t1!r}")
        self.t1 = float(t1)
        self.steps = check_steps(steps)
        self.weight_steps = None if weight_steps is None else check_steps(weight_steps, name="weight_steps")
        self.method = get_method(method)
        self.grad = get_gradient(grad)
        self.time_input = time_input
        self.controller = adaptive_controller(self.method, rtol, atol, steps, weight_steps)
        if self.controller is not None and isinstance(self.grad, Adjoint) and self.grad.controller is None:
            self.grad = Adjoint(self.grad.method, controller=self.controller)
        #: The last adaptive forward pass's search: nfe, accepted and rejected steps, grid.
        self.stats: AdaptiveSolution | None = None
        if isinstance(self.grad, Adjoint) and not all(
            op.reverse_time_well_posed for op in self.operators
        ):
            warnings.warn(
                "the adjoint integrates the weight evolution backwards in time, which is ill-posed "
                "with diffusion (anti-diffusion amplifies high wavenumbers): its gradients may be "
                "inaccurate or blow up; use grad='checkpoint' for exact gradients",
                stacklevel=2,
            )

    def forward(self, z: Tensor, times: Tensor | Sequence[float] | None = None) -> Tensor:
        """``z(t1)``; or, given increasing ``times``, ``z`` at each of them, stacked on dim 0."""
        state0 = (z, *self._initial_weight_state())
        solve = self._solve(times, state0)
        zs = self.grad.integrate(solve, state0, self._trained_params())[0]
        return zs[-1] if times is None else zs

    def weight_trajectory(
        self,
        times: Tensor | Sequence[float],
        output_times: Tensor | Sequence[float] | None = None,
    ) -> dict[str, Tensor]:
        """The applied weights ``theta`` at ``times``, per evolved name, computed without ``z``.

        The weights follow exactly the path a forward pass takes: ``forward(z)`` (on
        ``[0, t1]``) by default, or ``forward(z, times=output_times)``. For figures such as a
        kernel evolving in depth; ``times`` must lie within that span.
        """
        solve = self._solve(output_times)
        sample_times = [float(t) for t in times]
        start, end = solve.weight_grid[0], solve.weight_grid[-1]
        outside = [t for t in sample_times if not start - solve.eps <= t <= end + solve.eps]
        if outside:
            raise InputError(f"times {outside} lie outside the block's span [{start}, {end}]")
        path = _WeightPath(solve, 0, self._initial_weight_state())
        thetas = [path.theta_at(t) for t in sample_times]
        return {name: torch.stack([th[i] for th in thetas]) for i, name in enumerate(self.evolved)}

    def _solve(self, times: Tensor | Sequence[float] | None, state0: State | None = None) -> _CoupledSolve:
        out_times = [0.0, self.t1] if times is None else as_times(times, name="times")
        if self.controller is not None:
            if state0 is None:
                raise InputError("an adaptive block's grid depends on its input: use fixed steps for weight_trajectory")
            dynamics = _CoupledSolve(self, out_times, range(len(out_times)), out_times)
            self.stats = accepted_grid(dynamics, out_times, state0, self.method, self.controller)
            return _CoupledSolve(self, self.stats.grid, self.stats.outputs, self.stats.grid)
        grid, outputs = subdivide(out_times, self.steps)
        weight_grid = grid if self.weight_steps is None else subdivide(out_times, self.weight_steps)[0]
        return _CoupledSolve(self, grid, outputs, weight_grid)

    def _initial_weight_state(self) -> list[Tensor]:
        named = dict(self.f.named_parameters())
        weights = [named[name] for name in self.evolved]
        return weights + (weights if self.kernel.has_memory else [])

    def _trained_params(self) -> tuple[Tensor, ...]:
        evolved = {f"f.{name}" for name in self.evolved}
        return tuple(
            p for name, p in self.named_parameters() if p.requires_grad and name not in evolved
        )

    def extra_repr(self) -> str:
        return (
            f"evolve={list(self.evolved)}, t1={self.t1}, steps={self.steps}, "
            f"weight_steps={self.weight_steps}, method={self.method.name!r}, grad={self.grad!r}"
            + ("" if self.controller is None else f", rtol={self.controller.rtol}, atol={self.controller.atol}")
        )


class ODEBlock(CoupledODEBlock):
    """Neural ODE / ANODE block with static weights: ``dz/dt = f(z)`` on ``[0, t1]``.

    Args:
        f: the residual branch, called as ``f(z)`` (or ``f(t, z)`` with ``time_input``).
        t1, steps, method, grad, time_input, rtol, atol: as for :class:`CoupledODEBlock`.
    """

    def __init__(
        self,
        f: nn.Module,
        *,
        t1: float = 1.0,
        steps: int = 1,
        method: str | ButcherTableau = "euler",
        grad: str | GradientStrategy = "checkpoint",
        time_input: bool = False,
        rtol: float | None = None,
        atol: float | None = None,
    ) -> None:
        super().__init__(
            f, (), t1=t1, steps=steps, method=method, grad=grad, time_input=time_input, rtol=rtol, atol=atol
        )


class _CoupledSolve(DiscreteSolve):
    """The block's solve; state ``(z, w_1..w_m[, theta_1..theta_m])``."""

    def __init__(
        self,
        block: CoupledODEBlock,
        grid: Sequence[float],
        outputs: Sequence[int],
        weight_grid: Sequence[float],
    ) -> None:
        self.block = block
        self.times = grid
        self.outputs = outputs
        self.weight_grid = weight_grid
        self.tableau = block.method
        self.n_weights = len(block.evolved)
        # Grid points of the two grids are compared with a tolerance: subdividing one interval
        # into different step counts rounds differently.
        self.eps = 1e-9 * (grid[-1] - grid[0])
        self.all_static = all(op.is_static for op in block.operators) and not block.kernel.has_memory

    def weight_index(self, t: float) -> int:
        """Index of the last weight-grid point at or before ``t``."""
        return bisect.bisect_right(self.weight_grid, t + self.eps) - 1

    def apply_f(self, t: float, z: Tensor, thetas: Sequence[Tensor]) -> Tensor:
        block = self.block
        args = (t, z) if block.time_input else (z,)
        if not thetas:
            return block.f(*args)
        return functional_call(block.f, dict(zip(block.evolved, thetas)), args)

    def step(self, n: int, state: State) -> State:
        z, weights = state[0], state[1:]
        t0, t1 = self.times[n], self.times[n + 1]
        if self.all_static:
            thetas = weights
            z = self.tableau.step(lambda t, x: self.apply_f(t, x, thetas), t0, t1 - t0, z)
            return (z, *weights)
        path = _WeightPath(self, self.weight_index(t0), weights)
        z = self.tableau.step(lambda t, x: self.apply_f(t, x, path.theta_at(t)), t0, t1 - t0, z)
        return (z, *path.state_at_grid(self.weight_index(t1)))

    def vector_field(self, t: float, state: State) -> State:
        m = self.n_weights
        z, weights, memory = state[0], state[1 : 1 + m], state[1 + m :]
        block = self.block
        thetas = memory if block.kernel.has_memory else weights
        rates = [op.rate(w, t) for op, w in zip(block.operators, weights)]
        memory_rates = [block.kernel.rate(th, w) for th, w in zip(memory, weights)]
        return (self.apply_f(t, z, thetas), *rates, *memory_rates)

    def reverse_grid(self, n: int) -> Sequence[float]:
        t0, t1 = self.times[n], self.times[n + 1]
        inner = [s for s in self.weight_grid if t0 + self.eps < s < t1 - self.eps]
        return [t0, *inner, t1]

    def buffers(self) -> Sequence[Tensor]:
        return tuple(self.block.f.buffers())


class _WeightPath:
    """The weight state along the weight grid from a starting grid point, computed on demand.

    ``theta_at(t)`` evolves from the last grid point at or before ``t`` by the remaining
    fraction of a step, so every stage of the ``z`` stepper sees the weights at its own time.
    """

    def __init__(self, solve: _CoupledSolve, start: int, state: Sequence[Tensor]) -> None:
        self.solve = solve
        self.start = start
        self.states: list[Sequence[Tensor]] = [state]  # states at grid points start, start+1, ...
        self.partial: dict[float, list[Tensor]] = {}

    def state_at_grid(self, index: int) -> Sequence[Tensor]:
        while self.start + len(self.states) - 1 < index:
            j = self.start + len(self.states) - 1
            grid = self.solve.weight_grid
            self.states.append(self._advance(self.states[-1], grid[j], grid[j + 1] - grid[j]))
        return self.states[index - self.start]

    def theta_at(self, t: float) -> list[Tensor]:
        if t not in self.partial:
            j = self.solve.weight_index(t)
            state = self.state_at_grid(j)
            gap = t - self.solve.weight_grid[j]
            if gap > self.solve.eps:
                state = self._advance(state, self.solve.weight_grid[j], gap)
            self.partial[t] = self._thetas(state)
        return self.partial[t]

    def _thetas(self, state: Sequence[Tensor]) -> list[Tensor]:
        m = self.solve.n_weights
        return list(state[m:] if self.solve.block.kernel.has_memory else state[:m])

    def _advance(self, state: Sequence[Tensor], t: float, dt: float) -> list[Tensor]:
        block = self.solve.block
        m = self.solve.n_weights
        weights = [
            op.step(w, t, dt, block.method) for op, w in zip(block.operators, state[:m])
        ]
        memory = [
            block.kernel.advance(th, w0, w1, dt)
            for th, w0, w1 in zip(state[m:], state[:m], weights)
        ]
        return weights + memory
