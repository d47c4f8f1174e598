"""Time grids: validation of user times and their subdivision into solver steps."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from torch import Tensor

from physode.errors import InputError


def as_times(times: Tensor | Sequence[float], *, name: str = "t") -> list[float]:
    """Validate output times (1-D, finite, strictly increasing, at least two) as Python floats.

    Floats keep the stepping loop free of device synchronisations and tiny tensor allocations.
    """
    if isinstance(times, Tensor):
        if times.ndim != 1:
            raise InputError(f"{name} must be a 1-D tensor of times, got shape {tuple(times.shape)}")
        values = times.detach().cpu().double().tolist()
    else:
        values = [float(v) for v in times]
    if len(values) < 2:
        raise InputError(f"{name} needs at least two times (start and end), got {len(values)}")
    if not all(math.isfinite(v) for v in values):
        raise InputError(f"{name} contains NaN or Inf: {values}")
    for i, (a, b) in enumerate(zip(values, values[1:])):
        if not b > a:
            raise InputError(
                f"{name} must be strictly increasing, but {name}[{i + 1}] = {b} <= {name}[{i}] = {a}"
            )
    return values


def check_steps(steps: int, *, name: str = "steps") -> int:
    """Validate a number of steps (an integer >= 1)."""
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise InputError(f"{name} must be an integer >= 1, got {steps!r}")
    return steps


@dataclass(frozen=True)
class StepGrid:
    """A solver grid: the times ``t_0 < ... < t_N`` and the size of each step (``sizes[n]``, from
    ``t_n`` to ``t_{n+1}``).

    The equal steps of a subdivided interval step by one float, the interval's nominal step: the
    differences of the rounded times differ in their last bits, and what a step reuses by its size
    (an evolution operator's propagator) would be built once per distinct difference.
    """

    times: list[float]
    sizes: list[float]

    @classmethod
    def through(cls, times: Sequence[float]) -> StepGrid:
        """One step between each two consecutive ``times`` (e.g. an adaptive search's accepted grid)."""
        return cls(list(times), [b - a for a, b in zip(times, times[1:])])


def step_grid(times: Sequence[float], steps: int) -> StepGrid:
    """:func:`subdivide`'s grid with its nominal step sizes."""
    grid, _ = subdivide(times, steps)
    return StepGrid(grid, [(b - a) / steps for a, b in zip(times, times[1:]) for _ in range(steps)])


def subdivide(times: Sequence[float], steps: int) -> tuple[list[float], list[int]]:
    """Split each interval of ``times`` into ``steps`` equal steps.

    Returns the grid and the grid index of every entry of ``times``.
    """
    check_steps(steps)
    grid = [times[0]]
    outputs = [0]
    for a, b in zip(times, times[1:]):
        h = (b - a) / steps  # the nominal step (StepGrid.sizes)
        grid.extend(a + h * j for j in range(1, steps))
        grid.append(b)  # exact endpoint: no accumulated round-off at output times
        outputs.append(len(grid) - 1)
    return grid, outputs


def grid_with_step_size(times: Sequence[float], step_size: float) -> tuple[list[float], list[int]]:
    """Grid whose steps are at most ``step_size`` and that hits every output time exactly."""
    if not (isinstance(step_size, (int, float)) and math.isfinite(step_size) and step_size > 0):
        raise InputError(f"step_size must be a positive finite number, got {step_size!r}")
    grid = [times[0]]
    outputs = [0]
    for a, b in zip(times, times[1:]):
        n = max(1, math.ceil((b - a) / step_size - 1e-9))
        h = (b - a) / n
        grid.extend(a + h * j for j in range(1, n))
        grid.append(b)
        outputs.append(len(grid) - 1)
    return grid, outputs


def linspace(t0: float, t1: float, steps: int) -> list[float]:
    """``steps`` equal steps from ``t0`` to ``t1`` (both exact)."""
    check_steps(steps)
    return subdivide([t0, t1], steps)[0]


def endpoint_times(output_times: Sequence[float], steps: int) -> list[float]:
    """Per step of :func:`subdivide`'s grid, the time whose weights a coupled block with
    ``alignment="endpoints"`` applies: for step ``n`` of an interval, the ``n``-th of ``steps``
    evenly spaced points across it, both ends included (one step: the start)."""
    applied = []
    for a, b in zip(output_times, output_times[1:]):
        if steps == 1:
            applied.append(a)
            continue
        applied.extend(a + (b - a) * j / (steps - 1) for j in range(steps - 1))
        applied.append(b)  # exact endpoint
    return applied
