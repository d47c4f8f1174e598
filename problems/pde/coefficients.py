"""Time-dependent PDE coefficients c(t), nu(t), ... with their exact integrals, and their spec strings.

A coefficient is anything with ``c(t)`` and the cumulative integral ``C(t) = int_0^t c(s) ds``
(:class:`TimeCoefficient`): the exact solvers need C (transport shifts by C(t), diffusion spreads
by N(t) = int nu). The closed-form families below are small frozen dataclasses; formulas and plain
functions get C by quadrature (:mod:`.formulas`). On the command line a coefficient is a spec
string, ``FAMILY:key=value,...`` or ``expr:FORMULA`` (:data:`COEFFICIENT_SPEC_HELP`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Protocol, runtime_checkable

import numpy as np

from physode.errors import InputError
from physode.problems.pde.formulas import QuadratureCoefficient, coefficient_from_formula


@runtime_checkable
class TimeCoefficient(Protocol):
    """A coefficient c(t) together with its cumulative integral C(t) = int_0^t c(s) ds."""

    def c(self, t: np.ndarray) -> np.ndarray: ...

    def C(self, t: np.ndarray) -> np.ndarray: ...  # noqa: N802 (the paper's notation)

    @property
    def spec(self) -> str: ...


@dataclass(frozen=True)
class _Family:
    """Base of the closed-form families: checks and coerces fields, and writes the spec string.

    Field names double as the keys of :func:`coefficient_from_spec`, so the parser and the classes
    cannot drift apart.
    """

    name: ClassVar[str]
    sequence_fields: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            try:
                array = np.atleast_1d(np.asarray(value, dtype=np.float64))
            except (TypeError, ValueError):
                raise InputError(
                    f"{self.name} coefficient: {field.name}={value!r} is not a number"
                ) from None
            if not np.all(np.isfinite(array)):
                raise InputError(f"{self.name} coefficient: {field.name}={value!r} must be finite")
            if field.name in self.sequence_fields:
                coerced: object = tuple(float(v) for v in array)
            elif array.shape == (1,):
                coerced = float(array[0])
            else:
                raise InputError(
                    f"{self.name} coefficient: {field.name} takes one number, got {value!r}"
                )
            object.__setattr__(self, field.name, coerced)

    @property
    def spec(self) -> str:
        """The string :func:`coefficient_from_spec` parses back into this coefficient."""
        parts = []
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            text = "|".join(map(repr, value)) if isinstance(value, tuple) else repr(value)
            parts.append(f"{field.name}={text}")
        return f"{self.name}:{','.join(parts)}"


@dataclass(frozen=True)
class Constant(_Family):
    """c(t) = c0: a static-weight (ANODE) block can learn this one."""

    name: ClassVar[str] = "constant"
    c0: float = 1.0

    def c(self, t: np.ndarray) -> np.ndarray:
        return np.full_like(np.asarray(t, dtype=np.float64), self.c0)

    def C(self, t: np.ndarray) -> np.ndarray:  # noqa: N802
        return self.c0 * np.asarray(t, dtype=np.float64)


@dataclass(frozen=True)
class Linear(_Family):
    """c(t) = c0 + slope t."""

    name: ClassVar[str] = "linear"
    c0: float = 0.0
    slope: float = 1.0

    def c(self, t: np.ndarray) -> np.ndarray:
        return self.c0 + self.slope * np.asarray(t, dtype=np.float64)

    def C(self, t: np.ndarray) -> np.ndarray:  # noqa: N802
        t = np.asarray(t, dtype=np.float64)
        return self.c0 * t + 0.5 * self.slope * t**2


@dataclass(frozen=True)
class Exponential(_Family):
    """c(t) = c0 exp(a t): the growth law theta(t) = theta0 exp(rho t) of an ANODEV2 reaction term."""

    name: ClassVar[str] = "exponential"
    c0: float = 0.5
    a: float = 1.5

    def c(self, t: np.ndarray) -> np.ndarray:
        return self.c0 * np.exp(self.a * np.asarray(t, dtype=np.float64))

    def C(self, t: np.ndarray) -> np.ndarray:  # noqa: N802
        t = np.asarray(t, dtype=np.float64)
        if self.a == 0.0:
            return self.c0 * t
        return self.c0 * np.expm1(self.a * t) / self.a  # expm1: accurate for small a t


@dataclass(frozen=True)
class Sinusoidal(_Family):
    """c(t) = c0 + amp sin(2 pi freq t + phase): the velocity reverses when amp > |c0|."""

    name: ClassVar[str] = "sinusoidal"
    c0: float = 0.0
    amp: float = 1.0
    freq: float = 1.0
    phase: float = 0.0

    def c(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=np.float64)
        return self.c0 + self.amp * np.sin(2 * np.pi * self.freq * t + self.phase)

    def C(self, t: np.ndarray) -> np.ndarray:  # noqa: N802
        t = np.asarray(t, dtype=np.float64)
        if self.freq == 0.0:
            return (self.c0 + self.amp * math.sin(self.phase)) * t
        omega = 2 * np.pi * self.freq
        return self.c0 * t + self.amp / omega * (math.cos(self.phase) - np.cos(omega * t + self.phase))


@dataclass(frozen=True)
class PiecewiseConstant(_Family):
    """c(t) = values[i] on [times[i-1], times[i]) (times[-1] = 0, times[n] = inf); C is piecewise linear.

    ``times`` are the breakpoints (strictly increasing, > 0); ``values`` has one more entry.
    """

    name: ClassVar[str] = "piecewise"
    sequence_fields: ClassVar[tuple[str, ...]] = ("times", "values")
    times: tuple[float, ...]
    values: tuple[float, ...]

    def __post_init__(self) -> None:
        super().__post_init__()
        times = np.asarray(self.times)
        if len(self.values) != len(times) + 1:
            raise InputError(
                f"piecewise coefficient: {len(times)} breakpoint(s) need {len(times) + 1} values, "
                f"got {len(self.values)}"
            )
        if times.size and (times[0] <= 0 or np.any(np.diff(times) <= 0)):
            raise InputError(
                f"piecewise coefficient: breakpoints {self.times} must be positive and strictly "
                "increasing"
            )

    def _segments(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per time: the segment index, the segment's start time and C at that start."""
        starts = np.concatenate([[0.0], self.times])
        values = np.asarray(self.values)
        c_at_starts = np.concatenate([[0.0], np.cumsum(values[:-1] * np.diff(starts))])
        index = np.searchsorted(self.times, t, side="right")
        return index, starts[index], c_at_starts[index]

    def c(self, t: np.ndarray) -> np.ndarray:
        index, _, _ = self._segments(np.asarray(t, dtype=np.float64))
        return np.asarray(self.values)[index]

    def C(self, t: np.ndarray) -> np.ndarray:  # noqa: N802
        t = np.asarray(t, dtype=np.float64)
        index, start, c_at_start = self._segments(t)
        return c_at_start + np.asarray(self.values)[index] * (t - start)


COEFFICIENT_FAMILIES: dict[str, type[_Family]] = {
    cls.name: cls for cls in (Constant, Linear, Exponential, Sinusoidal, PiecewiseConstant)
}

def _describe_field(field: dataclasses.Field) -> str:
    return field.name if field.default is dataclasses.MISSING else f"{field.name}={field.default}"


COEFFICIENT_SPEC_HELP = (
    "FAMILY:key=value,... with families "
    + "; ".join(
        f"{name} ({', '.join(_describe_field(f) for f in dataclasses.fields(cls))})"
        for name, cls in COEFFICIENT_FAMILIES.items()
    )
    + ". Lists use '|', e.g. piecewise:times=0.3|0.6,values=1|-1|0.5. "
    "Or expr:FORMULA in t with numpy functions, e.g. expr:0.5+sin(3*t)."
)


def coefficient_from_spec(spec: str) -> TimeCoefficient:
    """Parse a command-line coefficient such as ``"exponential:c0=0.5,a=1.5"`` (see COEFFICIENT_SPEC_HELP).

    Keys are the dataclass field names of the family; omitted keys take the field defaults.
    ``"expr:FORMULA"`` compiles a formula in ``t`` with :func:`coefficient_from_formula`.
    """
    family, sep, rest = spec.partition(":")
    family = family.strip().lower()
    if family == "expr":
        return coefficient_from_formula(rest)
    if family not in COEFFICIENT_FAMILIES:
        raise InputError(
            f"unknown coefficient {spec!r}; expected {', '.join([*COEFFICIENT_FAMILIES, 'expr'])} "
            f"followed by ':', e.g. exponential:c0=0.5,a=1.5"
        )
    cls = COEFFICIENT_FAMILIES[family]
    names = [field.name for field in dataclasses.fields(cls)]
    params: dict[str, object] = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, eq, value = (piece.strip() for piece in item.partition("="))
        if not eq or key not in names:
            raise InputError(
                f"coefficient {spec!r}: {item!r} is not key=value with key in {', '.join(names)}"
            )
        params[key] = value.split("|") if key in cls.sequence_fields else value
    missing = [
        f.name for f in dataclasses.fields(cls) if f.name not in params and f.default is dataclasses.MISSING
    ]
    if missing:
        raise InputError(f"coefficient {spec!r}: missing {', '.join(missing)}; see --help")
    return cls(**params)


def as_coefficient(value: TimeCoefficient | str | Callable[[float], float]) -> TimeCoefficient:
    """Accept a coefficient object, a spec string or a plain function of t."""
    if isinstance(value, str):
        return coefficient_from_spec(value)
    if isinstance(value, TimeCoefficient):
        return value
    if callable(value):
        return QuadratureCoefficient(value, label=f"callable:{getattr(value, '__name__', '?')}")
    raise InputError(f"a coefficient must be a spec string, a coefficient object or a function, got {value!r}")

CoefficientLike = TimeCoefficient | str | float | Callable[[float], float]
"""What the simulators accept as a coefficient: an object, a spec string, a number or a function."""


def coefficient(name: str, value: CoefficientLike) -> TimeCoefficient:
    """A coefficient with its exact integral from a number, a spec string, a function or an object.

    Errors name the coefficient (e.g. ``nu``).
    """
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        return Constant(c0=float(value))
    if isinstance(value, str):
        try:
            return Constant(c0=float(value))
        except ValueError:
            pass
    try:
        return as_coefficient(value)
    except InputError as err:
        raise InputError(f"{name}(t) = {value!r}: {err}") from None


def sample(name: str, coef: TimeCoefficient, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The coefficient and its integral at ``t``, checked finite."""
    values, integral = coef.c(t), coef.C(t)
    finite = np.isfinite(values) & np.isfinite(integral)
    if not finite.all():
        raise InputError(f"{name}(t) = {coef.spec} is NaN or infinite at t={t[~finite][0]}; fix it")
    return values, integral
