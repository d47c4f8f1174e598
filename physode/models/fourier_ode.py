"""``u(t0) -> u(t0), u(t1), ...``: a Fourier-operator vector field integrated in time, in any variant.

``du/dt = f(u; theta(t))`` with ``f`` a :class:`~physode.nn.fourier.FourierField`, integrated by
one ODE block of :func:`~physode.variants.variant_block` over the requested output times. For
``anodev2`` the coefficients' time dependence (``c(t)``, ``nu(t)``) is carried by the evolved
weights; ``evolve`` chooses which (one or more groups):

- ``projection`` (default): the last pointwise map. With one reaction rate per hidden feature,
  ``du/dt = sum_j exp(rho_j (t - t0)) q_j h_j(u)``: every feature (e.g. an advection-like and a
  diffusion-like one) gets its own growth or decay in time, the structure of
  ``c(t) A(u) + nu(t) B(u)``.
- ``spectral``: the spectral multipliers of every block.
- ``pointwise``: the pointwise maps of every block.
- ``linear``: the multipliers of the linear term ``L u`` (with ``linear=True``). With reaction,
  ``L(t) = L(t0) exp(rho (t - t0))`` follows an exponential ``c(t)`` or ``nu(t)`` exactly.

``method="ifrk4"`` (integrating-factor RK4) takes the linear term as one rate per Fourier mode
(:class:`~physode.nn.SpectralRates`) and propagates it exactly, so its stiff high modes (dispersion,
hyper-diffusion) need no small steps; the network alone is stepped by RK4. It needs a linear term and
static weights (:class:`~physode.nn.semilinear_block.SemilinearODEBlock`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from torch import Tensor, nn

from physode.errors import InputError
from physode.evolution import EvolutionOperator
from physode.grids import check_steps
from physode.nn.fourier import FourierField
from physode.nn.semilinear_block import SemilinearODEBlock
from physode.steppers import get_method
from physode.variants import WeightSpec, get_variant, variant_block

EVOLVE_GROUPS = ("projection", "spectral", "pointwise", "linear")


@dataclass(frozen=True)
class FourierODEConfig:
    """What a :class:`FourierODE` is (with the channel count, every parameter shape follows).

    ``width``, ``modes``, ``blocks``, ``linear``, ``linear_modes``: the field
    (:class:`~physode.nn.fourier.FourierField`).
    ``evolve``: the weight groups ``anodev2`` variants evolve (see the module docstring).
    ``steps_per_interval``: solver steps between two output times. ``hidden``: width of
    ``anodev2-neural``'s ``q``. A variant that needs a setting this config lacks (``latent``) is
    refused when the model is built.
    """

    variant: str = "anode"
    width: int = 32
    modes: int = 16
    blocks: int = 2
    linear: bool = False
    linear_modes: int | None = None
    evolve: tuple[str, ...] = ("projection",)
    steps_per_interval: int = 2
    method: str = "rk4"
    hidden: int = 16

    def __post_init__(self) -> None:
        get_variant(self.variant)  # an unknown name fails here
        groups = (self.evolve,) if isinstance(self.evolve, str) else tuple(self.evolve)
        object.__setattr__(self, "evolve", groups)  # stored settings come back as lists
        unknown = [g for g in groups if g not in EVOLVE_GROUPS]
        if unknown or not groups:
            raise InputError(
                f"unknown weight group(s) {unknown or groups} to evolve; choose from {', '.join(EVOLVE_GROUPS)}"
            )
        if "linear" in groups and not self.linear:
            raise InputError("evolve includes 'linear' but the model has no linear term; set linear=True")
        if self.linear_modes is not None and not self.linear:
            raise InputError("linear_modes sets the modes of the linear term; set linear=True too")
        for name in ("width", "modes", "blocks", "steps_per_interval", "hidden"):
            check_steps(getattr(self, name), name=name)
        if self.linear_modes is not None:
            check_steps(self.linear_modes, name="linear_modes")
        if get_method(self.method).semilinear:  # an unknown method fails here, not mid-training
            self.check_semilinear()

    def check_semilinear(self) -> None:
        """An exponential stepper integrates the linear term exactly: there must be one, and it must not evolve."""
        if not self.linear:
            raise InputError(f"method {self.method!r} integrates the linear term exactly, and this model has none: "
                             "set linear=True (--linear-term), or use method='rk4'")
        variant = get_variant(self.variant)
        if variant.coupled or variant.time_input:
            change = "evolves weights in time" if variant.coupled else "takes time as an input"
            raise InputError(f"method {self.method!r} needs an autonomous field whose linear term's exponential is "
                             f"closed form, and variant {self.variant!r} {change} (a time-dependent L has none): use "
                             "variant 'anode', or method='rk4'")


class FourierODE(nn.Module):
    """A Fourier-operator ODE of ``channels`` solution channels on a periodic 1-D grid.

    Args:
        config: the model description.
        channels: solution channels ``C``.
        operator: evolution operator of the coupled variants (default: the variant's,
            :func:`~physode.variants.variant_operator`); any
            :class:`~physode.evolution.EvolutionOperator`. The evolved weights have no spatial
            axes: give ``SpectralRDA`` ``axes=()`` (its default would treat the modes and
            real/imaginary axes of the multipliers as space).
        grad: override the variant's gradient strategy (for comparisons, e.g. ``"backprop"``).
    """

    field_type: type[nn.Module] = FourierField  # the vector field's class: FourierODE2d's is FourierField2d

    def __init__(
        self,
        config: FourierODEConfig,
        channels: int,
        *,
        operator: EvolutionOperator | None = None,
        grad: str | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        variant = get_variant(config.variant)
        if operator is not None and not variant.coupled:
            raise InputError(f"variant {config.variant!r} has static weights: it takes no operator")
        semilinear = get_method(config.method).semilinear
        self.field = self.field_type(
            channels, width=config.width, modes=config.modes, blocks=config.blocks,
            time_input=variant.time_input, linear=config.linear, linear_modes=config.linear_modes,
            diagonal_linear=semilinear,
        )
        if semilinear:
            self.block: nn.Module = SemilinearODEBlock(self.field, steps=config.steps_per_interval,
                                                       method=config.method, grad=grad or variant.grad)
        else:
            # The evolved maps have no spatial axes: their entries are features and modes.
            spec = WeightSpec(spatial_axes=(), channels=channels, settings=dataclasses.asdict(config))
            self.block = variant_block(
                variant, self.field, evolve=self.evolved_names() if variant.coupled else (), spec=spec,
                operator=operator, steps=config.steps_per_interval, method=config.method, grad=grad,
            )

    def evolved_names(self) -> list[str]:
        """The field's parameters in ``config.evolve`` (evolved by the coupled variants)."""
        blocks = range(len(self.field.blocks))
        groups = {
            "projection": ["projection.weight"],
            "spectral": [f"blocks.{i}.spectral.weight" for i in blocks],
            "pointwise": [f"blocks.{i}.pointwise.weight" for i in blocks],
            "linear": ["linear.weight"],
        }
        return [name for group in self.config.evolve for name in groups[group]]

    def forward(self, u0: Tensor, times: Sequence[float] | Tensor) -> Tensor:
        """Predicted states ``(batch, len(times), C, Nx)`` from ``u0`` ``(batch, C, Nx)``; index 0 is ``u0``."""
        self.field.check_input(u0)
        return self.block(u0, times=times).transpose(0, 1)

    def network_parameter_count(self) -> int:
        """Trainable parameters of the field (the network proper)."""
        return sum(p.numel() for p in self.field.parameters() if p.requires_grad)

    def evolution_parameter_count(self) -> int:
        """Trainable parameters of the weight evolution (zero for static variants)."""
        return sum(p.numel() for p in self.block.operators.parameters() if p.requires_grad)

