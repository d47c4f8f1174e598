"""Evolution operators and time kernels ``K`` for coupled (ANODEV2) blocks.

An operator is a continuous-time system: its state starts from the weight, evolves by one ODE
(a step of any length is its flow), and the weight is read out of it. Add your own by
subclassing :class:`EvolutionOperator` and defining ``rate`` (and, for an exact propagator,
``step``; for weights in closed form at any time, ``weights_at``, which a block reads its whole weight
path from in one call).
"""

from physode.evolution.base import EvolutionOperator, Static
from physode.evolution.galerkin import Galerkin
from physode.evolution.kernels import Dirac, ExponentialMemory, TimeKernel
from physode.evolution.latent import LinearLatent
from physode.evolution.neural import Neural
from physode.evolution.spectral import SpectralRDA

__all__ = [
    "Dirac",
    "EvolutionOperator",
    "ExponentialMemory",
    "Galerkin",
    "LinearLatent",
    "Neural",
    "SpectralRDA",
    "Static",
    "TimeKernel",
]
