"""The stepper names ``method=`` accepts, and their resolution."""

from __future__ import annotations

from physode.errors import InputError
from physode.steppers.exponential import IFRK4
from physode.steppers.stepper import Stepper
from physode.steppers.tableau import TABLEAUS

#: Every stepper by name: the explicit Runge-Kutta tableaus, then the exponential integrators.
METHODS: dict[str, Stepper] = {**TABLEAUS, IFRK4.name: IFRK4}


def get_method(method: str | Stepper) -> Stepper:
    """Resolve a method name (or pass a stepper through)."""
    if isinstance(method, Stepper):
        return method
    try:
        return METHODS[method]
    except (KeyError, TypeError):
        raise InputError(
            f"unknown method {method!r}: choose one of {sorted(METHODS)} "
            "or pass a physode.steppers.Stepper (e.g. a physode.ButcherTableau)"
        ) from None
