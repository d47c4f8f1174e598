"""The discretization of a coupled block: its state, its solve and the weights' continuous path.

:class:`CoupledState` is what a :class:`~physode.nn.blocks.CoupledODEBlock` integrates (``z`` and
the weights), flattened for the gradient strategies in one place. :class:`CoupledSolve` is the
block's :class:`~physode.gradients.base.DiscreteSolve` on its ``z`` and weight grids, with its
continuous dynamics for the adjoint; :class:`WeightPath` evaluates ``theta(t)`` anywhere along the
weights' one continuous path.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from torch import Tensor
from torch.func import functional_call

from physode.gradients.base import ContinuousDynamics, DiscreteSolve, State

if TYPE_CHECKING:
    from physode.nn.blocks import CoupledODEBlock


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


class CoupledSolve(DiscreteSolve):
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
        self.stepper = block.method
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
            z = self.stepper.step(lambda t, x: self.apply_f(t, x, thetas), t0, t1 - t0, current.z)
            return CoupledState(z, current.weights).flat()
        path = WeightPath(self, self.weight_index(t0), current.weights)

        def rate(t: float, z: Tensor) -> Tensor:
            # "endpoints": every stage of step n applies the weights of one time.
            applied = t if self.applied_times is None else self.applied_times[n]
            return self.apply_f(t, z, path.theta_at(applied))

        z = self.stepper.step(rate, t0, t1 - t0, current.z)
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

    def __init__(self, solve: CoupledSolve) -> None:
        self.solve = solve
        self.stepper = solve.stepper
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


class WeightPath:
    """The weight state along the weight grid from a starting grid point, computed on demand.

    ``theta_at(t)`` evolves from the last grid point at or before ``t`` by the remaining
    fraction of a step: the same continuous path whatever the grid (exactly, for an exact
    propagator).
    """

    def __init__(self, solve: CoupledSolve, start: int, state: WeightState) -> None:
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
