"""Time steppers: explicit Runge-Kutta methods defined by their Butcher tableaus, and adaptive
stepping with embedded pairs."""

from physode.steppers.adaptive import AdaptiveSolution, StepSizeController, integrate_adaptive
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
    "get_method",
    "integrate_adaptive",
]
