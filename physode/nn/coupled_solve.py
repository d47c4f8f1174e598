"""The discretization of a coupled block: its state, its solve and the weights' continuous path.

:class:`CoupledSystem` is the frozen description of a :class:`~physode.nn.blocks.CoupledODEBlock` that
the solve reads (the block builds it; this module never sees the block). :class:`CoupledState` is what
the block integrates (``z`` and the weights), flattened for the gradient strategies in one place.
:class:`CoupledSolve` is the block's :class:`~physode.gradients.base.DiscreteSolve` on its ``z`` and
weight grids, with its continuous dynamics for the adjoint; :class:`WeightPath` evaluates ``theta(t)``
anywhere along the weights' one continuous path.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from physode.evolution import EvolutionOperator, TimeKernel
from physode.gradients.base import ContinuousDynamics, DiscreteSolve, State
from physode.gradients.reuse import PassReuse, ReusedLeaves
from physode.grids import StepGrid, endpoint_times
from physode.steppers import Stepper


@dataclass(frozen=True)
class CoupledSystem:
    """A coupled block as its solve sees it: the equations and how they are stepped.

    ``dz/dt = f(z, theta(t))`` with ``f``'s parameters ``evolved`` moving by ``operators`` (one
    each, in the same order) and ``theta`` following them through ``kernel``; ``f`` is called as
    ``f(t, z)`` with ``time_input``. ``stepper`` steps ``z`` and the weights; ``alignment`` says
    which weights a ``z`` step applies (``"endpoints"`` spaces them by ``steps``, the ``z`` steps
    per output interval).
    """

    f: nn.Module
    evolved: tuple[str, ...]
    operators: tuple[EvolutionOperator, ...]
    kernel: TimeKernel
    time_input: bool
    stepper: Stepper
    alignment: str
    steps: int

    def modules(self) -> tuple[nn.Module, ...]:
        """Every module the steps run."""
        return tuple(m for part in (self.f, *self.operators, self.kernel) for m in part.modules())


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
        system: CoupledSystem,
        output_times: Sequence[float],
        grid: StepGrid,
        outputs: Sequence[int],
        weight_grid: StepGrid,
        forward_states: Sequence[State] | None = None,
    ) -> None:
        self.system = system
        self.times, self.step_sizes = grid.times, grid.sizes
        self.outputs = outputs
        self.forward_states = forward_states
        self.weight_grid, self.weight_step_sizes = weight_grid.times, weight_grid.sizes
        self.n_evolved = len(system.evolved)
        self.slots = _parameter_slots(system.f, system.evolved)
        # Grid points of the two grids are compared with a tolerance: subdividing one interval
        # into different step counts rounds differently.
        self.eps = 1e-9 * (self.times[-1] - self.times[0])
        self.all_static = all(op.is_static for op in system.operators) and not system.kernel.has_memory
        self.applied_times = endpoint_times(output_times, system.steps) if system.alignment == "endpoints" else None
        #: Per operator and grad mode, what the current pass's steps reuse (`step_reusing`).
        self.kept = tuple({True: PassReuse(), False: PassReuse()} for _ in system.operators)

    def start_pass(self, leaves: ReusedLeaves | None = None) -> None:
        for kept in self.kept:
            kept[True].start(leaves)
            if leaves is None:  # with leaves: a backward call's taped steps, parameters unchanged
                kept[False].start()

    def weight_index(self, t: float) -> int:
        """Index of the last weight-grid point at or before ``t``."""
        return bisect.bisect_right(self.weight_grid, t + self.eps) - 1

    def apply_f(self, t: float, z: Tensor, thetas: Sequence[Tensor]) -> Tensor:
        """``f`` with the evolved parameters replaced by ``thetas``, as ``torch.func.functional_call``
        does it (tied aliases too), with the slots found once per solve instead of on every call."""
        system = self.system
        args = (t, z) if system.time_input else (z,)
        if not thetas:
            return system.f(*args)
        saved = [(module, name, module._parameters[name]) for slots in self.slots for module, name in slots]
        try:
            for slots, theta in zip(self.slots, thetas):
                for module, name in slots:
                    module._parameters[name] = theta
            return system.f(*args)
        finally:
            for module, name, parameter in saved:
                module._parameters[name] = parameter

    @property
    def steps_per_call(self) -> int:
        return self.system.stepper.steps_per_call if self.all_static else 1  # runs where no weight moves

    def steps(self, n: int, m: int, state: State) -> list[State]:
        if not self.all_static:
            return super().steps(n, m, state)
        current = CoupledState.from_flat(state, self.n_evolved)
        thetas, times = current.weights.evolved, self.times[n : m + 1]
        zs = self.system.stepper.steps(lambda t, x: self.apply_f(t, x, thetas), times, current.z, self.step_sizes[n:m])
        return [CoupledState(z, current.weights).flat() for z in zs]

    def step(self, n: int, state: State) -> State:
        current = CoupledState.from_flat(state, self.n_evolved)
        t0, dt = self.times[n], self.step_sizes[n]
        if self.all_static:
            thetas = current.weights.evolved
            z = self.system.stepper.step(lambda t, x: self.apply_f(t, x, thetas), t0, dt, current.z)
            return CoupledState(z, current.weights).flat()
        path = WeightPath(self, self.weight_index(t0), current.weights)

        def rate(t: float, z: Tensor) -> Tensor:
            # "endpoints": every stage of step n applies the weights of one time.
            applied = t if self.applied_times is None else self.applied_times[n]
            return self.apply_f(t, z, path.theta_at(applied))

        z = self.system.stepper.step(rate, t0, dt, current.z)
        return CoupledState(z, path.state_at_grid(self.weight_index(self.times[n + 1]))).flat()

    def dynamics(self) -> ContinuousDynamics | None:
        if not all(op.has_dynamics for op in self.system.operators):
            return None
        return _CoupledDynamics(self)

    def buffers(self) -> Sequence[Tensor]:
        return tuple(self.system.f.buffers())

    def training_modes(self) -> tuple[bool, ...]:
        return tuple(m.training for m in self.system.modules())


def _parameter_slots(f: nn.Module, names: Sequence[str]) -> tuple[tuple[tuple[nn.Module, str], ...], ...]:
    """Per parameter name of ``f``, every ``(module, attribute)`` that holds that parameter (a tied
    weight is held by several)."""
    named = dict(f.named_parameters())
    targets = [named[name] for name in names]
    slots: list[list[tuple[nn.Module, str]]] = [[] for _ in names]
    for module in f.modules():
        for attribute, parameter in module._parameters.items():
            for i, target in enumerate(targets):
                if parameter is target:
                    slots[i].append((module, attribute))
    return tuple(tuple(s) for s in slots)


class _CoupledDynamics(ContinuousDynamics):
    """``dz/dt = f(z, theta)``, each operator's ``ds/dt``, the kernel's ``dtheta/dt``."""

    def __init__(self, solve: CoupledSolve) -> None:
        self.solve = solve
        self.stepper = solve.system.stepper
        self.reverse_time_well_posed = all(
            op.reverse_time_well_posed for op in solve.system.operators
        )
        self.mismatch = _mismatch(solve)

    def vector_field(self, t: float, state: State) -> State:
        solve = self.solve
        system = solve.system
        current = CoupledState.from_flat(state, solve.n_evolved)
        evolved, memory = current.weights.evolved, current.weights.memory
        readouts = [op.readout(s, t) for op, s in zip(system.operators, evolved)]
        thetas = memory if system.kernel.has_memory else readouts
        rates = tuple(op.rate(s, t) for op, s in zip(system.operators, evolved))
        memory_rates = tuple(system.kernel.rate(th, w) for th, w in zip(memory, readouts))
        return CoupledState(solve.apply_f(t, current.z, thetas), WeightState(rates, memory_rates)).flat()

    def reverse_grid(self, n: int) -> Sequence[float]:
        solve = self.solve
        t0, t1 = solve.times[n], solve.times[n + 1]
        inner = [s for s in solve.weight_grid if t0 + solve.eps < s < t1 - solve.eps]
        return [t0, *inner, t1]


def _mismatch(solve: CoupledSolve) -> str | None:
    """Where the block's steps depart from its continuous equations beyond the stepper's order."""
    system = solve.system
    if solve.applied_times is not None and not solve.all_static:
        return (
            "alignment='endpoints' applies one time's weights in all stages of a step, a different "
            "model from the continuous one (the adjoint's gradient stays O(1/steps) away)"
        )
    if system.kernel.has_memory and system.stepper.order > 2:
        return (
            f"{type(system.kernel).__name__} steps theta exactly only for weights linear in time (second "
            f"order), below the order {system.stepper.order} of method {system.stepper.name!r}"
        )
    return None


class WeightPath:
    """The weight state along the weight grid from a starting grid point, computed on demand.

    ``theta_at(t)`` evolves from the last grid point at or before ``t`` by the remaining
    fraction of a step: the same continuous path whatever the grid (exactly, for an exact
    propagator). Where every operator gives its weights in closed form
    (:attr:`~physode.evolution.EvolutionOperator.has_weights_at`) and ``theta`` is the weights
    themselves (no kernel memory), ``thetas_at`` reads them all from the starting state in one call.
    """

    def __init__(self, solve: CoupledSolve, start: int, state: WeightState) -> None:
        self.solve = solve
        self.start = start
        self.states: list[WeightState] = [state]  # states at grid points start, start+1, ...
        self.partial: dict[float, tuple[Tensor, ...]] = {}
        system = solve.system
        self.closed_form = not system.kernel.has_memory and all(op.has_weights_at for op in system.operators)

    def state_at_grid(self, index: int) -> WeightState:
        while self.start + len(self.states) - 1 < index:
            j = self.start + len(self.states) - 1
            self.states.append(self._advance(self.states[-1], self.solve.weight_grid[j], self.solve.weight_step_sizes[j]))
        return self.states[index - self.start]

    def theta_at(self, t: float) -> tuple[Tensor, ...]:
        if t not in self.partial:
            j = self.solve.weight_index(t)
            gap = t - self.solve.weight_grid[j]
            if gap <= self.solve.eps:
                # On a grid point theta is the read-out of the state there, which the step needs
                # anyway: no propagator of its own (one FFT round trip fewer per stage).
                self.partial[t] = self._thetas(self.state_at_grid(j), t)
            elif self.closed_form:
                self.partial[t] = tuple(theta[0] for theta in self.thetas_at([t]))
            else:
                state = self._advance(self.state_at_grid(j), self.solve.weight_grid[j], gap)
                self.partial[t] = self._thetas(state, t)
        return self.partial[t]

    def thetas_at(self, times: Sequence[float]) -> tuple[Tensor, ...]:
        """``theta`` at each of ``times``, stacked on dim 0, one tensor per evolved weight."""
        if not self.closed_form:
            return tuple(torch.stack(per_time) for per_time in zip(*(self.theta_at(t) for t in times)))
        t0, operators = self.solve.weight_grid[self.start], self.solve.system.operators
        return tuple(op.weights_at(s, t0, times) for op, s in zip(operators, self.states[0].evolved))

    def _thetas(self, state: WeightState, t: float) -> tuple[Tensor, ...]:
        if self.solve.system.kernel.has_memory:
            return state.memory
        return tuple(op.readout(s, t) for op, s in zip(self.solve.system.operators, state.evolved))

    def _advance(self, state: WeightState, t: float, dt: float) -> WeightState:
        system = self.solve.system
        operators = system.operators
        pairs = zip(operators, self.solve.kept, state.evolved)
        grad = torch.is_grad_enabled()
        evolved = tuple(op.step_reusing(kept[grad], s, t, dt, system.stepper) for op, kept, s in pairs)
        memory = tuple(
            system.kernel.advance(th, op.readout(s0, t), op.readout(s1, t + dt), dt)
            for th, op, s0, s1 in zip(state.memory, operators, state.evolved, evolved)
        )
        return WeightState(evolved, memory)
