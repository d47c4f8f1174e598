"""ODE blocks: a residual branch ``f`` turned into ``dz/dt = f(z, theta(t))``.

:class:`CoupledODEBlock` is ANODEV2: chosen parameters of ``f`` evolve in time by their own ODE
and ``f`` is applied with the evolved values (``torch.func.functional_call``), so an existing
residual branch becomes a coupled block without being rewritten. :class:`ODEBlock` is the static
special case (Neural ODE / ANODE).

The activation ``z`` and the weights may live on different grids (``steps`` and
``weight_steps``). The weights follow one continuous path ``theta(t)``, evaluated anywhere by
evolving from the last point of their grid by the remaining fraction of a step. Which of its
values a ``z`` step applies is the ``alignment``: ``"stage"`` (each stage of the ``z`` stepper sees
``theta`` at its own stage time) or ``"endpoints"`` (the paper's configuration two: ``z`` step
``n`` applies ``theta`` at the ``n``-th of ``steps`` evenly spaced points of the span, ``w0`` to
``w1``).
"""

from __future__ import annotations

import bisect
import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.func import functional_call

from physode.errors import InputError
from physode.evolution import Dirac, EvolutionOperator, SpectralRDA, TimeKernel
from physode.gradients import GradientStrategy, get_gradient
from physode.gradients.base import ContinuousDynamics, DiscreteSolve, State
from physode.grids import as_times, check_steps, subdivide
from physode.steppers import ButcherTableau, get_method

ALIGNMENTS = ("stage", "endpoints")


@dataclass(frozen=True)
class WeightState:
    """The evolving part of a coupled block's state.

    ``evolved``: each evolved weight's operator state (the weight itself, or e.g. a latent);
    ``memory``: the applied weights ``theta`` when the time kernel has memory (else empty).
    """

    evolved: tuple[Tensor, ...]
    memory: tuple[Tensor, ...] = ()


@dataclass(frozen=True)
class CoupledState:
    """A coupled block's state: the activation ``z`` and the weights.

    Gradient strategies see a flat tuple of tensors; :meth:`flat` and :meth:`from_flat` are the
    one place that converts.
    """

    z: Tensor
    weights: WeightState

    def flat(self) -> State:
        return (self.z, *self.weights.evolved, *self.weights.memory)

    @staticmethod
    def from_flat(state: State, n_evolved: int) -> CoupledState:
        evolved, memory = state[1 : 1 + n_evolved], state[1 + n_evolved :]
        return CoupledState(state[0], WeightState(tuple(evolved), tuple(memory)))


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
        alignment: which weights a ``z`` step applies: ``"stage"`` (each stage its own time's) or
            ``"endpoints"`` (step ``n`` of ``steps`` the weights at ``t0 + n (t1 - t0)/(steps - 1)``
            for each output interval ``[t0, t1]``, ``w0`` and ``w1`` included: the paper's
            configuration two; one step applies ``w0``).
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
        alignment: str = "stage",
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
        if alignment not in ALIGNMENTS:
            raise InputError(f"unknown alignment {alignment!r}: choose one of {list(ALIGNMENTS)}")
        self.alignment = alignment
        self.grad.check(self._solve(None))  # refuse (or warn about) the strategy now, not mid-fit

    def forward(self, z: Tensor, times: Tensor | Sequence[float] | None = None) -> Tensor:
        """``z(t1)``; or, given increasing ``times``, ``z`` at each of them, stacked on dim 0."""
        solve = self._solve(times)
        state0 = CoupledState(z, self._initial_weight_state(solve.times[0]))
        zs = self.grad.integrate(solve, state0.flat(), self._trained_params())[0]
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
        path = _WeightPath(solve, 0, self._initial_weight_state(start))
        thetas = [path.theta_at(t) for t in sample_times]
        return {name: torch.stack([th[i] for th in thetas]) for i, name in enumerate(self.evolved)}

    def _solve(self, times: Tensor | Sequence[float] | None) -> _CoupledSolve:
        out_times = [0.0, self.t1] if times is None else as_times(times, name="times")
        grid, outputs = subdivide(out_times, self.steps)
        weight_grid = grid if self.weight_steps is None else subdivide(out_times, self.weight_steps)[0]
        return _CoupledSolve(self, out_times, grid, outputs, weight_grid)

    def _initial_weight_state(self, t0: float) -> WeightState:
        named = dict(self.f.named_parameters())
        evolved = tuple(
            op.initial_state(named[name]) for name, op in zip(self.evolved, self.operators)
        )
        if not self.kernel.has_memory:
            return WeightState(evolved)
        return WeightState(evolved, tuple(op.readout(s, t0) for op, s in zip(self.operators, evolved)))

    def _trained_params(self) -> tuple[Tensor, ...]:
        evolved = {f"f.{name}" for name in self.evolved}
        return tuple(
            p for name, p in self.named_parameters() if p.requires_grad and name not in evolved
        )

    def extra_repr(self) -> str:
        return (
            f"evolve={list(self.evolved)}, t1={self.t1}, steps={self.steps}, "
            f"weight_steps={self.weight_steps}, method={self.method.name!r}, grad={self.grad!r}"
            + (f", alignment={self.alignment!r}" if self.alignment != "stage" else "")
        )


class ODEBlock(CoupledODEBlock):
    """Neural ODE / ANODE block with static weights: ``dz/dt = f(z)`` on ``[0, t1]``.

    Args:
        f: the residual branch, called as ``f(z)`` (or ``f(t, z)`` with ``time_input``).
        t1, steps, method, grad, time_input: as for :class:`CoupledODEBlock`.
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
    ) -> None:
        super().__init__(f, (), t1=t1, steps=steps, method=method, grad=grad, time_input=time_input)


class _CoupledSolve(DiscreteSolve):
    """The block's solve; its flat state is :meth:`CoupledState.flat`."""

    def __init__(
        self,
        block: CoupledODEBlock,
        output_times: Sequence[float],
        grid: Sequence[float],
        outputs: Sequence[int],
        weight_grid: Sequence[float],
    ) -> None:
        self.block = block
        self.times = grid
        self.outputs = outputs
        self.weight_grid = weight_grid
        self.tableau = block.method
        self.n_evolved = len(block.evolved)
        # Grid points of the two grids are compared with a tolerance: subdividing one interval
        # into different step counts rounds differently.
        self.eps = 1e-9 * (grid[-1] - grid[0])
        self.all_static = all(op.is_static for op in block.operators) and not block.kernel.has_memory
        self.applied_times = (
            _endpoint_times(output_times, block.steps) if block.alignment == "endpoints" else None
        )

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
        current = CoupledState.from_flat(state, self.n_evolved)
        t0, t1 = self.times[n], self.times[n + 1]
        if self.all_static:
            thetas = current.weights.evolved
            z = self.tableau.step(lambda t, x: self.apply_f(t, x, thetas), t0, t1 - t0, current.z)
            return CoupledState(z, current.weights).flat()
        path = _WeightPath(self, self.weight_index(t0), current.weights)

        def rate(t: float, z: Tensor) -> Tensor:
            # "endpoints": every stage of step n applies the weights of one time.
            applied = t if self.applied_times is None else self.applied_times[n]
            return self.apply_f(t, z, path.theta_at(applied))

        z = self.tableau.step(rate, t0, t1 - t0, current.z)
        return CoupledState(z, path.state_at_grid(self.weight_index(t1))).flat()

    def dynamics(self) -> ContinuousDynamics | None:
        if not all(op.has_dynamics for op in self.block.operators):
            return None
        return _CoupledDynamics(self)

    def buffers(self) -> Sequence[Tensor]:
        return tuple(self.block.f.buffers())

    def training_modes(self) -> tuple[bool, ...]:
        return tuple(m.training for m in self.block.modules())


class _CoupledDynamics(ContinuousDynamics):
    """``dz/dt = f(z, theta)``, each operator's ``ds/dt``, the kernel's ``dtheta/dt``."""

    def __init__(self, solve: _CoupledSolve) -> None:
        self.solve = solve
        self.tableau = solve.tableau
        self.reverse_time_well_posed = all(
            op.reverse_time_well_posed for op in solve.block.operators
        )

    def vector_field(self, t: float, state: State) -> State:
        solve = self.solve
        block = solve.block
        current = CoupledState.from_flat(state, solve.n_evolved)
        evolved, memory = current.weights.evolved, current.weights.memory
        readouts = [op.readout(s, t) for op, s in zip(block.operators, evolved)]
        thetas = memory if block.kernel.has_memory else readouts
        rates = tuple(op.rate(s, t) for op, s in zip(block.operators, evolved))
        memory_rates = tuple(block.kernel.rate(th, w) for th, w in zip(memory, readouts))
        return CoupledState(solve.apply_f(t, current.z, thetas), WeightState(rates, memory_rates)).flat()

    def reverse_grid(self, n: int) -> Sequence[float]:
        solve = self.solve
        t0, t1 = solve.times[n], solve.times[n + 1]
        inner = [s for s in solve.weight_grid if t0 + solve.eps < s < t1 - solve.eps]
        return [t0, *inner, t1]


def _endpoint_times(output_times: Sequence[float], steps: int) -> list[float]:
    """Per ``z`` step: the ``n``-th of ``steps`` evenly spaced points of its output interval,
    both ends included (one step: the start)."""
    applied = []
    for a, b in zip(output_times, output_times[1:]):
        if steps == 1:
            applied.append(a)
            continue
        applied.extend(a + (b - a) * j / (steps - 1) for j in range(steps - 1))
        applied.append(b)  # exact endpoint
    return applied


class _WeightPath:
    """The weight state along the weight grid from a starting grid point, computed on demand.

    ``theta_at(t)`` evolves from the last grid point at or before ``t`` by the remaining
    fraction of a step: the same continuous path whatever the grid (exactly, for an exact
    propagator).
    """

    def __init__(self, solve: _CoupledSolve, start: int, state: WeightState) -> None:
        self.solve = solve
        self.start = start
        self.states: list[WeightState] = [state]  # states at grid points start, start+1, ...
        self.partial: dict[float, tuple[Tensor, ...]] = {}

    def state_at_grid(self, index: int) -> WeightState:
        while self.start + len(self.states) - 1 < index:
            j = self.start + len(self.states) - 1
            grid = self.solve.weight_grid
            self.states.append(self._advance(self.states[-1], grid[j], grid[j + 1] - grid[j]))
        return self.states[index - self.start]

    def theta_at(self, t: float) -> tuple[Tensor, ...]:
        if t not in self.partial:
            j = self.solve.weight_index(t)
            state = self.state_at_grid(j)
            gap = t - self.solve.weight_grid[j]
            if gap > self.solve.eps:
                state = self._advance(state, self.solve.weight_grid[j], gap)
            self.partial[t] = self._thetas(state, t)
        return self.partial[t]

    def _thetas(self, state: WeightState, t: float) -> tuple[Tensor, ...]:
        if self.solve.block.kernel.has_memory:
            return state.memory
        return tuple(op.readout(s, t) for op, s in zip(self.solve.block.operators, state.evolved))

    def _advance(self, state: WeightState, t: float, dt: float) -> WeightState:
        block = self.solve.block
        operators = block.operators
        evolved = tuple(op.step(s, t, dt, block.method) for op, s in zip(operators, state.evolved))
        memory = tuple(
            block.kernel.advance(th, op.readout(s0, t), op.readout(s1, t + dt), dt)
            for th, op, s0, s1 in zip(state.memory, operators, state.evolved, evolved)
        )
        return WeightState(evolved, memory)
