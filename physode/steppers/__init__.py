"""Time steppers: one interface, :class:`Stepper`; explicit Runge-Kutta methods (Butcher tableaus)
and an integrating-factor RK4 for a diagonal linear part implement it, and adaptive stepping works
with any stepper that estimates its error.

Code outside this package holds a :class:`Stepper` and calls only what the interface provides,
so a new kind of method (an exponential integrator: integrating factor or ETDRK4 for a diagonal
linear part, Magnus for a time-dependent one) is one new module here. It must provide:

- ``name`` and ``order`` (of the global error); ``semilinear = True`` if it needs the field
  split as a :class:`SemilinearField` ``dy/dt = L y + N(t, y)`` (blocks and the adjoint, which
  step plain vector fields, then refuse it with an ``InputError``);
- ``evaluations``: evaluations of ``func`` per step (what a solve reports as ``nfe``);
- ``step(func, t, dt, y)``: one step of ``dy/dt = func(t, y)``, ``y`` a tensor or a tuple of
  tensors, ``dt`` of either sign (the adjoint steps backwards), differentiable by autograd (every
  gradient strategy differentiates or replays the steps);
- to step adaptively (``rtol``/``atol``), ``error_order`` (the power of ``dt`` in its local error
  estimate) and ``trial_step(func, t, dt, y, start_rate)`` returning a :class:`TrialStep`; a
  stepper without them is refused with an ``InputError`` when tolerances are asked for.

Register its name in :data:`METHODS` (``physode/steppers/methods.py``), which :func:`get_method`
resolves, so that ``method="name"`` reaches blocks, ``odeint`` and ``physode fit``.

:class:`CompiledStepper` wraps any stepper to run its steps through ``torch.compile``
(``odeint(..., compile=True)``).

For a field linear in ``y``, :mod:`physode.steppers.linear` turns a tableau's steps into matrices
(the stability polynomial ``R(dt L)`` for a constant ``L``), the linear fitting family's fast path.
"""

from physode.steppers.adaptive import AdaptiveSolution, StepSizeController, integrate_adaptive
from physode.steppers.compiled import CompileFallbackWarning, CompiledStepper, compiled_stepper
from physode.steppers.exponential import IFRK4, IntegratingFactorRK4, Semilinear, SemilinearField
from physode.steppers.linear import propagator_increments, stage_times, step_increments
from physode.steppers.methods import METHODS, get_method
from physode.steppers.stepper import Stepper, TrialStep
from physode.steppers.tableau import BOSH3, DOPRI5, EULER, HEUN, MIDPOINT, RK4, TABLEAUS, ButcherTableau

__all__ = [
    "BOSH3",
    "DOPRI5",
    "EULER",
    "HEUN",
    "IFRK4",
    "METHODS",
    "MIDPOINT",
    "RK4",
    "TABLEAUS",
    "AdaptiveSolution",
    "ButcherTableau",
    "CompileFallbackWarning",
    "CompiledStepper",
    "IntegratingFactorRK4",
    "Semilinear",
    "SemilinearField",
    "StepSizeController",
    "Stepper",
    "TrialStep",
    "compiled_stepper",
    "get_method",
    "integrate_adaptive",
    "propagator_increments",
    "stage_times",
    "step_increments",
]
