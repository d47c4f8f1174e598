"""Models: networks assembled from :mod:`physode.nn` that map an initial state to a trajectory."""

from physode.models.fourier_ode import EVOLVE_GROUPS, FourierODE, FourierODEConfig
from physode.models.fourier_ode2d import FourierODE2d

__all__ = ["EVOLVE_GROUPS", "FourierODE", "FourierODE2d", "FourierODEConfig"]
