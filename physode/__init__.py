"""physode: coupled neural ODEs (ANODEV2) for learning physics.

The public surface: :func:`odeint`, the blocks :class:`ODEBlock` (Neural ODE / ANODE) and
:class:`CoupledODEBlock` (ANODEV2), the evolution operators, the gradient strategies, and
:func:`load`, a fitted run as a module.
"""

from __future__ import annotations

from typing import Any

from physode.version import __version__

__all__ = [
    "Adjoint",
    "Backprop",
    "ButcherTableau",
    "Checkpoint",
    "CoupledODEBlock",
    "Dirac",
    "EvolutionOperator",
    "ExponentialMemory",
    "Galerkin",
    "GradientStrategy",
    "LinearLatent",
    "Neural",
    "ODEBlock",
    "ODESolution",
    "Recursive",
    "SpectralRDA",
    "Static",
    "StepSizeController",
    "Stepper",
    "__version__",
    "load",
    "odeint",
    "odesolve",
]


def __getattr__(name: str) -> Any:
    # Imported on first use: torch takes seconds to import, and the command line's parsers (which
    # import physode's modules) must build without it (physode/cli.py).
    if name in __all__:
        from physode import public

        return getattr(public, name)
    raise AttributeError(f"module 'physode' has no attribute {name!r}")
