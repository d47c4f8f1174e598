"""physode: coupled neural ODEs (ANODEV2) for learning physics.

The public surface: :func:`odeint`, the blocks :class:`ODEBlock` (Neural ODE / ANODE) and
:class:`CoupledODEBlock` (ANODEV2), the evolution operators, and the gradient strategies.
"""

__version__ = "0.1.0"

from physode.evolution import (  # noqa: E402
    Dirac,
    EvolutionOperator,
    ExponentialMemory,
    Neural,
    SpectralRDA,
    Static,
)
from physode.gradients import (  # noqa: E402
    Adjoint,
    Backprop,
    Checkpoint,
    GradientStrategy,
    Recursive,
)
from physode.integrate import odeint  # noqa: E402
from physode.nn import CoupledODEBlock, ODEBlock  # noqa: E402
from physode.steppers import ButcherTableau  # noqa: E402

__all__ = [
    "Adjoint",
    "Backprop",
    "ButcherTableau",
    "Checkpoint",
    "CoupledODEBlock",
    "Dirac",
    "EvolutionOperator",
    "ExponentialMemory",
    "GradientStrategy",
    "Neural",
    "ODEBlock",
    "Recursive",
    "SpectralRDA",
    "Static",
    "__version__",
    "odeint",
]
