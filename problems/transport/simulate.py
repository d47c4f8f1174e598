"""Exact trajectories of 1D periodic transport, dz/dt = c(t) dz/dx, for training and testing.

Domain and grid: x in [0, L) with period L (default L = 1), x_j = j L / Nx for j = 0 .. Nx - 1.

Exact solution by characteristics: z(x, t) = z0(x + C(t)) with C(t) = int_0^t c(s) ds. On the grid
this is a phase rotation of every Fourier mode, z^_k(t) = z^_k(0) exp(i k C(t)) with
k = 2 pi n / L, applied with real FFTs in float64. The result is the exact PDE solution for the
trigonometric interpolant of the sampled initial condition, so it is exact (to rounding) whenever
z0 is resolved on the grid; the built-in initial conditions are constructed so that they are
(Fourier modes below Nyquist, Gaussian widths of at least three grid cells).

Velocities are small frozen dataclasses with ``c(t)`` and the exact cumulative integral ``C(t)``;
arbitrary callables and formulas in ``t`` get ``C(t)`` by adaptive quadrature.
"""

from __future__ import annotations

import ast
import dataclasses
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike
from scipy import integrate, special

from physode.errors import InputError
from physode.io.trajectories import make_test_mask, write_trajectories

EQUATION = "dz/dt = c(t) dz/dx"

Profile = Callable[[np.ndarray], np.ndarray]
"""An initial condition drawn for ``n`` samples: maps points ``p`` (any shape) to ``(n, *p.shape)``."""


# --------------------------------------------------------------------------------------------------
# Velocities c(t)
# --------------------------------------------------------------------------------------------------


@runtime_checkable
class Velocity(Protocol):
    """A velocity c(t) together with its cumulative integral C(t) = int_0^t c(s) ds."""

    def c(self, t: np.ndarray) -> np.ndarray: ...

    def C(self, t: np.ndarray) -> np.ndarray: ...  # noqa: N802 (the paper's notation)

    @property
    def spec(self) -> str: ...


@dataclass(frozen=True)
class _Family:
    """Base of the closed-form families: checks and coerces fields, and writes the spec string.

    Field names double as the keys of :func:`velocity_from_spec`, so the parser and the classes
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
                    f"{self.name} velocity: {field.name}={value!r} is not a number"
                ) from None
            if not np.all(np.isfinite(array)):
                raise InputError(f"{self.name} velocity: {field.name}={value!r} must be finite")
            if field.name in self.sequence_fields:
                coerced: object = tuple(float(v) for v in array)
            elif array.shape == (1,):
                coerced = float(array[0])
            else:
                raise InputError(
                    f"{self.name} velocity: {field.name} takes one number, got {value!r}"
                )
            object.__setattr__(self, field.name, coerced)

    @property
    def spec(self) -> str:
        """The string :func:`velocity_from_spec` parses back into this velocity."""
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
                f"piecewise velocity: {len(times)} breakpoint(s) need {len(times) + 1} values, "
                f"got {len(self.values)}"
            )
        if times.size and (times[0] <= 0 or np.any(np.diff(times) <= 0)):
            raise InputError(
                f"piecewise velocity: breakpoints {self.times} must be positive and strictly "
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


@dataclass(frozen=True)
class QuadratureVelocity:
    """Any scalar function c(t); C(t) by adaptive Gauss-Kronrod quadrature (``scipy.integrate.quad``).

    C is accumulated interval by interval between the requested times with absolute and relative
    tolerances of 1e-13 / 1e-12, so for a smooth c the error in C is ~1e-12 relative. A c with
    kinks or jumps is still integrated correctly but may converge more slowly; prefer
    :class:`PiecewiseConstant` for jumps.
    """

    func: Callable[[float], float]
    label: str = "callable"

    @property
    def spec(self) -> str:
        return self.label

    def c(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=np.float64)
        with np.errstate(all="ignore"):
            values = [self._call(float(s)) for s in t.ravel()]
        return np.array(values, dtype=np.float64).reshape(t.shape)

    def C(self, t: np.ndarray) -> np.ndarray:  # noqa: N802
        t = np.asarray(t, dtype=np.float64)
        nodes, inverse = np.unique(np.concatenate([[0.0], t.ravel()]), return_inverse=True)
        with np.errstate(all="ignore"):
            pieces = [
                integrate.quad(self._call, a, b, epsabs=1e-13, epsrel=1e-12, limit=200)[0]
                for a, b in zip(nodes[:-1], nodes[1:])
            ]
        cumulative = np.concatenate([[0.0], np.cumsum(pieces)])
        cumulative -= cumulative[inverse[0]]  # C(0) = 0 even when some times are negative
        return cumulative[inverse[1:]].reshape(t.shape)

    def _call(self, s: float) -> float:
        try:
            return float(self.func(s))
        except (ArithmeticError, TypeError, ValueError) as err:
            raise InputError(f"velocity {self.label}: evaluating c({s}) failed: {err}") from None


# Names a velocity formula may use: numpy functions only, no builtins, no attributes.
_FORMULA_FUNCTIONS: dict[str, Callable[..., object]] = {
    name: getattr(np, name)
    for name in (
        "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh",
        "exp", "log", "log10", "sqrt", "abs", "sign", "floor", "minimum", "maximum", "heaviside",
    )
}
_FORMULA_CONSTANTS = {"pi": math.pi, "e": math.e}
_FORMULA_NODES = (
    ast.Expression, ast.BinOp, ast.UnaryOp, ast.Call, ast.Name, ast.Load, ast.Constant,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.Mod, ast.USub, ast.UAdd,
)


def velocity_from_formula(formula: str) -> QuadratureVelocity:
    """Compile a formula in ``t`` (e.g. ``"0.5 + sin(3*t)"``) into a velocity, safely.

    The formula is parsed into a syntax tree and only arithmetic, numbers, ``t``, ``pi``, ``e``
    and a fixed list of numpy functions are allowed; it is then evaluated without builtins.
    Integer literals become floats so that ``9**9**9`` overflows instead of running forever.
    """
    allowed = ", ".join(["t", *_FORMULA_CONSTANTS, *_FORMULA_FUNCTIONS])
    try:
        tree = ast.parse(formula.strip(), mode="eval")
    except SyntaxError as err:
        raise InputError(
            f"velocity formula {formula!r} is not valid syntax ({err.msg}); write a formula in t "
            "such as 0.5+sin(3*t)"
        ) from None
    callees = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    for node in ast.walk(tree):
        if not isinstance(node, _FORMULA_NODES):
            raise InputError(
                f"velocity formula {formula!r}: {type(node).__name__} is not allowed; use "
                f"arithmetic (+ - * / ** %) on numbers and the names {allowed}"
            )
        if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float)):
            raise InputError(f"velocity formula {formula!r}: {node.value!r} is not a number")
        if isinstance(node, ast.Call) and (not isinstance(node.func, ast.Name) or node.keywords):
            raise InputError(
                f"velocity formula {formula!r}: call functions by name with positional "
                f"arguments, e.g. sin(3*t); allowed names: {allowed}"
            )
        if isinstance(node, ast.Name):
            known = _FORMULA_FUNCTIONS if id(node) in callees else {"t": 0, **_FORMULA_CONSTANTS}
            if node.id not in known:
                raise InputError(
                    f"velocity formula {formula!r}: unknown name {node.id!r}; allowed: {allowed}"
                )
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            node.value = float(node.value)
    code = compile(tree, "<velocity formula>", "eval")
    namespace = {"__builtins__": {}, **_FORMULA_FUNCTIONS, **_FORMULA_CONSTANTS}
    return QuadratureVelocity(
        func=lambda t: eval(code, namespace, {"t": np.float64(t)}),  # noqa: S307 (checked tree)
        label=f"expr:{formula.strip()}",
    )


VELOCITY_FAMILIES: dict[str, type[_Family]] = {
    cls.name: cls for cls in (Constant, Linear, Exponential, Sinusoidal, PiecewiseConstant)
}

def _describe_field(field: dataclasses.Field) -> str:
    return field.name if field.default is dataclasses.MISSING else f"{field.name}={field.default}"


VELOCITY_SPEC_HELP = (
    "FAMILY:key=value,... with families "
    + "; ".join(
        f"{name} ({', '.join(_describe_field(f) for f in dataclasses.fields(cls))})"
        for name, cls in VELOCITY_FAMILIES.items()
    )
    + ". Lists use '|', e.g. piecewise:times=0.3|0.6,values=1|-1|0.5. "
    "Or expr:FORMULA in t with numpy functions, e.g. expr:0.5+sin(3*t)."
)


def velocity_from_spec(spec: str) -> Velocity:
    """Parse a command-line velocity such as ``"exponential:c0=0.5,a=1.5"`` (see VELOCITY_SPEC_HELP).

    Keys are the dataclass field names of the family; omitted keys take the field defaults.
    ``"expr:FORMULA"`` compiles a formula in ``t`` with :func:`velocity_from_formula`.
    """
    family, sep, rest = spec.partition(":")
    family = family.strip().lower()
    if family == "expr":
        return velocity_from_formula(rest)
    if family not in VELOCITY_FAMILIES:
        raise InputError(
            f"unknown velocity {spec!r}; expected {', '.join([*VELOCITY_FAMILIES, 'expr'])} "
            f"followed by ':', e.g. exponential:c0=0.5,a=1.5"
        )
    cls = VELOCITY_FAMILIES[family]
    names = [field.name for field in dataclasses.fields(cls)]
    params: dict[str, object] = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, eq, value = (piece.strip() for piece in item.partition("="))
        if not eq or key not in names:
            raise InputError(
                f"velocity {spec!r}: {item!r} is not key=value with key in {', '.join(names)}"
            )
        params[key] = value.split("|") if key in cls.sequence_fields else value
    missing = [
        f.name for f in dataclasses.fields(cls) if f.name not in params and f.default is dataclasses.MISSING
    ]
    if missing:
        raise InputError(f"velocity {spec!r}: missing {', '.join(missing)}; see --help")
    return cls(**params)


def as_velocity(velocity: Velocity | str | Callable[[float], float]) -> Velocity:
    """Accept a velocity object, a spec string or a plain function of t."""
    if isinstance(velocity, str):
        return velocity_from_spec(velocity)
    if isinstance(velocity, Velocity):
        return velocity
    if callable(velocity):
        return QuadratureVelocity(velocity, label=f"callable:{getattr(velocity, '__name__', '?')}")
    raise InputError(f"velocity must be a spec string, a velocity object or a function, got {velocity!r}")


# --------------------------------------------------------------------------------------------------
# Initial conditions z0(x), each drawn reproducibly from a numpy Generator
# --------------------------------------------------------------------------------------------------


def _periodise(bump: Callable[[np.ndarray], np.ndarray], points: np.ndarray, length: float, reach: float) -> np.ndarray:
    """Sum ``bump`` over the periodic images p + m L that can lie within ``reach`` of the domain."""
    points = np.mod(points, length)
    images = math.ceil(reach / length) + 1
    return sum(bump(points + m * length) for m in range(-images, images + 1))


@dataclass(frozen=True)
class FourierSeries:
    """Sum of ``n_modes`` sines A sin(2 pi n x / L + phi) as in PDEBench: random integer n, A, phi.

    ``n`` is drawn from 1 .. max_wavenumber (default min(8, Nx/2 - 1), so every mode sits below
    Nyquist), A uniformly from [0, 1), phi from [0, 2 pi).
    """

    n_modes: int = 2
    max_wavenumber: int | None = None

    def draw(self, rng: np.random.Generator, n: int, length: float, nx: int) -> Profile:
        top = min(8, nx // 2 - 1) if self.max_wavenumber is None else self.max_wavenumber
        if not 1 <= top < nx / 2:
            raise InputError(
                f"fourier initial condition: max wavenumber {top} must be in 1 .. {math.ceil(nx / 2) - 1} "
                f"for nx={nx} (modes at or above Nyquist are not resolved); lower it or raise nx"
            )
        wavenumbers = rng.integers(1, top + 1, size=(n, self.n_modes))
        amplitudes = rng.uniform(0.0, 1.0, size=(n, self.n_modes))
        phases = rng.uniform(0.0, 2 * np.pi, size=(n, self.n_modes))

        def profile(points: np.ndarray) -> np.ndarray:
            arg = 2 * np.pi / length * wavenumbers[..., None] * np.ravel(points) + phases[..., None]
            return np.einsum("nm,nmp->np", amplitudes, np.sin(arg)).reshape(n, *np.shape(points))

        return profile


@dataclass(frozen=True)
class GaussianBumps:
    """One periodised Gaussian exp(-(x - x0)^2 / (2 s^2)) per sample, random centre and width.

    x0 is uniform on [0, L); s is uniform on ``width`` (fractions of L), but never below three grid
    cells so the bump stays resolved and the Fourier shift stays exact.
    """

    width: tuple[float, float] = (0.03, 0.1)

    def draw(self, rng: np.random.Generator, n: int, length: float, nx: int) -> Profile:
        floor = 3 * length / nx
        low, high = (max(w * length, floor) for w in self.width)
        centres = rng.uniform(0.0, length, size=(n, 1))
        widths = rng.uniform(low, high, size=(n, 1))

        def profile(points: np.ndarray) -> np.ndarray:
            p = np.ravel(points)[None, :]
            values = _periodise(lambda q: np.exp(-0.5 * ((q - centres) / widths) ** 2), p, length, 10 * high)
            return values.reshape(n, *np.shape(points))

        return profile


@dataclass(frozen=True)
class Windowed:
    """A periodic top-hat of random centre and width with Gaussian-smoothed edges.

    It looks discontinuous on the grid yet stays resolved: the top-hat on [a, b] is convolved with a
    Gaussian whose standard deviation is ``edge_cells`` grid cells, giving
    (erf((x - a) / (sqrt2 s)) - erf((x - b) / (sqrt2 s))) / 2, periodised. Below about three
    cells the edges are under-resolved and the Fourier shift rings.
    """

    width: tuple[float, float] = (0.1, 0.5)
    edge_cells: float = 3.0

    def draw(self, rng: np.random.Generator, n: int, length: float, nx: int) -> Profile:
        edge = self.edge_cells * length / nx
        widths = rng.uniform(*(w * length for w in self.width), size=(n, 1))
        starts = rng.uniform(0.0, length, size=(n, 1))
        scale = math.sqrt(2) * edge

        def window(q: np.ndarray) -> np.ndarray:
            return 0.5 * (special.erf((q - starts) / scale) - special.erf((q - starts - widths) / scale))

        def profile(points: np.ndarray) -> np.ndarray:
            p = np.ravel(points)[None, :]
            reach = length + 10 * edge
            return _periodise(window, p, length, reach).reshape(n, *np.shape(points))

        return profile


InitialCondition = FourierSeries | GaussianBumps | Windowed

INITIAL_CONDITIONS: dict[str, InitialCondition] = {
    "fourier": FourierSeries(),
    "gaussian": GaussianBumps(),
    "windowed": Windowed(),
}


# --------------------------------------------------------------------------------------------------
# The simulator
# --------------------------------------------------------------------------------------------------


def grid(nx: int, length: float = 1.0) -> np.ndarray:
    """The periodic grid x_j = j L / Nx, j = 0 .. Nx - 1 (the end point L is the start again)."""
    if not isinstance(nx, (int, np.integer)) or nx < 4:
        raise InputError(f"nx must be an integer >= 4, got {nx!r}")
    if not (math.isfinite(length) and length > 0):
        raise InputError(f"domain length must be positive and finite, got {length!r}")
    return np.arange(nx) * (length / nx)


def check_times(times: ArrayLike) -> np.ndarray:
    """Output times as float64: 1-D, finite, strictly increasing, starting at 0 (the initial state)."""
    t = np.asarray(times, dtype=np.float64)
    if t.ndim != 1 or t.size < 1:
        raise InputError(f"times must be a non-empty 1-D array, got shape {t.shape}")
    if not np.all(np.isfinite(t)):
        raise InputError("times contain NaN or Inf; pass finite times")
    if t[0] != 0.0:
        raise InputError(f"times must start at 0 (the initial condition), got t[0]={t[0]}")
    if np.any(np.diff(t) <= 0):
        raise InputError("times must be strictly increasing; sort them and drop duplicates")
    return t


def shift_periodic(z0: np.ndarray, shifts: np.ndarray, length: float = 1.0) -> np.ndarray:
    """Evaluate z0(x + s) on the grid for every sample and shift: ``(n, nx), (m,) -> (n, m, nx)``.

    Each Fourier mode is rotated by exp(i k s). This is exact for the trigonometric interpolant
    of ``z0``; for even Nx the Nyquist mode cannot be shifted unambiguously and keeps only its real
    part (resolved data has none).
    """
    nx = z0.shape[-1]
    k = 2 * np.pi * np.fft.rfftfreq(nx, d=length / nx)
    spectrum = np.fft.rfft(z0, axis=-1)
    rotation = np.exp(1j * np.multiply.outer(shifts, k))
    return np.fft.irfft(spectrum[:, None, :] * rotation[None, :, :], n=nx, axis=-1)


def initial_profile(
    initial: str | InitialCondition, n_samples: int, nx: int, seed: int, length: float = 1.0
) -> Profile:
    """Draw ``n_samples`` initial conditions from a named or given family with ``default_rng(seed)``."""
    if isinstance(initial, str):
        if initial not in INITIAL_CONDITIONS:
            raise InputError(
                f"unknown initial condition {initial!r}; choose one of {', '.join(INITIAL_CONDITIONS)}"
            )
        initial = INITIAL_CONDITIONS[initial]
    return initial.draw(np.random.default_rng(seed), n_samples, length, nx)


def simulate(
    n_samples: int,
    nx: int,
    times: ArrayLike,
    velocity: Velocity | str | Callable[[float], float],
    initial: str | InitialCondition | np.ndarray = "fourier",
    seed: int = 0,
    length: float = 1.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Exact transport trajectories for ``n_samples`` random initial conditions.

    ``initial`` is a family name (see INITIAL_CONDITIONS), a family object, or an array
    ``(n_samples, nx)`` of initial states on the grid. The same ``seed`` gives the same data.

    Returns ``(u, x, t, c_of_t)``: ``u`` float64 ``(sample, time, x)`` with ``u[:, 0]`` the initial
    state, the grid ``x``, the times ``t`` and the velocity ``c`` at those times.
    """
    if not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise InputError(f"n_samples must be a positive integer, got {n_samples!r}")
    x = grid(nx, length)
    t = check_times(times)
    velocity = as_velocity(velocity)
    c_of_t, shifts = velocity.c(t), velocity.C(t)
    if not (np.all(np.isfinite(c_of_t)) and np.all(np.isfinite(shifts))):
        bad = t[~(np.isfinite(c_of_t) & np.isfinite(shifts))][0]
        raise InputError(f"velocity {velocity.spec} is NaN or infinite at t={bad}; fix its parameters")
    if isinstance(initial, np.ndarray):
        z0 = np.asarray(initial, dtype=np.float64)
        if z0.shape != (n_samples, nx) or not np.all(np.isfinite(z0)):
            raise InputError(
                f"initial array must be finite with shape (n_samples, nx) = {(n_samples, nx)}, "
                f"got shape {z0.shape}"
            )
    else:
        z0 = initial_profile(initial, n_samples, nx, seed, length)(x)
    return shift_periodic(z0, shifts, length), x, t, c_of_t


def simulate_to_file(
    path: str | os.PathLike[str],
    n_samples: int,
    nx: int,
    times: ArrayLike,
    velocity: Velocity | str | Callable[[float], float],
    initial: str = "fourier",
    seed: int = 0,
    length: float = 1.0,
    test_fraction: float = 0.2,
    compression: str | None = None,
) -> Path:
    """Simulate and write a trajectory file (physode format) with a seeded random train/test split.

    The generator settings stored in the file are enough to regenerate it exactly.
    """
    velocity = as_velocity(velocity)
    u, x, t, c_of_t = simulate(n_samples, nx, times, velocity, initial, seed, length)
    mask = make_test_mask(n_samples, test_fraction, seed)
    settings = {
        "pde": "transport",
        "velocity": velocity.spec,
        "initial": initial,
        "n_samples": n_samples,
        "nx": nx,
        "times": t.tolist(),
        "length": length,
        "test_fraction": test_fraction,
        "grid": "x_j = j L / nx, periodic",
        "solver": "exact: Fourier phase shift exp(i k C(t)), float64",
    }
    return write_trajectories(
        path, u, t, x, equation=EQUATION, coefficients={"c": c_of_t}, test_mask=mask,
        generator=settings, seed=seed, compression=compression,
    )
