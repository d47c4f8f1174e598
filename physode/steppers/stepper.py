"""What every time stepper provides: the seam between a one-step method and the code that steps.

Solves, gradient strategies and evolution operators hold a :class:`Stepper`, never a particular
kind of method: an explicit Runge-Kutta tableau is one implementation, an exponential integrator
another. A stepper that can estimate its local error also offers :meth:`Stepper.trial_step`, and
only such a stepper can step adaptively.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import torch
from torch import Tensor

from physode.errors import InputError

# What a stepper advances: a tensor or a tuple of tensors (a coupled system, an adjoint's
# augmented state). Distinct from the gradient strategies' `State`, which is always a tuple.
Y = TypeVar("Y", Tensor, tuple[Tensor, ...])
VectorField = Callable[[float, Y], Y]


def axpy(y: Y, scale: float, k: Y) -> Y:
    """``y + scale * k`` for tensors and tuples of tensors alike.

    One fused ``add`` (``alpha=scale``) instead of a multiply and an add: half the kernel calls
    and half the autograd nodes, which is most of a small field's per-step overhead. Under
    ``torch.compile`` a multiply and an add instead (fused into one kernel there): ``alpha`` must be
    a constant, which would compile the step anew for each step size.
    """
    if torch.compiler.is_compiling():
        return y + scale * k if isinstance(y, Tensor) else tuple(y_i + scale * k_i for y_i, k_i in zip(y, k))
    if isinstance(y, Tensor):
        return torch.add(y, k, alpha=scale)
    return tuple(torch.add(y_i, k_i, alpha=scale) for y_i, k_i in zip(y, k))


#: Which slopes each distinct nonzero weight scales: ``((w, (i, j, ...)), ...)`` in first-seen order.
WeightGroups = tuple[tuple[float, tuple[int, ...]], ...]


def weight_groups(weights: Sequence[float]) -> WeightGroups:
    """The nonzero ``weights`` grouped by value (a tableau computes its rows' once)."""
    grouped: dict[float, list[int]] = {}
    for i, w_i in enumerate(weights):
        if w_i != 0.0:
            grouped.setdefault(w_i, []).append(i)
    return tuple((w_i, tuple(indices)) for w_i, indices in grouped.items())


def combine_groups(y: Y, dt: float, groups: WeightGroups, slopes: Sequence[Y]) -> Y:
    """``y + dt * sum_i w_i k_i`` with the weights as :func:`weight_groups` groups them.

    Slopes sharing a weight are summed before they are scaled (Heun's ``(k_0 + k_1) / 2``, RK4's
    ``k_0 + k_3`` and ``k_1 + k_2``): one scaled add per distinct weight, and an unscaled add costs
    no multiplication in backward. The same operations for every caller with the same weights, so
    a stage equal to the update (first same as last) is bitwise equal to it.
    """
    out = y
    for w_i, indices in groups:
        k = slopes[indices[0]]
        for i in indices[1:]:
            k = axpy(k, 1.0, slopes[i])
        out = axpy(out, w_i * dt, k)
    return out


def combine(y: Y, dt: float, weights: Sequence[float], slopes: Sequence[Y]) -> Y:
    """``y + dt * sum_i w_i k_i``, skipping zero weights (see :func:`combine_groups`)."""
    return combine_groups(y, dt, weight_groups(weights), slopes)


@dataclass(frozen=True)
class TrialStep(Generic[Y]):
    """One step an adaptive solve may accept or reject."""

    #: The state at the step's end.
    y: Y
    #: The local error estimate (computed without a graph).
    error: Y
    #: ``func`` at the step's end when the stepper evaluated it there (first same as last): the
    #: next step's first evaluation, if that step starts exactly where this one ends.
    end_rate: Y | None


class Stepper(abc.ABC):
    """A one-step method for ``dy/dt = func(t, y)``.

    An implementation provides ``name``, ``order`` (of the global error), :attr:`evaluations`
    and :meth:`step`; to step adaptively, also :attr:`error_order` and :meth:`trial_step`.
    """

    name: str
    order: int
    #: How many steps a solve hands to :meth:`steps` at once (a compiled stepper runs them as one
    #: graph: one call's overhead for many small steps).
    steps_per_call: int = 1
    #: Whether the stepper needs ``func`` split into a linear part and the rest (a
    #: :class:`~physode.steppers.exponential.SemilinearField`): what is built of a plain vector
    #: field (a block's ``f``, the adjoint's equations) refuses such a stepper.
    semilinear: bool = False

    @property
    @abc.abstractmethod
    def evaluations(self) -> int:
        """Evaluations of ``func`` per step (a solve's ``nfe`` counts them)."""

    @abc.abstractmethod
    def step(self, func: VectorField, t: float, dt: float, y: Y) -> Y:
        """One step ``y(t) -> y(t + dt)`` (``dt`` may be negative: the adjoint steps backwards)."""

    def steps(self, func: VectorField, times: Sequence[float], y: Y, sizes: Sequence[float] | None = None) -> list[Y]:
        """One :meth:`step` per interval of ``times``: the state at the end of each. ``sizes``: the
        steps' sizes (default: the differences of ``times``; a grid's nominal steps,
        :class:`~physode.grids.StepGrid`)."""
        sizes = [t1 - t0 for t0, t1 in zip(times, times[1:])] if sizes is None else sizes
        states = []
        for t0, dt in zip(times, sizes):
            y = self.step(func, t0, dt, y)
            states.append(y)
        return states

    @property
    def error_order(self) -> int | None:
        """The power of ``dt`` in the local error estimate, which sets the step-size controller's
        exponent; ``None`` when the stepper estimates no error (it cannot step adaptively)."""
        return None

    @property
    def embedded(self) -> bool:
        """Whether the stepper estimates its local error (needed for adaptive stepping)."""
        return self.error_order is not None

    def trial_step(self, func: VectorField, t: float, dt: float, y: Y, start_rate: Y | None = None) -> TrialStep:
        """One step with its local error estimate; ``start_rate`` is ``func(t, y)`` when known."""
        raise InputError(f"method {self.name!r} has no embedded pair: it cannot estimate errors")
