"""ODE blocks: a residual branch ``f`` turned into ``dz/dt = f(z, theta(t))``.

:class:`CoupledODEBlock` is ANODEV2: chosen parameters of ``f`` evolve in time by their own ODE
and ``f`` is applied with the evolved values (as ``torch.func.functional_call`` applies them), so
an existing residual branch becomes a coupled block without being rewritten. :class:`ODEBlock` is the static
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

import copy
import dataclasses
from collections.abc import Mapping, Sequence

from torch import Tensor, nn

from physode.errors import InputError
from physode.evolution import Dirac, EvolutionOperator, SpectralRDA, TimeKernel
from physode.gradients import Adjoint, GradientStrategy, get_gradient
from physode.grids import StepGrid, as_times, check_steps, step_grid, subdivide
from physode.integrate import accepted_grid, adaptive_controller
from physode.nn.coupled_solve import CoupledSolve, CoupledState, CoupledSystem, WeightPath, WeightState
from physode.steppers import AdaptiveSolution, CompiledStepper, Stepper, get_method

ALIGNMENTS = ("stage", "endpoints")


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
        method: the stepper, by name (e.g. ``"euler"``, a ResNet step; ``"rk4"``) or a
            :class:`~physode.steppers.Stepper`.
        grad: ``"checkpoint"`` (exact, low memory), ``"backprop"`` or ``"adjoint"``.
        kernel: time kernel ``K``; default :class:`~physode.evolution.Dirac` (``theta = w``).
        time_input: call ``f(t, z)`` instead of ``f(z)``.
        alignment: which weights a ``z`` step applies: ``"stage"`` (each stage its own time's) or
            ``"endpoints"`` (step ``n`` of ``steps`` the weights at ``t0 + n (t1 - t0)/(steps - 1)``
            for each output interval ``[t0, t1]``, ``w0`` and ``w1`` included: the paper's
            configuration two with ``steps=2, weight_steps=10``; one step applies ``w0``). Not the
            discretization of the continuous equations, so ``grad="adjoint"`` refuses it.
        rtol, atol: step adaptively with an embedded pair (``method="dopri5"`` or ``"bosh3"``)
            instead of ``steps`` equal steps; each forward pass first finds the accepted grid
            (without a graph, statistics in ``self.stats``), then the gradient strategy runs on it
            (``"adjoint"`` takes the search's states as its forward pass instead of stepping again).
        compile: run each step (``f``, the stage loop, the weights' steps) through
            ``torch.compile`` (:class:`~physode.steppers.CompiledStepper`): the same results to
            float round-off, compilation on the first steps; off by default (static weights:
            runs of 25 steps per compiled call, as ``odeint``, except under ``"recursive"`` and
            ``"adjoint"``; evolving weights: one step per call, whose overhead a small step does
            not repay).
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
        method: str | Stepper = "euler",
        grad: str | GradientStrategy = "checkpoint",
        kernel: TimeKernel | None = None,
        time_input: bool = False,
        alignment: str = "stage",
        rtol: float | None = None,
        atol: float | None = None,
        compile: bool = False,
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
        self.method = CompiledStepper(get_method(method)) if compile else get_method(method)
        if self.method.semilinear:
            raise InputError(
                f"method {self.method.name!r} steps a field split as dy/dt = L y + N(t, y), and a block's f "
                "is one vector field: use a Runge-Kutta method, e.g. 'rk4'"
            )
        self.grad = get_gradient(grad)
        self.time_input = time_input
        if alignment not in ALIGNMENTS:
            raise InputError(f"unknown alignment {alignment!r}: choose one of {list(ALIGNMENTS)}")
        self.alignment = alignment
        self.controller = adaptive_controller(self.method, rtol, atol, steps, weight_steps)
        if self.controller is not None and alignment != "stage":
            raise InputError("alignment='endpoints' places the weights on a fixed grid: use fixed steps "
                             "(drop rtol/atol) or alignment='stage'")
        if self.controller is not None and isinstance(self.grad, Adjoint) and self.grad.controller is None:
            self.grad = Adjoint(self.grad.method, controller=self.controller)
        #: The last adaptive forward pass's search: nfe, accepted and rejected steps, grid.
        self.stats: AdaptiveSolution | None = None
        # Refuse (or warn about) the strategy now, not mid-fit; the fixed grid stands in for an
        # adaptive one (the same dynamics).
        self.grad.check(self._solve(self._output_times(None)))

    def forward(self, z: Tensor, times: Tensor | Sequence[float] | None = None) -> Tensor:
        """``z(t1)``; or, given increasing ``times``, ``z`` at each of them, stacked on dim 0."""
        out_times = self._output_times(times)
        state0 = CoupledState(z, self._initial_weight_state(out_times[0]))
        # The adjoint keeps the input state among its outputs: it checks its reverse solve there.
        final_only = times is None and not isinstance(self.grad, Adjoint)
        solve = self._solve(out_times, state0, final_only=final_only)
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
        if self.controller is not None:
            raise InputError("an adaptive block's grid depends on its input: use fixed steps for weight_trajectory")
        solve = self._solve(self._output_times(output_times))
        sample_times = [float(t) for t in times]
        start, end = solve.weight_grid[0], solve.weight_grid[-1]
        outside = [t for t in sample_times if not start - solve.eps <= t <= end + solve.eps]
        if outside:
            raise InputError(f"times {outside} lie outside the block's span [{start}, {end}]")
        path = WeightPath(solve, 0, self._initial_weight_state(start))
        return dict(zip(self.evolved, path.thetas_at(sample_times)))

    def _output_times(self, times: Tensor | Sequence[float] | None) -> list[float]:
        return [0.0, self.t1] if times is None else as_times(times, name="times")

    def _solve(self, out_times: list[float], state0: CoupledState | None = None, final_only: bool = False) -> CoupledSolve:
        """The solve through ``out_times``: on the fixed grids, or with rtol/atol and an input
        ``state0``, on the grid an adaptive search accepts (its statistics in ``self.stats``).
        ``final_only``: on fixed grids, return the final state alone (no copy of the input)."""
        system = self._system()
        if self.controller is not None and state0 is not None:
            search_grid = StepGrid.through(out_times)
            search = CoupledSolve(system, out_times, search_grid, range(len(out_times)), search_grid)
            as_forward = not self.grad.replays_adaptive_grid
            found = accepted_grid(search, out_times, state0.flat(), self.method, self.controller, as_forward=as_forward)
            self.stats = dataclasses.replace(found, states=[])  # statistics only: hold no activations
            grid = StepGrid.through(found.grid)
            return CoupledSolve(system, out_times, grid, found.outputs, grid, found.states if as_forward else None)
        _, outputs = subdivide(out_times, self.steps)
        outputs = outputs[-1:] if final_only else outputs
        grid = step_grid(out_times, self.steps)
        weight_grid = grid if self.weight_steps is None else step_grid(out_times, self.weight_steps)
        return CoupledSolve(system, out_times, grid, outputs, weight_grid)

    def _system(self) -> CoupledSystem:
        """The block as its solve reads it, taken now (a changed attribute reaches the next solve)."""
        return CoupledSystem(
            f=self.f, evolved=self.evolved, operators=tuple(self.operators), kernel=self.kernel,
            time_input=self.time_input, stepper=self.method, alignment=self.alignment, steps=self.steps,
        )

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
            + ("" if self.controller is None else f", rtol={self.controller.rtol}, atol={self.controller.atol}")
            + (", compile=True" if isinstance(self.method, CompiledStepper) else "")
        )


class ODEBlock(CoupledODEBlock):
    """Neural ODE / ANODE block with static weights: ``dz/dt = f(z)`` on ``[0, t1]``.

    Args:
        f: the residual branch, called as ``f(z)`` (or ``f(t, z)`` with ``time_input``).
        t1, steps, method, grad, time_input, rtol, atol, compile: as for :class:`CoupledODEBlock`.
    """

    def __init__(
        self,
        f: nn.Module,
        *,
        t1: float = 1.0,
        steps: int = 1,
        method: str | Stepper = "euler",
        grad: str | GradientStrategy = "checkpoint",
        time_input: bool = False,
        rtol: float | None = None,
        atol: float | None = None,
        compile: bool = False,
    ) -> None:
        super().__init__(
            f, (), t1=t1, steps=steps, method=method, grad=grad, time_input=time_input, rtol=rtol, atol=atol,
            compile=compile,
        )
