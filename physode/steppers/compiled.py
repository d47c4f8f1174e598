"""A stepper whose steps run through ``torch.compile``: the vector field and the stage loop as one
graph per step, or per run of :data:`STEPS_PER_CALL` steps where a solve hands over a run
(``Stepper.steps``; inductor fuses the stage arithmetic into the field's kernels).

It wraps any stepper and computes the same step, so it composes with every gradient strategy
(backprop differentiates the compiled step; checkpoint and recursive run it without a graph, then
again with one) and every evolution operator. The results equal the eager stepper's to float
round-off (fused kernels may round in a different order), not bitwise.

Compilation is not free: the first call of each kind (with and without a graph) compiles, tens
of seconds on a CPU, and each compiled call runs inside one autograd node whose runtime wrapper
costs more than a small field's step saves. Runs of steps pay: on ``benchmarks/perf``'s small
field a compiled Heun training step costs about a third of torchdiffeq's per step, after about a
minute of compiling on a CPU (``benchmarks/perf/results.md`` has the figures), where a single
compiled step per call was slower than eager. The option is off by default. Where compilation fails (no C++ compiler, a backend
error) the stepper warns once and steps eagerly from then on: the same results, without the
speed-up.

Adaptive steps (``trial_step``) run eagerly: their error estimate is read every step.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Sequence

import torch

from physode.steppers.stepper import Stepper, TrialStep, VectorField, Y


#: Steps one compiled graph runs when a solve hands over a run of steps (``Stepper.steps``): a
#: compiled call's own overhead (guards, the autograd wrapper) costs more than a small field's step,
#: so one call per step is slower than eager; 25 Heun steps of ``benchmarks/perf``'s small field
#: ran as fast per step as 50 (about 50 s to compile both graphs, with and without autograd).
STEPS_PER_CALL = 25


class CompileFallbackWarning(UserWarning):
    """``torch.compile`` could not compile a step; the solve continues eagerly."""


class CompiledStepper(Stepper):
    """``stepper`` with its :meth:`step` compiled by ``torch.compile`` (``backend``, default inductor).

    ``fallback`` is ``None`` while compiled steps run, else why the stepper steps eagerly.
    """

    def __init__(self, stepper: Stepper, backend: str | Callable = "inductor",
                 steps_per_call: int = STEPS_PER_CALL) -> None:
        self.stepper = stepper.stepper if isinstance(stepper, CompiledStepper) else stepper
        self.steps_per_call = steps_per_call
        self.name = self.stepper.name
        self.order = self.stepper.order
        self.semilinear = self.stepper.semilinear
        self.backend = backend
        self.fallback: str | None = None
        try:
            self._compiled = torch.compile(self.stepper.step, backend=backend)
            self._compiled_steps = torch.compile(self.stepper.steps, backend=backend)
            # Imported here, not at module level: importing dynamo takes seconds.
            from torch._dynamo.exc import BackendCompilerFailed

            self._compile_failure = BackendCompilerFailed
        except RuntimeError as error:  # e.g. torch.compile unsupported on this Python
            self._fall_back(error)

    @property
    def evaluations(self) -> int:
        return self.stepper.evaluations

    @property
    def error_order(self) -> int | None:
        return self.stepper.error_order

    def step(self, func: VectorField, t: float, dt: float, y: Y) -> Y:
        if self.fallback is None:
            try:
                return self._compiled(func, t, dt, y)
            except RuntimeError as error:
                self._fall_back_on(error)
        return self.stepper.step(func, t, dt, y)

    def steps(self, func: VectorField, times: Sequence[float], y: Y, sizes: Sequence[float] | None = None) -> list[Y]:
        if self.fallback is None:
            try:
                # Tuples of floats: traced as symbolic inputs, so other times reuse the graph.
                return self._compiled_steps(func, tuple(times), y, None if sizes is None else tuple(sizes))
            except RuntimeError as error:
                self._fall_back_on(error)
        return self.stepper.steps(func, times, y, sizes)

    def trial_step(self, func: VectorField, t: float, dt: float, y: Y, start_rate: Y | None = None) -> TrialStep:
        return self.stepper.trial_step(func, t, dt, y, start_rate)

    def _fall_back_on(self, error: RuntimeError) -> None:
        if not isinstance(error, self._compile_failure):
            raise error
        self._fall_back(error)  # raised while compiling, before the step ran

    def _fall_back(self, error: Exception) -> None:
        # A backend failure reads "backend=... raised:" then the backend's own error.
        lines = str(error).strip().splitlines()[:2]
        self.fallback = " ".join([f"{type(error).__name__}:", *lines])
        warnings.warn(
            f"torch.compile could not compile the {self.name!r} step ({self.fallback}); stepping eagerly "
            "instead (the same results, without the speed-up). Pass compile=False to silence this.",
            CompileFallbackWarning,
            stacklevel=3,
        )

    def __repr__(self) -> str:
        return f"CompiledStepper({self.stepper.name!r}, backend={self.backend!r})"


@functools.lru_cache(maxsize=64)
def compiled_stepper(stepper: Stepper) -> CompiledStepper:
    """One :class:`CompiledStepper` per stepper, kept between solves: each construction calls
    ``torch.compile`` again, milliseconds a solve of a small field would otherwise pay."""
    return CompiledStepper(stepper)
