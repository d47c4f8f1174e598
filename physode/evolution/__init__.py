"""Evolution operators ``q(w; p)`` and time kernels ``K`` for coupled (ANODEV2) blocks.

Add your own operator by subclassing :class:`EvolutionOperator` and defining ``rate`` (and, for
an exact propagator, ``step``).
"""

from physode.evolution.base import EvolutionOperator, Static
from physode.evolution.kernels import Dirac, ExponentialMemory, TimeKernel
from physode.evolution.neural import Neural
from physode.evolution.spectral import SpectralRDA

__all__ = [
    "Dirac",
    "EvolutionOperator",
    "ExponentialMemory",
    "Neural",
    "SpectralRDA",
    "Static",
    "TimeKernel",
]
