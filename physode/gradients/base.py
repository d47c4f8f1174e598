"""What a gradient strategy differentiates: a discretized solve, step by step.

A :class:`DiscreteSolve` is an initial-value problem already put on a time grid: the discrete
forward map as a sequence of steps, which every strategy differentiates. A solve may also offer
the :class:`ContinuousDynamics` its steps discretize; only the continuous adjoint needs them, and
a solve without consistent dynamics (e.g. a nonlinearity re-applied after every step) offers
none, so the adjoint refuses it instead of differentiating a different problem.
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Iterator, Sequence

import torch
from torch import Tensor

from physode.gradients.reuse import ReusedLeaves
from physode.steppers import Stepper

State = tuple[Tensor, ...]


class ContinuousDynamics(abc.ABC):
    """The ODE ``dy/dt = F(t, y)`` whose discretization a :class:`DiscreteSolve` is.

    Its flow over a step must be what the solve's step computes, exactly or up to the
    discretization error of a consistent method; the continuous adjoint integrates it backwards.
    """

    #: Method the continuous adjoint integrates its reverse-time equations with by default.
    stepper: Stepper
    #: Whether integrating the dynamics backwards in time is well posed.
    reverse_time_well_posed: bool = True
    #: Why the solve's steps do not discretize these dynamics at its stepper's order (a clause
    #: for an error message), or ``None`` when they do; the continuous adjoint then refuses.
    mismatch: str | None = None

    @abc.abstractmethod
    def vector_field(self, t: float, state: State) -> State:
        """``dy/dt`` at time ``t``."""

    @abc.abstractmethod
    def reverse_grid(self, n: int) -> Sequence[float]:
        """Times at which the adjoint's reverse solve steps through step ``n`` (ascending)."""


class DiscreteSolve(abc.ABC):
    """A discretized initial-value problem ``y(t_0) = y0 -> y(t_n)`` on a fixed grid.

    The state is a tuple of tensors (e.g. ``(z,)``, or ``(z, w)`` for a coupled block). Steps may
    depend on parameters (module weights) through closures; the strategy receives those
    parameters separately, so it can differentiate with respect to them.
    """

    #: The grid ``t_0 < t_1 < ... < t_N``; step ``n`` maps the state at ``t_n`` to ``t_{n+1}``.
    times: Sequence[float]
    #: Grid indices whose states are returned, in increasing order.
    outputs: Sequence[int]
    #: The states at ``outputs`` when the forward pass already ran (an adaptive search run as the
    #: forward pass of a strategy that does not replay the grid), else ``None``.
    forward_states: Sequence[State] | None = None

    @property
    def n_steps(self) -> int:
        return len(self.times) - 1

    #: How many steps :func:`run_forward` hands to :meth:`steps` at once.
    steps_per_call: int = 1

    @abc.abstractmethod
    def step(self, n: int, state: State) -> State:
        """The discrete forward map of step ``n``."""

    def steps(self, n: int, m: int, state: State) -> list[State]:
        """Steps ``n`` to ``m - 1`` from the state at ``n``: the state after each."""
        states = []
        for k in range(n, m):
            state = self.step(k, state)
            states.append(state)
        return states

    def dynamics(self) -> ContinuousDynamics | None:
        """The continuous dynamics the steps discretize, or ``None`` when there are none."""
        return None

    def start_pass(self, leaves: ReusedLeaves | None = None) -> None:
        """Forget what steps reuse from earlier steps (work that depends on the parameters
        alone, :class:`~physode.gradients.reuse.PassReuse`). A strategy calls it before each pass
        whose steps one backward call differentiates: what a pass keeps with a graph joins that
        pass's graph only, which its backward frees. ``leaves``: for steps taped one at a time,
        each differentiated by a backward call of its own; what graph-free steps kept stays
        (valid while the parameters are, within one backward call), and steps with a graph reuse
        leaves of ``leaves``."""

    def buffers(self) -> Sequence[Tensor]:
        """Mutable module state (e.g. BatchNorm running statistics) a recompute must not touch."""
        return ()

    def training_modes(self) -> tuple[bool, ...]:
        """The train/eval mode of every module the steps run (a recompute must see the same)."""
        return ()


class GradientStrategy(abc.ABC):
    """How gradients of a :class:`DiscreteSolve` are computed."""

    name: str
    #: Whether the strategy runs an adaptive solve's steps again on its accepted grid (to
    #: differentiate them); one that does not takes the search's states as its forward pass.
    replays_adaptive_grid: bool = True

    @abc.abstractmethod
    def integrate(self, solve: DiscreteSolve, y0: State, params: Sequence[Tensor]) -> State:
        """Integrate and return each state component stacked over ``solve.outputs``."""

    def check(self, solve: DiscreteSolve) -> None:
        """Refuse (``InputError``) or warn about a solve this strategy cannot differentiate well."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def run_forward(solve: DiscreteSolve, y0: State) -> tuple[State, State]:
    """Run every step, keeping only the output states.

    Returns the output states (each component stacked over ``solve.outputs``) and the final
    state.
    """
    solve.start_pass()
    wanted = set(solve.outputs)
    kept: list[State] = [y0] if 0 in wanted else []
    state = y0
    for n in range(0, solve.n_steps, solve.steps_per_call):
        states = solve.steps(n, min(n + solve.steps_per_call, solve.n_steps), state)
        kept.extend(s for k, s in enumerate(states, start=n + 1) if k in wanted)
        state = states[-1]
    # One kept state (a block's final state) is returned as a view: stacking would copy it.
    stacked = tuple(parts[0].unsqueeze(0) if len(parts) == 1 else torch.stack(parts) for parts in zip(*kept))
    return stacked, state


@contextlib.contextmanager
def restored(buffers: Sequence[Tensor]) -> Iterator[None]:
    """Put ``buffers`` back as they were on entry (a recompute must not update them twice)."""
    saved = [b.clone() for b in buffers]
    try:
        yield
    finally:
        with torch.no_grad():
            for b, s in zip(buffers, saved):
                b.copy_(s)


@contextlib.contextmanager
def replayed(rng: "RandomState", autocast: "AutocastState") -> Iterator[None]:
    """Re-enter the forward pass's random and autocast state; the caller's RNG is untouched after.

    A recompute that draws the same random numbers reproduces dropout masks exactly.
    """
    with torch.random.fork_rng(devices=rng.cuda_devices), contextlib.ExitStack() as stack:
        rng.restore()
        for device_type, dtype in autocast.enabled:
            stack.enter_context(torch.autocast(device_type, dtype=dtype))
        yield


class RandomState:
    """The CPU generator's state and that of every CUDA device the solve runs on."""

    def __init__(self, tensors: Sequence[Tensor]) -> None:
        self.cuda_devices = sorted({t.device.index or 0 for t in tensors if t.is_cuda})
        self.cpu = torch.get_rng_state()
        self.cuda = [torch.cuda.get_rng_state(d) for d in self.cuda_devices]

    def restore(self) -> None:
        torch.set_rng_state(self.cpu)
        for device, state in zip(self.cuda_devices, self.cuda):
            torch.cuda.set_rng_state(state, device)


class AutocastState:
    """Which device types had autocast on (and at which dtype) when the forward pass ran."""

    def __init__(self) -> None:
        self.enabled = [
            (device_type, torch.get_autocast_dtype(device_type))
            for device_type in ("cpu", "cuda")
            if torch.is_autocast_enabled(device_type)
        ]


def requires_grad_copy(state: State, track: Sequence[bool] | None = None) -> State:
    """Detached copies of ``state`` as inputs of a recomputation; ``track`` says which autograd
    follows (default: every floating-point component)."""
    if track is None:
        track = [s.is_floating_point() for s in state]
    return tuple(s.detach().requires_grad_(bool(t)) for s, t in zip(state, track))


class OutputGradients:
    """The incoming gradients of the stacked outputs, looked up by grid index.

    A reverse sweep adds them to the state's adjoint as it passes each output time.
    """

    def __init__(self, solve: DiscreteSolve, grad_outputs: Sequence[Tensor | None]) -> None:
        self.position = {index: i for i, index in enumerate(solve.outputs)}
        self.grad_outputs = grad_outputs

    def add(self, adjoint: Sequence[Tensor | None], index: int) -> list[Tensor | None]:
        """``adjoint`` plus the output gradient at grid ``index`` (``None`` stands for zero)."""
        if index not in self.position:
            return list(adjoint)
        i = self.position[index]
        return [
            a if g is None else (g[i] if a is None else a + g[i])
            for a, g in zip(adjoint, self.grad_outputs)
        ]


class UnchangedSinceForward:
    """Guards a recompute: what it reads must be as the forward pass left it.

    Strategies that recompute in backward would otherwise silently differentiate a changed map
    when a parameter or input is modified in place, or a module switches train/eval mode, between
    forward and backward. Autograd raises for its own saved tensors; this raises the same kind
    of error for the tensors and modes a recompute reads.
    """

    def __init__(self, solve: DiscreteSolve, tensors: Sequence[Tensor]) -> None:
        self.solve = solve
        self.tensors = tuple(tensors)
        self.versions = [t._version for t in self.tensors]
        self.modes = solve.training_modes()

    def check(self) -> None:
        """Raise ``RuntimeError`` if a tensor was modified in place or a mode changed."""
        for tensor, version in zip(self.tensors, self.versions):
            if tensor._version != version:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by "
                    f"an inplace operation: [{tensor.type()} {list(tensor.shape)}] is at version "
                    f"{tensor._version}; expected version {version} instead (physode recomputes "
                    "the solve in backward: do not modify its parameters or inputs in place "
                    "before backward)"
                )
        if self.solve.training_modes() != self.modes:
            raise RuntimeError(
                "a module's training mode changed between forward and backward (train()/eval() "
                "was called): physode recomputes the solve in backward and would differentiate "
                "a different map; call backward before switching modes"
            )
