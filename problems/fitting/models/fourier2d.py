"""The ``fourier`` family on 2-D fields: :class:`~physode.models.FourierODE2d` in the file's layout,
with the mirror extension of :mod:`.layers2d` for fields with no-flux walls (the FNO's domain padding).

With an exponential method (``--method ifrk4``) the linear term is one rate per 2-D Fourier mode
(:class:`~physode.nn.fourier2d.SpectralRates2d`), propagated exactly; by default it keeps every mode of
the grid the layers see. A walled field's extension is periodic on the doubled grid, so the exponential
is exact there too: a diffusion rate on every extended mode is the Neumann heat equation's exact flow.
Rates that differ between a mode and its mirror image (``k_y`` and ``-k_y``, or any velocity) move the
extension off its mirror symmetry, as the network's spectral weights can: the fit, not the model, keeps
the walls' symmetry, and the restriction reads the original half either way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from torch import Tensor, nn

from physode.models import FourierODE2d, FourierODEConfig
from physode.problems.fitting.models.family import Grid
from physode.problems.fitting.models.layers2d import MirrorExtension
from physode.steppers import get_method


class PlaneFourierModel(nn.Module):
    """``(batch, C, Ny, Nx) -> (batch, times, C, Ny, Nx)``; index 0 is ``u0`` itself. A walled field
    is mirrored at ``t0``, evolved on the doubled periodic domain and cut back."""

    def __init__(self, config: FourierODEConfig, grid: Grid, channels: int, grad: str | None = None) -> None:
        super().__init__()
        self.extension = MirrorExtension(len(grid.shape), grid.periodic)
        if config.linear and config.linear_modes is None and get_method(config.method).semilinear:
            # Every mode of the grid the layers see: |k| <= n // 2 on each axis, Nyquist included.
            every = max(n // 2 + 1 for n in self.extension.grid_shape(grid.shape))
            config = dataclasses.replace(config, linear_modes=every)
        self.config = config
        self.channels = channels
        self.ode = FourierODE2d(config, channels=channels, grad=grad)

    def forward(self, u0: Tensor, times: Sequence[float]) -> Tensor:
        return self.extension.restrict(self.ode(self.extension.extend(u0), times))

    def rate_parameters(self) -> list[nn.Parameter]:
        """The linear term's multipliers and the weight evolution's parameters (own learning rate)."""
        linear = [] if self.ode.field.linear is None else list(self.ode.field.linear.parameters())
        return linear + list(self.ode.block.operators.parameters())
