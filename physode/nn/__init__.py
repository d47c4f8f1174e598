"""Neural-network modules: ODE blocks, their four variants, Fourier neural-operator layers."""

from physode.nn.blocks import CoupledODEBlock, ODEBlock
from physode.nn.fourier import FourierBlock, FourierField, PointwiseLinear, SpectralConv1d
from physode.nn.variants import VARIANTS, variant_block, variant_operator

__all__ = [
    "VARIANTS",
    "CoupledODEBlock",
    "FourierBlock",
    "FourierField",
    "ODEBlock",
    "PointwiseLinear",
    "SpectralConv1d",
    "variant_block",
    "variant_operator",
]
