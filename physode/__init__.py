"""physode: coupled neural ODEs (ANODEV2) for learning physics.

The public surface: :func:`odeint`, the blocks :class:`ODEBlock` (Neural ODE / ANODE) and
:class:`CoupledODEBlock` (ANODEV2), the evolution operators, and the gradient strategies.
"""

from physode.version import __version__
from physode.evolution import (
    Dirac,
    EvolutionOperator,
    ExponentialMemory,
    Galerkin,
    LinearLatent,
    Neural,
    SpectralRDA,
    Static,
)
from physode.gradients import (
    Adjoint,
    Backprop,
    Checkpoint,
    GradientStrategy,
    Recursive,
)
from physode.integrate import ODESolution, odeint, odesolve
from physode.nn import CoupledODEBlock, ODEBlock
from physode.steppers import ButcherTableau, Stepper, StepSizeController

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
    "odeint",
    "odesolve",
]
