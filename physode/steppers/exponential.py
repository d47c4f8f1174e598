"""Exponential integrators: steppers that treat a diagonal linear part exactly.

For ``dy/dt = L y + N(t, y)`` with a stiff diagonal ``L`` (e.g. diffusion on Fourier modes,
``L_k = -nu k^2``), an explicit Runge-Kutta step must stay below ``~1/|L|``; an integrating-factor
step propagates ``L`` exactly by ``exp(L dt)`` and needs ``N`` alone to be resolved. The field is
given as a :class:`Semilinear` (e.g. a :class:`SemilinearField`), so the stepper sees ``L`` and ``N``
apart. ``L`` need only be diagonal in some basis where ``exp(L dt)`` is closed form: a learned rate per
Fourier mode (:class:`physode.nn.SpectralRates`) propagates through an FFT.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import torch
from torch import Tensor

from physode.errors import InputError
from physode.steppers.stepper import Stepper


@runtime_checkable
class Semilinear(Protocol):
    """``dy/dt = L y + N(t, y)`` with ``exp(L dt)`` in closed form: what an exponential stepper steps."""

    def __call__(self, t: float, y: Tensor) -> Tensor:
        """The whole vector field ``L y + N(t, y)``."""

    def nonlinear(self, t: float, y: Tensor) -> Tensor:
        """``N(t, y)``."""

    def propagate(self, y: Tensor, dt: float) -> Tensor:
        """``exp(L dt) y``, exact."""


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

    def propagate(self, y: Tensor, dt: float) -> Tensor:
        return torch.exp(self.linear * dt) * y


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

    def step(self, func: Semilinear, t: float, dt: float, y: Tensor) -> Tensor:
        if not isinstance(func, Semilinear):
            raise InputError(
                f"method {self.name!r} integrates dy/dt = L y + N(t, y) with a diagonal L: pass the "
                "field as physode.steppers.SemilinearField(linear, nonlinear), or use a Runge-Kutta method"
            )
        n, half = func.nonlinear, dt / 2
        a = n(t, y)
        y_half = func.propagate(y, half)  # exp(L dt/2) y, used twice
        b = n(t + half, func.propagate(y + half * a, half))
        c = n(t + half, y_half + half * b)
        d = n(t + dt, func.propagate(y_half + dt * c, half))
        return func.propagate(y_half + dt / 6 * (func.propagate(a, half) + 2 * (b + c)), half) + dt / 6 * d


IFRK4 = IntegratingFactorRK4()
