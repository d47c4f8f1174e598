"""Neural-network modules: ODE blocks and Fourier neural-operator layers (the variants of a block:
:mod:`physode.variants`)."""

from physode.nn.blocks import CoupledODEBlock, ODEBlock
from physode.nn.fourier import FourierBlock, FourierField, PointwiseLinear, SpectralConv1d, SpectralRates

__all__ = [
    "CoupledODEBlock",
    "FourierBlock",
    "FourierField",
    "ODEBlock",
    "PointwiseLinear",
    "SpectralConv1d",
    "SpectralRates",
]
