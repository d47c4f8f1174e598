"""Exponential integrators: steppers that treat a diagonal linear part exactly.

For ``dy/dt = L y + N(t, y)`` with a stiff diagonal ``L`` (e.g. diffusion on Fourier modes,
``L_k = -nu k^2``), an explicit Runge-Kutta step must stay below ``~1/|L|``; an integrating-factor
step propagates ``L`` exactly by ``exp(L dt)`` and needs ``N`` alone to be resolved. The field is
given as a :class:`SemilinearField`, so the stepper sees ``L`` and ``N`` apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from physode.errors import InputError
from physode.steppers.stepper import Stepper


@dataclass(frozen=True, eq=False)
class SemilinearField:
    """``dy/dt = linear * y + nonlinear(t, y)``: a diagonal linear part (a tensor broadcast
    against ``y``, one rate per entry) and the rest.

    Called as ``field(t, y)`` it is the whole vector field, so every solve, the continuous adjoint
    and an explicit Runge-Kutta method see the same ODE the exponential stepper integrates.
    """

    linear: Tensor
    nonlinear: Callable[[float, Tensor], Tensor]

    def __call__(self, t: float, y: Tensor) -> Tensor:
        return self.linear * y + self.nonlinear(t, y)


class IntegratingFactorRK4(Stepper):
    """Classical RK4 applied to ``v = exp(-L t) y`` (Lawson's integrating-factor method, as in
    Trefethen's "Spectral Methods in MATLAB", program 27): exact for ``N = 0`` at any step, fourth
    order in ``dt`` otherwise; four evaluations of ``N`` per step."""

    name = "ifrk4"
    order = 4
    semilinear = True

    @property
    def evaluations(self) -> int:
        return 4

    def step(self, func: SemilinearField, t: float, dt: float, y: Tensor) -> Tensor:
        if not isinstance(func, SemilinearField):
            raise InputError(
                f"method {self.name!r} integrates dy/dt = L y + N(t, y) with a diagonal L: pass the "
                "field as physode.steppers.SemilinearField(linear, nonlinear), or use a Runge-Kutta method"
            )
        n = func.nonlinear
        half = torch.exp(func.linear * (dt / 2))
        full = half * half
        a = n(t, y)
        b = n(t + dt / 2, half * (y + dt / 2 * a))
        c = n(t + dt / 2, half * y + dt / 2 * b)
        d = n(t + dt, full * y + dt * (half * c))
        return full * y + dt / 6 * (full * a + 2 * half * (b + c) + d)


IFRK4 = IntegratingFactorRK4()
