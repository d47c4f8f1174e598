"""An ODE block for ``dz/dt = L z + N(z)`` with static weights, stepped by an exponential integrator.

:class:`~physode.nn.ODEBlock` steps one vector field with a Runge-Kutta method; an integrating-factor
stepper (``"ifrk4"``) needs the field split into a linear part with a closed-form exponential and the
rest, which ``f`` offers as ``f.nonlinear(z)`` and ``f.propagate(z, dt)`` (e.g. a
:class:`~physode.nn.FourierField` with ``diagonal_linear``). The stiff linear part then sets no step
size limit; only ``N`` must be resolved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from torch import Tensor, nn

from physode.errors import InputError
from physode.gradients import Adjoint, GradientStrategy, get_gradient
from physode.grids import as_times, check_steps
from physode.integrate import odeint
from physode.steppers import Stepper, get_method


@dataclass(frozen=True, eq=False)
class _Split:
    """``f`` as the :class:`~physode.steppers.Semilinear` the stepper reads (autonomous: ``t`` unused)."""

    f: nn.Module

    def __call__(self, t: float, z: Tensor) -> Tensor:
        return self.f(z)

    def nonlinear(self, t: float, z: Tensor) -> Tensor:
        return self.f.nonlinear(z)

    def propagate(self, z: Tensor, dt: float) -> Tensor:
        return self.f.propagate(z, dt)


class SemilinearODEBlock(nn.Module):
    """``z`` at each output time of ``dz/dt = f(z) = L z + N(z)``, ``steps`` steps per output interval.

    Args:
        f: the field, with ``nonlinear(z)`` (``N``) and ``propagate(z, dt)`` (``exp(L dt) z``, exact).
        steps: steps per output interval (the shortest one's step for all, where intervals differ).
        method: an exponential stepper (``"ifrk4"``).
        grad: ``"checkpoint"``, ``"backprop"`` or ``"recursive"``: discrete gradients, exact for the
            steps taken. The adjoint is refused: it would solve the split ODE backwards with a
            Runge-Kutta method, through the stiff modes the split exists to step over.
    """

    def __init__(self, f: nn.Module, *, steps: int = 1, method: str | Stepper = "ifrk4",
                 grad: str | GradientStrategy = "checkpoint") -> None:
        super().__init__()
        self.f = f
        self.steps = check_steps(steps)
        self.method = get_method(method)
        if not self.method.semilinear:
            raise InputError(f"method {self.method.name!r} steps one vector field: use physode.nn.ODEBlock, "
                             "or an exponential method ('ifrk4') here")
        self.grad = get_gradient(grad)
        if isinstance(self.grad, Adjoint):
            raise InputError(f"method {self.method.name!r} has no adjoint here: use grad='checkpoint' (exact, "
                             "low memory) or 'backprop'")
        #: No weight evolves (the coupled blocks' operators; empty here, for code that counts them).
        self.operators = nn.ModuleList()

    def forward(self, z: Tensor, times: Sequence[float] | Tensor) -> Tensor:
        """``z`` at each of ``times``, stacked on dim 0 (index 0 is ``z`` itself)."""
        out_times = as_times(times, name="times")
        step = min(b - a for a, b in zip(out_times, out_times[1:])) / self.steps
        return odeint(_Split(self.f), z, out_times, method=self.method, grad=self.grad, step_size=step,
                      params=tuple(self.f.parameters()))
