"""Explicit Runge-Kutta methods as data: one Butcher tableau each, one loop for all.

A method is its coefficients (``a``, ``b``, ``c``, and for an embedded pair the second weight
vector ``b_low``), not a copy of the stepping loop; adding a method means adding a tableau to
:data:`TABLEAUS`. Every tableau is checked against the Runge-Kutta order conditions (one per rooted
tree, Butcher's theory) up to its declared order when it is built.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property, lru_cache

import torch
from torch import Tensor

from physode.errors import InputError
from physode.steppers.stepper import Stepper, TrialStep, VectorField, WeightGroups, Y, combine_groups, weight_groups

#: Relative tolerance of the order conditions (the coefficients are rounded decimal fractions).
ORDER_CONDITION_TOLERANCE = 1e-12


@dataclass(frozen=True)
class ButcherTableau(Stepper):
    """An explicit Runge-Kutta method, optionally with an embedded pair for error control.

    ``a`` is strictly lower triangular (row ``i`` holds the weights of stages ``0..i-1``), ``b``
    the weights of the update (of order ``order``), ``c`` the stage times as fractions of the
    step. An embedded pair adds ``b_low``, weights of a solution of order ``order_low`` from the
    same stages: ``b - b_low`` estimates the local error and adaptive stepping becomes possible.

    Raises :class:`~physode.errors.InputError` naming the first violated condition (shapes,
    ``c = A 1``, and every order condition of ``b`` and ``b_low`` up to their orders).
    """

    name: str
    order: int
    a: tuple[tuple[float, ...], ...]
    b: tuple[float, ...]
    c: tuple[float, ...]
    b_low: tuple[float, ...] | None = None
    order_low: int | None = None
    #: Each row of ``a`` and ``b`` as :func:`~physode.steppers.stepper.weight_groups`, computed
    #: once. Plain attributes, not cached properties: ``torch.compile`` cannot trace the lock of a
    #: cached property and would step eagerly.
    stage_groups: tuple[WeightGroups, ...] = field(init=False, repr=False, compare=False)
    update_groups: WeightGroups = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        stages = len(self.b)
        if len(self.c) != stages or len(self.a) != stages:
            raise InputError(f"tableau {self.name!r}: a, b and c must all have {stages} stages")
        for i, row in enumerate(self.a):
            if len(row) != i:
                raise InputError(f"tableau {self.name!r}: row {i} of a must have {i} entries")
        if (self.b_low is None) != (self.order_low is None):
            raise InputError(f"tableau {self.name!r}: give both b_low and order_low, or neither")
        if self.b_low is not None and len(self.b_low) != stages:
            raise InputError(f"tableau {self.name!r}: b_low must have {stages} entries")
        for i, (row, c_i) in enumerate(zip(self.a, self.c)):
            if not math.isclose(sum(row), c_i, rel_tol=ORDER_CONDITION_TOLERANCE, abs_tol=ORDER_CONDITION_TOLERANCE):
                raise InputError(
                    f"tableau {self.name!r}: c[{i}] = {c_i} but row {i} of a sums to {sum(row)} "
                    "(the stage times must satisfy c = A 1)"
                )
        self._check_order("b", self.b, self.order)
        if self.b_low is not None:
            self._check_order("b_low", self.b_low, self.order_low)
        object.__setattr__(self, "stage_groups", tuple(weight_groups(row) for row in self.a))  # frozen
        object.__setattr__(self, "update_groups", weight_groups(self.b))

    def _check_order(self, label: str, weights: Sequence[float], order: int) -> None:
        for tree in _trees_up_to(order):
            value = sum(w * phi for w, phi in zip(weights, _elementary_weights(self.a, tree)))
            target = 1.0 / _density(tree)
            if abs(value - target) > ORDER_CONDITION_TOLERANCE * max(1.0, abs(target)):
                raise InputError(
                    f"tableau {self.name!r}: {label} violates the order-{_size(tree)} condition "
                    f"{_condition_text(label, tree)} (got {value:.16g}); it is not of order {order}: "
                    "fix the coefficients or declare a lower order"
                )

    @property
    def stages(self) -> int:
        return len(self.b)

    @property
    def evaluations(self) -> int:
        return self.stages

    @property
    def error_order(self) -> int | None:
        """``min(order, order_low) + 1`` for an embedded pair, else ``None``."""
        return None if self.order_low is None else min(self.order, self.order_low) + 1

    @property
    def fsal(self) -> bool:
        """First same as last: the last stage is evaluated at the update, at the step's end."""
        return self.c[-1] == 1.0 and self.a[-1] == self.b[:-1] and self.b[-1] == 0.0

    @cached_property
    def error_groups(self) -> WeightGroups:
        """``b - b_low`` grouped (an embedded pair only)."""
        if self.b_low is None:
            raise InputError(f"method {self.name!r} has no embedded pair: it cannot estimate errors")
        return weight_groups([hi - lo for hi, lo in zip(self.b, self.b_low)])

    def slopes(self, func: VectorField, t: float, dt: float, y: Y, first: Y | None = None) -> list[Y]:
        """The stage slopes ``k_i`` of one step; ``first`` is ``k_0`` when already known (FSAL)."""
        slopes: list[Y] = []
        for groups, c_i in zip(self.stage_groups, self.c):
            if not slopes and first is not None:
                slopes.append(first)
                continue
            slopes.append(func(t + c_i * dt, combine_groups(y, dt, groups, slopes)))
        return slopes

    def step(self, func: VectorField, t: float, dt: float, y: Y) -> Y:
        """One step ``y(t) -> y(t + dt)`` of ``dy/dt = func(t, y)`` (``dt`` may be negative)."""
        return combine_groups(y, dt, self.update_groups, self.slopes(func, t, dt, y))

    def trial_step(self, func: VectorField, t: float, dt: float, y: Y, start_rate: Y | None = None) -> TrialStep:
        slopes = self.slopes(func, t, dt, y, first=start_rate)
        y_next = combine_groups(y, dt, self.update_groups, slopes)
        with torch.no_grad():
            error = self.error_estimate(dt, slopes)
        return TrialStep(y_next, error, slopes[-1] if self.fsal else None)

    def error_estimate(self, dt: float, slopes: Sequence[Y]) -> Y:
        """``dt * sum_i (b_i - b_low_i) k_i``: the embedded pair's local error estimate."""
        groups = self.error_groups
        zero = slopes[0] * 0.0 if isinstance(slopes[0], Tensor) else tuple(k * 0.0 for k in slopes[0])
        return combine_groups(zero, dt, groups, slopes)


# Rooted trees (Butcher): a tree is the sorted tuple of its children's subtrees; () is one node.
Tree = tuple


@lru_cache(maxsize=None)
def _trees_of_size(n: int) -> tuple[Tree, ...]:
    if n == 1:
        return ((),)
    trees = set()
    for children in _forests(n - 1, n - 1):
        trees.add(tuple(sorted(children)))
    return tuple(sorted(trees))


def _forests(total: int, largest: int) -> Iterator[tuple[Tree, ...]]:
    """Multisets of trees with ``total`` nodes, each tree at most ``largest`` nodes."""
    if total == 0:
        yield ()
        return
    for size in range(min(total, largest), 0, -1):
        for tree in _trees_of_size(size):
            for rest in _forests(total - size, size):
                if not rest or _size(rest[0]) < size or rest[0] <= tree:
                    yield (tree, *rest)


def _trees_up_to(order: int) -> Iterator[Tree]:
    return itertools.chain.from_iterable(_trees_of_size(n) for n in range(1, order + 1))


def _size(tree: Tree) -> int:
    return 1 + sum(_size(child) for child in tree)


def _density(tree: Tree) -> int:
    """gamma(t): the order condition of tree t is ``b . Phi(t) = 1 / gamma(t)``."""
    return _size(tree) * math.prod(_density(child) for child in tree)


def _elementary_weights(a: Sequence[Sequence[float]], tree: Tree) -> list[float]:
    """Phi(t) per stage: the product over children of ``A Phi(child)``."""
    out = [1.0] * len(a)
    for child in tree:
        inner = _elementary_weights(a, child)
        for i, row in enumerate(a):
            out[i] *= sum(a_ij * phi for a_ij, phi in zip(row, inner))
    return out


def _condition_text(label: str, tree: Tree) -> str:
    """E.g. ``sum(b * c^2) = 1/3`` or ``sum(b * A(c)) = 1/6``."""

    def factors(node: Tree) -> str:
        parts = ["c" if not child else f"A({factors(child)})" for child in node]
        grouped = [p if n == 1 else f"{p}^{n}" for p, n in ((p, parts.count(p)) for p in dict.fromkeys(parts))]
        return " * ".join(grouped)

    body = factors(tree)
    return f"sum({label}{' * ' + body if body else ''}) = {Fraction(1, _density(tree))}"


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
#: Bogacki-Shampine 3(2), FSAL (torchdiffeq's and diffrax's "bosh3").
BOSH3 = ButcherTableau(
    "bosh3",
    3,
    a=((), (1 / 2,), (0.0, 3 / 4), (2 / 9, 1 / 3, 4 / 9)),
    b=(2 / 9, 1 / 3, 4 / 9, 0.0),
    c=(0.0, 1 / 2, 3 / 4, 1.0),
    b_low=(7 / 24, 1 / 4, 1 / 3, 1 / 8),
    order_low=2,
)
#: Dormand-Prince 5(4), FSAL, advancing the 5th-order solution (torchdiffeq's default).
DOPRI5 = ButcherTableau(
    "dopri5",
    5,
    a=(
        (),
        (1 / 5,),
        (3 / 40, 9 / 40),
        (44 / 45, -56 / 15, 32 / 9),
        (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
        (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656),
        (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84),
    ),
    b=(35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0.0),
    c=(0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0),
    b_low=(5179 / 57600, 0.0, 7571 / 16695, 393 / 640, -92097 / 339200, 187 / 2100, 1 / 40),
    order_low=4,
)

#: The explicit Runge-Kutta methods, by name.
TABLEAUS: dict[str, ButcherTableau] = {m.name: m for m in (EULER, MIDPOINT, HEUN, RK4, BOSH3, DOPRI5)}
