"""Time steppers: one interface, :class:`Stepper`; explicit Runge-Kutta methods (Butcher tableaus)
implement it, and adaptive stepping works with any stepper that estimates its error.

Code outside this package holds a :class:`Stepper` and calls only what the interface provides,
so a new kind of method (an exponential integrator: integrating factor or ETDRK4 for a diagonal
linear part, Magnus for a time-dependent one) is one new module here. It must provide:

- ``name`` and ``order`` (of the global error);
- ``evaluations``: evaluations of ``func`` per step (what a solve reports as ``nfe``);
- ``step(func, t, dt, y)``: one step of ``dy/dt = func(t, y)``, ``y`` a tensor or a tuple of
  tensors, ``dt`` of either sign (the adjoint steps backwards), differentiable by autograd (every
  gradient strategy differentiates or replays the steps);
- to step adaptively (``rtol``/``atol``), ``error_order`` (the power of ``dt`` in its local error
  estimate) and ``trial_step(func, t, dt, y, start_rate)`` returning a :class:`TrialStep`; a
  stepper without them is refused with an ``InputError`` when tolerances are asked for.

Register its name in :data:`METHODS` (``physode/steppers/tableau.py``), which :func:`get_method`
resolves, so that ``method="name"`` reaches blocks, ``odeint`` and ``physode fit``.
"""

from physode.steppers.adaptive import AdaptiveSolution, StepSizeController, integrate_adaptive
from physode.steppers.stepper import Stepper, TrialStep
from physode.steppers.tableau import (
    BOSH3,
    DOPRI5,
    EULER,
    HEUN,
    METHODS,
    MIDPOINT,
    RK4,
    ButcherTableau,
    get_method,
)

__all__ = [
    "BOSH3",
    "DOPRI5",
    "EULER",
    "HEUN",
    "METHODS",
    "MIDPOINT",
    "RK4",
    "AdaptiveSolution",
    "ButcherTableau",
    "StepSizeController",
    "Stepper",
    "TrialStep",
    "get_method",
    "integrate_adaptive",
]
