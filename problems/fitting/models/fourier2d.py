"""The ``fourier`` family on 2-D fields: :class:`~physode.models.FourierODE2d` in the file's layout,
with the mirror extension of :mod:`.layers2d` for fields with no-flux walls (the FNO's domain padding)."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from physode.models import FourierODE2d, FourierODEConfig
from physode.problems.fitting.models.family import Grid
from physode.problems.fitting.models.layers2d import MirrorExtension


class PlaneFourierModel(nn.Module):
    """``(batch, C, Ny, Nx) -> (batch, times, C, Ny, Nx)``; index 0 is ``u0`` itself. A walled field
    is mirrored at ``t0``, evolved on the doubled periodic domain and cut back."""

    def __init__(self, config: FourierODEConfig, grid: Grid, channels: int, grad: str | None = None) -> None:
        super().__init__()
        self.config = config
        self.channels = channels
        self.extension = MirrorExtension(len(grid.shape), grid.periodic)
        self.ode = FourierODE2d(config, channels=channels, grad=grad)

    def forward(self, u0: Tensor, times: Sequence[float]) -> Tensor:
        return self.extension.restrict(self.ode(self.extension.extend(u0), times))

    def rate_parameters(self) -> list[nn.Parameter]:
        """The linear term's multipliers and the weight evolution's parameters (own learning rate)."""
        linear = [] if self.ode.field.linear is None else list(self.ode.field.linear.parameters())
        return linear + list(self.ode.block.operators.parameters())
