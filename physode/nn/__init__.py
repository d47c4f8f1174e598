"""Neural-network modules: ODE blocks."""

from physode.nn.blocks import CoupledODEBlock, ODEBlock

__all__ = ["CoupledODEBlock", "ODEBlock"]
