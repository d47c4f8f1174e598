"""``u(t0) -> u(t0), u(t1), ...`` on a periodic 2-D grid: :class:`~physode.models.FourierODE` with the
field :class:`~physode.nn.fourier2d.FourierField2d` (the same config, weight groups and variants)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from torch import Tensor, nn

from physode.errors import InputError
from physode.evolution import EvolutionOperator
from physode.models.fourier_ode import FourierODE, FourierODEConfig
from physode.nn.fourier2d import FourierField2d
from physode.variants import WeightSpec, get_variant, variant_block


class FourierODE2d(nn.Module):
    """A Fourier-operator ODE of ``channels`` fields ``(batch, C, Ny, Nx)``; arguments as :class:`FourierODE`'s."""

    def __init__(self, config: FourierODEConfig, channels: int, *, operator: EvolutionOperator | None = None,
                 grad: str | None = None) -> None:
        super().__init__()
        self.config = config
        variant = get_variant(config.variant)
        if operator is not None and not variant.coupled:
            raise InputError(f"variant {config.variant!r} has static weights: it takes no operator")
        self.field = FourierField2d(
            channels, width=config.width, modes=config.modes, blocks=config.blocks,
            time_input=variant.time_input, linear=config.linear, linear_modes=config.linear_modes,
        )
        # The evolved maps have no spatial axes: their entries are features and modes.
        spec = WeightSpec(spatial_axes=(), channels=channels, settings=dataclasses.asdict(config))
        self.block = variant_block(
            variant, self.field, evolve=self.evolved_names() if variant.coupled else (), spec=spec,
            operator=operator, steps=config.steps_per_interval, method=config.method, grad=grad,
        )

    evolved_names = FourierODE.evolved_names  # the same weight groups as in 1-D

    def forward(self, u0: Tensor, times: Sequence[float] | Tensor) -> Tensor:
        """Predicted states ``(batch, len(times), C, Ny, Nx)`` from ``u0`` ``(batch, C, Ny, Nx)``."""
        self.field.check_input(u0)
        return self.block(u0, times=times).transpose(0, 1)
