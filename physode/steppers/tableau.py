"""Explicit Runge-Kutta methods as data: one Butcher tableau each, one loop for all.

A method is its coefficients (``a``, ``b``, ``c``), not a copy of the stepping loop; adding a
method means adding a tableau to :data:`METHODS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from torch import Tensor

from physode.errors import InputError

# What a stepper advances: a tensor or a tuple of tensors (a coupled system, an adjoint's
# augmented state). Distinct from the gradient strategies' `State`, which is always a tuple.
Y = TypeVar("Y", Tensor, tuple[Tensor, ...])
VectorField = Callable[[float, Y], Y]


def _axpy(y: Y, scale: float, k: Y) -> Y:
    """``y + scale * k`` for tensors and tuples of tensors alike."""
    if isinstance(y, Tensor):
        return y + scale * k
    return tuple(y_i + scale * k_i for y_i, k_i in zip(y, k))


@dataclass(frozen=True)
class ButcherTableau:
    """An explicit Runge-Kutta method.

    ``a`` is strictly lower triangular (row ``i`` holds the weights of stages ``0..i-1``), ``b``
    the weights of the update, ``c`` the stage times as fractions of the step.
    """

    name: str
    order: int
    a: tuple[tuple[float, ...], ...]
    b: tuple[float, ...]
    c: tuple[float, ...]

    def __post_init__(self) -> None:
        stages = len(self.b)
        if len(self.c) != stages or len(self.a) != stages:
            raise ValueError(f"tableau {self.name!r}: a, b and c must all have {stages} stages")
        for i, row in enumerate(self.a):
            if len(row) != i:
                raise ValueError(f"tableau {self.name!r}: row {i} of a must have {i} entries")

    @property
    def stages(self) -> int:
        return len(self.b)

    def step(self, func: VectorField, t: float, dt: float, y: Y) -> Y:
        """One step ``y(t) -> y(t + dt)`` of ``dy/dt = func(t, y)`` (``dt`` may be negative)."""
        slopes: list[Y] = []
        for a_row, c_i in zip(self.a, self.c):
            stage = y
            for a_ij, k_j in zip(a_row, slopes):
                if a_ij != 0.0:
                    stage = _axpy(stage, a_ij * dt, k_j)
            slopes.append(func(t + c_i * dt, stage))
        out = y
        for b_i, k_i in zip(self.b, slopes):
            if b_i != 0.0:
                out = _axpy(out, b_i * dt, k_i)
        return out


EULER = ButcherTableau("euler", 1, a=((),), b=(1.0,), c=(0.0,))
MIDPOINT = ButcherTableau("midpoint", 2, a=((), (0.5,)), b=(0.0, 1.0), c=(0.0, 0.5))
HEUN = ButcherTableau("heun", 2, a=((), (1.0,)), b=(0.5, 0.5), c=(0.0, 1.0))
RK4 = ButcherTableau(
    "rk4",
    4,
    a=((), (0.5,), (0.0, 0.5), (0.0, 0.0, 1.0)),
    b=(1 / 6, 1 / 3, 1 / 3, 1 / 6),
    c=(0.0, 0.5, 0.5, 1.0),
)

METHODS: dict[str, ButcherTableau] = {m.name: m for m in (EULER, MIDPOINT, HEUN, RK4)}


def get_method(method: str | ButcherTableau) -> ButcherTableau:
    """Resolve a method name (or pass a tableau through)."""
    if isinstance(method, ButcherTableau):
        return method
    try:
        return METHODS[method]
    except (KeyError, TypeError):
        raise InputError(
            f"unknown method {method!r}: choose one of {sorted(METHODS)} "
            "or pass a physode.ButcherTableau"
        ) from None
