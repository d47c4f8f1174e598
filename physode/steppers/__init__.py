"""Time steppers: explicit Runge-Kutta methods defined by their Butcher tableaus."""

from physode.steppers.tableau import (
    EULER,
    HEUN,
    METHODS,
    MIDPOINT,
    RK4,
    ButcherTableau,
    get_method,
)

__all__ = ["EULER", "HEUN", "METHODS", "MIDPOINT", "RK4", "ButcherTableau", "get_method"]
