"""Models: networks assembled from :mod:`physode.nn` that map an initial state to a trajectory."""

from physode.models.fourier_ode import EVOLVE_GROUPS, FourierODE, FourierODEConfig

__all__ = ["EVOLVE_GROUPS", "FourierODE", "FourierODEConfig"]
