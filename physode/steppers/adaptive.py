"""Adaptive stepping with a stepper that estimates its error (an embedded Runge-Kutta pair) and a
PI step-size controller.

The solver accepts a step when the embedded pair's error estimate, measured in Hairer's scaled
RMS norm, is at most one, and clips steps so that every requested time is hit exactly (no dense
output: what is returned at ``t_i`` is the discrete solution there). The accepted grid is
recorded: gradient strategies replay it as a fixed grid, so the step sizes are constants of the
gradient, which is then exactly that of the accepted discrete solve.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from physode.errors import InputError, SolverError
from physode.steppers.stepper import Stepper, Y, combine

#: Largest factor a step is stretched by to land on a requested time instead of stopping short.
STRETCH = 1.1
#: Smallest step, relative to ``|t|``, that still moves ``t`` by several units of round-off.
_RELATIVE_FLOOR = 16 * torch.finfo(torch.float64).eps


@dataclass(frozen=True)
class StepSizeController:
    """PI step-size control (Hairer & Wanner II.4, DOPRI5's controller).

    The next step is ``dt * safety * ratio^-(1/k - 0.75 beta) * previous_ratio^beta`` (bounded by
    ``min_factor``, ``max_factor``), ``k`` the order of the error estimate plus one. ``beta = 0``
    is integral control, the default of torchdiffeq and diffrax; Hairer's stabilised PI control
    (``beta = 0.04``) rejects fewer steps at the cost of slower step growth.

    Args:
        rtol, atol: a step is accepted when ``RMS(err / (atol + rtol max(|y0|, |y1|))) <= 1``.
        safety: fraction of the optimal step taken.
        min_factor, max_factor: bounds of the step-size change per step.
        beta: the proportional term's weight (memory of the previous error ratio).
        first_step: initial step; by default Hairer's selection from two evaluations of ``f``.
        dt_min: smallest step before the solve gives up (always at least round-off in ``t``).
        max_steps: most trial steps (accepted and rejected) before the solve gives up.
    """

    rtol: float = 1e-7
    atol: float = 1e-9
    safety: float = 0.9
    min_factor: float = 0.2
    max_factor: float = 10.0
    beta: float = 0.0
    first_step: float | None = None
    dt_min: float = 0.0
    max_steps: int = 100_000

    def __post_init__(self) -> None:
        for name in ("rtol", "atol"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise InputError(f"{name} must be a finite number >= 0, got {value!r}")
        if self.rtol == 0 and self.atol == 0:
            raise InputError("rtol and atol cannot both be 0: give a positive tolerance")
        if not 0 < self.safety <= 1:
            raise InputError(f"safety must be in (0, 1], got {self.safety!r}")
        if not 0 < self.min_factor < 1 < self.max_factor:
            raise InputError("min_factor must be in (0, 1) and max_factor > 1")
        if not 0 <= self.beta < 0.2:
            raise InputError(f"beta must be in [0, 0.2), got {self.beta!r}")
        if self.first_step is not None and not (math.isfinite(self.first_step) and self.first_step > 0):
            raise InputError(f"first_step must be a positive number or None, got {self.first_step!r}")
        if not (math.isfinite(self.dt_min) and self.dt_min >= 0):
            raise InputError(f"dt_min must be a finite number >= 0, got {self.dt_min!r}")
        if isinstance(self.max_steps, bool) or not isinstance(self.max_steps, int) or self.max_steps < 1:
            raise InputError(f"max_steps must be an integer >= 1, got {self.max_steps!r}")

    def accepted(self, dt: float, ratio: float, previous_ratio: float, error_order: int) -> float:
        """The next step after an accepted step of size ``dt``."""
        exponent = 1.0 / error_order - 0.75 * self.beta
        if ratio == 0.0:
            return dt * self.max_factor
        factor = self.safety * ratio**-exponent * previous_ratio**self.beta
        return dt * min(self.max_factor, max(self.min_factor, factor))

    def rejected(self, dt: float, ratio: float, error_order: int) -> float:
        """The retried step after rejecting a step of size ``dt``."""
        if not math.isfinite(ratio):
            return dt * self.min_factor
        factor = self.safety * ratio ** (-1.0 / error_order)
        return dt * min(1.0, max(self.min_factor, factor))


@dataclass
class AdaptiveSolution:
    """What an adaptive solve produced: states at the requested times and how it got there."""

    #: The state at each requested time.
    states: list
    #: The accepted grid (every step's start and end), from the first time to the last.
    grid: list[float]
    #: Grid index of each requested time.
    outputs: list[int]
    #: Evaluations of the vector field (trial steps and the first-step selection).
    nfe: int = 0
    n_accepted: int = 0
    n_rejected: int = 0


def _flat(y: Y) -> tuple[Tensor, ...]:
    return (y,) if isinstance(y, Tensor) else tuple(y)


def _scaled_rms(values: Y, references: Sequence[Y], rtol: float, atol: float) -> float:
    """Hairer's norm: the RMS over every element of ``values / (atol + rtol max_r |r|)``."""
    total, count = 0.0, 0
    with torch.no_grad():
        for v, *refs in zip(_flat(values), *(_flat(r) for r in references)):
            magnitude = refs[0].abs() if len(refs) == 1 else torch.maximum(refs[0].abs(), refs[1].abs())
            total += (v / (atol + rtol * magnitude)).double().square().sum().item()
            count += v.numel()
    return math.sqrt(total / max(count, 1))


def initial_step(
    func: Callable[[float, Y], Y],
    t0: float,
    y0: Y,
    f0: Y,
    direction: float,
    error_order: int,
    controller: StepSizeController,
) -> float:
    """Hairer, Norsett & Wanner (II.4): a first step from ``f`` at ``t0`` and after a small
    explicit Euler step in ``direction`` (+1 or -1; one more evaluation of ``func``); returns
    the step's magnitude."""
    rtol, atol = controller.rtol, controller.atol
    d0 = _scaled_rms(y0, (y0,), rtol, atol)
    d1 = _scaled_rms(f0, (y0,), rtol, atol)
    h0 = 1e-6 if d0 < 1e-5 or d1 < 1e-5 else 0.01 * d0 / d1
    with torch.no_grad():
        f1 = func(t0 + direction * h0, combine(y0, direction * h0, (1.0,), (f0,)))
        difference = combine(f1, -1.0, (1.0,), (f0,))
    d2 = _scaled_rms(difference, (y0,), rtol, atol) / h0
    if max(d1, d2) <= 1e-15:
        h1 = max(1e-6, h0 * 1e-3)
    else:
        h1 = (0.01 / max(d1, d2)) ** (1.0 / error_order)
    return min(100 * h0, h1)


def integrate_adaptive(
    func: Callable[[float, Y], Y],
    stepper: Stepper,
    times: Sequence[float],
    y0: Y,
    controller: StepSizeController,
) -> AdaptiveSolution:
    """Integrate ``dy/dt = func(t, y)`` through ``times`` (increasing or decreasing) adaptively.

    Steps run in the caller's grad mode: under autograd the result's graph holds exactly the
    accepted steps (the step sizes are Python floats, constants of the gradient); the error
    estimates are computed without a graph.

    Raises:
        SolverError: the step fell below round-off in ``t`` (or ``controller.dt_min``), or
            ``controller.max_steps`` trial steps did not reach the end; the message names ``t``.
    """
    if not stepper.embedded:
        raise InputError(
            f"method {stepper.name!r} has no embedded error estimate: use 'dopri5' or 'bosh3' for "
            "adaptive stepping (rtol/atol), or give a fixed step"
        )
    error_order = stepper.error_order
    direction = 1.0 if times[-1] > times[0] else -1.0
    calls = 0

    def counted(t: float, y: Y) -> Y:
        nonlocal calls
        calls += 1
        return func(t, y)

    t, y = times[0], y0
    k0 = counted(t, y)
    dt = controller.first_step or initial_step(counted, t, y, k0, direction, error_order, controller)
    dt = min(dt, abs(times[-1] - times[0]))
    solution = AdaptiveSolution(states=[y0], grid=[t], outputs=[0])
    previous_ratio = 1e-4
    trials = 0
    just_rejected = False
    for target in times[1:]:
        while t != target:
            if trials >= controller.max_steps:
                raise SolverError(
                    f"adaptive solve stopped at t = {t:.6g}: {controller.max_steps} trial steps did "
                    f"not reach t = {target:.6g} (last step {dt:.3g}); raise max_steps or loosen "
                    f"rtol={controller.rtol:g}, atol={controller.atol:g}"
                )
            trials += 1
            end = t + direction * dt
            # Hit the target exactly; stretch a step by up to STRETCH rather than leave a sliver.
            clipped = direction * (t + direction * STRETCH * dt - target) >= 0
            if clipped:
                end = target
            else:
                # Make ``t + (end - t) == end`` so a replay of the grid takes bitwise the same steps.
                for _ in range(3):
                    if t + (end - t) == end:
                        break
                    end = t + (end - t)
            h = end - t
            floor = max(controller.dt_min, _RELATIVE_FLOOR * max(abs(t), abs(end)))
            if abs(h) < floor:
                raise SolverError(
                    f"step size underflow at t = {t:.6g}: the step fell to {abs(h):.3g} (below "
                    f"{floor:.3g}) without meeting rtol={controller.rtol:g}, atol={controller.atol:g}; "
                    "the solution may blow up there (finite-time singularity) or the problem is too "
                    "stiff for an explicit method: end the span earlier or loosen the tolerances"
                )
            trial = stepper.trial_step(counted, t, h, y, start_rate=k0)
            ratio = _scaled_rms(trial.error, (y, trial.y), controller.rtol, controller.atol)
            if not ratio <= 1.0:  # also NaN
                solution.n_rejected += 1
                dt = controller.rejected(abs(h), ratio, error_order)
                just_rejected = True
                continue
            solution.n_accepted += 1
            # FSAL: the last stage is f at the update and the step's end, exactly as a replay's
            # first stage of the next step computes it, unless t + h rounds differently.
            reuse = trial.end_rate is not None and t + h == end
            k0 = trial.end_rate if reuse else None
            proposal = controller.accepted(abs(h), ratio, previous_ratio, error_order)
            if just_rejected:  # no growth right after a rejection (Hairer)
                proposal = min(proposal, abs(h))
            just_rejected = False
            dt = max(proposal, dt) if clipped else proposal
            previous_ratio = max(ratio, 1e-4)
            t, y = end, trial.y
            solution.grid.append(t)
        solution.states.append(y)
        solution.outputs.append(len(solution.grid) - 1)
    solution.nfe = calls
    return solution

