"""The ``linear`` family: one linear, translation-invariant layer as the generator of a 1-D or 2-D field.

The state is the field itself, ``u`` of shape ``(batch, Nx)``, or ``(batch, C, Nx)`` for a system
of C fields (the wave equation's ``(u, u_t)``); the model integrates ``du/dt = f(u; theta(t))`` from
the data's first time over every stored time. ``f`` is one layer of :mod:`.layers`, fully
described by its Fourier symbol:

- ``spectral`` (default): one complex multiplier per retained real-FFT mode. Any linear,
  constant-coefficient periodic PDE (advection ``i k c``, diffusion ``-nu k^2``, dispersion ...)
  is diagonal in Fourier space, so this layer represents its generator exactly, and a learned
  multiplier can even absorb the Runge-Kutta error of a fixed step (it learns the ``m`` whose
  RK4 polynomial equals ``exp(i k c dt)``). That is why it is the default.
- ``stencil``: a periodic (circular) conv1d of odd width, a learned finite-difference operator.
  Local and resolution-agnostic, but a ``K``-point stencil cannot match ``i k c`` at high
  wavenumbers (dispersion error ~ ``(k dx)^(K-1)``).

Variants (same layer, different time dependence of its weights): :mod:`physode.variants`.
On a 2-D field ``(batch, C, Ny, Nx)`` the layer is :class:`.layers2d.SpectralLayer2d`, the same
multipliers over ``rfft2``'s modes (the stencil is 1-D only).

Being linear and diagonal in Fourier space, the field's Runge-Kutta steps are matrices per mode
(:mod:`physode.steppers.linear`): ``solver="multipliers"`` transforms ``u(t0)`` once, multiplies
each mode by the products of the step matrices and transforms the outputs back, the same discrete
model and gradients as the stage loop (``solver="stages"``, the block's own solve) without an FFT
round trip per stage.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from physode.errors import InputError
from physode.evolution.galerkin import BASES
from physode.grids import as_times, subdivide
from physode.problems.fitting.family_options import LAYERS, SOLVERS
from physode.problems.fitting.models.family import Grid, ModelFamily
from physode.problems.fitting.models.layers import FieldOnly, SpectralLayer, StencilLayer, TimeConcat
from physode.problems.fitting.models.layers2d import MirrorExtension, SpectralLayer2d
from physode.steppers import (ButcherTableau, get_method, propagator_increments, stage_times,
                              step_increments)
from physode.variants import WeightSpec, get_variant, variant_block, variant_names


@dataclass(frozen=True)
class ModelConfig(ModelFamily, family="linear"):
    """A linear-family model; together with the data grid it determines every parameter shape.

    ``modes``: real-FFT modes the spectral layer keeps (None: all, up to Nyquist).
    ``width``: points of the stencil (odd). ``steps_per_interval``: solver steps between two
    stored times. ``per_mode_reaction``: ANODEV2 learns one reaction rate per spectral mode
    instead of one per component (:func:`weight_groups`). ``hidden``: width of anodev2-neural's q.
    ``latent``: anodev2-latent's latent dimension (and so galerkin's basis size); 5, one exponential
    and two oscillators at pi and 2 pi: the read-out starts from a Fourier bank over a full turn. A
    larger latent buys shapes at the cost of conditioning (transport benchmark: 9 takes a tanh switch
    in c(t) from 8.2e-2 to 2.6e-2 test nRMSE and a sinusoid from 3.1e-3 to 1.3e-2).
    ``basis``: galerkin's basis in time. ``solver``: ``"multipliers"`` (per-mode step matrices),
    ``"stages"`` (the stage loop, the reference) or ``"auto"``: multipliers wherever they are the
    same model and gradient, i.e. every variant without time as an input and with a gradient of the
    steps (not Neural ODE: time input, continuous adjoint) on an explicit Runge-Kutta method.
    It does not shape the model: a run resumes and evaluates under either.
    """

    variant: str = "anodev2"
    layer: str = "spectral"
    modes: int | None = None
    width: int = 7
    steps_per_interval: int = 2
    method: str = "rk4"
    per_mode_reaction: bool = False
    hidden: int = 16
    latent: int = 5
    basis: str = "fourier"
    init_scale: float = 0.01
    solver: str = "auto"

    def __post_init__(self) -> None:
        get_variant(self.variant)  # an unknown name fails here
        if self.layer not in LAYERS:
            raise InputError(f"unknown layer {self.layer!r}; choose one of {', '.join(LAYERS)}")
        if self.width < 1 or self.width % 2 == 0:
            raise InputError(f"stencil width must be a positive odd number (centred), got {self.width}")
        if self.modes is not None and self.modes < 1:
            raise InputError(f"modes must be a positive number of Fourier modes, got {self.modes}")
        if self.steps_per_interval < 1:
            raise InputError(f"steps per interval must be >= 1, got {self.steps_per_interval}")
        if self.hidden < 1:
            raise InputError(f"hidden width must be >= 1, got {self.hidden}")
        if self.latent < 1:
            raise InputError(f"latent dimension must be >= 1, got {self.latent}")
        if self.basis not in BASES:
            raise InputError(f"unknown basis {self.basis!r}; choose one of {', '.join(BASES)}")
        get_method(self.method)  # an unknown method fails here, not mid-training
        if self.solver not in SOLVERS:
            raise InputError(f"unknown solver {self.solver!r}; choose one of {', '.join(SOLVERS)}")
        if self.solver == "multipliers" and self.multipliers_refused:
            raise InputError(f"--solver multipliers does not apply: {self.multipliers_refused}; "
                             "use --solver stages (or auto, which picks the stage loop here)")

    @property
    def multipliers_refused(self) -> str:
        """Why the per-mode step matrices would not be this model's steps and gradients ('' if they are)."""
        variant = get_variant(self.variant)
        if variant.time_input:
            return f"variant {self.variant!r} takes time as an input (f(t, u) is not linear in u)"
        if variant.grad == "adjoint":
            return f"variant {self.variant!r} trains on the continuous adjoint's gradient, not the steps'"
        if not isinstance(get_method(self.method), ButcherTableau):
            return f"method {self.method!r} is not an explicit Runge-Kutta tableau"
        return ""

    @property
    def uses_multipliers(self) -> bool:
        """Whether the model solves with the step matrices (else the stage loop)."""
        return self.solver == "multipliers" or (self.solver == "auto" and not self.multipliers_refused)

    summary = "one linear layer (--layer), exact for linear PDEs, dozens of weights"
    options = {"--layer": "layer", "--width": "width", "--per-mode-reaction": "per_mode_reaction",
               "--latent": "latent", "--basis": "basis", "--solver": "solver"}

    def build(self, grid: Grid, channels: int = 1) -> TrajectoryModel:
        return TrajectoryModel(self, grid, channels)

    def describe(self) -> dict[str, str]:
        return {**super().describe(), "layer": self.layer}

    def shaping_settings(self) -> dict[str, Any]:
        """Those its variant and layer ignore (an anode run's ``latent``, a spectral layer's stencil
        ``width``) are left out, so that a changed default of one does not refuse a resume."""
        ignored = {name for variant in variant_names() for name in get_variant(variant).settings}
        ignored -= set(get_variant(self.variant).settings)
        ignored.add("solver")  # the same model either way
        if self.layer != "stencil":
            ignored.add("width")
        return {name: value for name, value in dataclasses.asdict(self).items() if name not in ignored}

    @classmethod
    def from_options(cls, args: argparse.Namespace) -> ModelConfig:
        given = {"layer": args.layer, "modes": args.modes, "width": args.width, "latent": args.latent,
                 "basis": args.basis, "solver": args.solver}
        return cls(variant=args.variant, steps_per_interval=args.steps_per_interval, method=args.method,
                   hidden=args.hidden, per_mode_reaction=args.per_mode_reaction,
                   **{k: v for k, v in given.items() if v is not None})


def weight_groups(config: ModelConfig, channels: int) -> dict[str, int | bool]:
    """How an evolution operator groups the layer's weight: ``per_channel`` and ``channel_axis``.

    One field on the spectral layer (weight ``(modes, in, 2)``): one group per component, the real
    parts (decay, diffusion ``-nu k^2``) and the imaginary ones (advection ``c k``), each shared by
    all modes, so advection and diffusion with different time dependence (or one of them constant)
    are both exact. Several fields: one group per channel pair (first axis; the wave's ``-c^2``
    alone). Stencil: one group per output channel.
    """
    if config.layer == "spectral" and channels == 1:
        return {"per_channel": True, "channel_axis": -1}
    return {"per_channel": True, "channel_axis": 0}


class TrajectoryModel(nn.Module):
    """``u(t0) -> u(t0), u(t1), ...``: one ODE block over the stored times.

    A field with walls (``grid.periodic`` false) is extended by its mirror image
    (:class:`.layers2d.MirrorExtension`) at ``t0``, evolved on the doubled periodic domain and cut back.

    Args:
        config: the model description.
        grid: the uniform 1-D or 2-D grid.
        channels: fields of the state (the data's channels)."""

    def __init__(self, config: ModelConfig, grid: Grid, channels: int = 1) -> None:
        super().__init__()
        self.config, self.channels, self.space_dims = config, channels, len(grid.shape)
        self.extension = MirrorExtension(self.space_dims, grid.periodic)
        shape = self.extension.grid_shape(grid.shape)
        variant = get_variant(config.variant)
        extra = 1 if variant.time_input else 0
        if self.space_dims == 2 and config.layer == "spectral":
            layer = SpectralLayer2d(shape, grid.spacing, config.modes, extra, config.init_scale, channels)
        elif self.space_dims == 2:
            raise InputError(f"the {config.layer} layer is 1-D; fit a 2-D field with --layer spectral")
        elif self.space_dims != 1:
            raise InputError(f"the linear family's layers are 1-D or 2-D; got a grid of shape {grid.shape}")
        elif config.layer == "spectral":
            layer = SpectralLayer(shape[0], grid.spacing[0], config.modes, extra, config.init_scale, channels)
        else:
            layer = StencilLayer(shape[0], grid.spacing[0], config.width, extra, config.init_scale, channels)
        self.layer = layer
        # Spectral modes are independent (no spatial axis); the stencil's offsets are space.
        spec = WeightSpec(shape=tuple(layer.weight.shape), spatial_axes=() if config.layer == "spectral" else (-1,),
                          channels=channels, settings=dataclasses.asdict(config), **weight_groups(config, channels))
        self.block = variant_block(
            variant, TimeConcat(layer) if variant.time_input else FieldOnly(layer),
            evolve=["layer.weight"] if variant.coupled else (), spec=spec,
            steps=config.steps_per_interval, method=config.method,
        )

    def forward(self, u0: Tensor, times: Sequence[float]) -> Tensor:
        """``(batch, len(times), Nx)`` from ``u0`` ``(batch, Nx)`` (index 0 is ``u0``); channels:
        ``(batch, C, Nx) -> (batch, len(times), C, Nx)``, the data's layout either way; 2-D:
        ``(batch, C, Ny, Nx) -> (batch, len(times), C, Ny, Nx)``."""
        single = u0.ndim == 1 + self.space_dims
        if u0.ndim - self.space_dims not in (1, 2) or (1 if single else u0.shape[1]) != self.channels:
            raise InputError(f"the model takes {self.channels} channel(s) (batch, C, *space) over "
                             f"{self.space_dims} spatial axes; got {tuple(u0.shape)}")
        u0 = self.extension.extend(u0[:, None] if single else u0)
        path = (self._multiplier_solve(u0, times) if self.config.uses_multipliers
                else self.block(u0, times=times).transpose(0, 1))
        path = self.extension.restrict(path)
        return path[:, :, 0] if single else path

    def _multiplier_solve(self, u0: Tensor, times: Sequence[float]) -> Tensor:
        """``(batch, len(times), C, *space)``: the block's Runge-Kutta solve as step matrices per mode."""
        times = as_times(times, name="times")
        grid, outputs = subdivide(times, self.config.steps_per_interval)
        tableau = self.block.method
        at_stages = stage_times(tableau, grid)
        if get_variant(self.config.variant).coupled:
            # Each distinct time once (RK4's two midpoint stages, a step's end and the next one's start).
            distinct = list(dict.fromkeys(at_stages))
            (weights,) = self.block.weight_trajectory(distinct, output_times=times).values()
            index = {t: i for i, t in enumerate(distinct)}
            symbols = self.layer.applied_symbol(weights)[[index[t] for t in at_stages]]
        else:  # the same weights at every stage
            symbols = self.layer.applied_symbol(self.layer.weight[None])
            symbols = symbols.expand(len(at_stages), *symbols.shape[1:])
        generators = symbols.unflatten(0, (-1, tableau.stages))
        change = propagator_increments(step_increments(tableau, grid, generators), outputs)  # (T, modes, C, C)
        spectrum = self.layer.to_modes(u0).to(change.dtype)
        # u0 plus the change, as the stage loop adds its steps: a field that stays put stays exactly u0.
        moved = self.layer.from_modes(torch.einsum("tmoi,bim->btom", change, spectrum))
        return u0[:, None] + moved

    def weights_at(self, times: Sequence[float]) -> Tensor:
        """The layer's applied weights theta(t) at the stored ``times``, stacked on dim 0.

        Static variants repeat their weights; coupled ones follow the weight path of
        ``forward(u0, times)``, so these are the weights the field saw at those times.
        """
        weight = self.layer.weight.detach()
        times = [float(t) for t in times]
        if not get_variant(self.config.variant).coupled or len(times) < 2:
            return weight.expand(len(times), *weight.shape)
        with torch.no_grad():
            (path,) = self.block.weight_trajectory(times, output_times=times).values()
        return path

    def symbols(self, times: Sequence[float]) -> Tensor:
        """Fourier symbol of the learned generator at ``times``, ``(len(times), Nx//2+1, C, C_in)``
        (2-D: the ``rfft2`` modes flattened, ``Ny * (Nx//2+1)``)."""
        return self.layer.symbol(self.weights_at(times))


def build_model(config: ModelConfig, x: np.ndarray, channels: int = 1) -> TrajectoryModel:
    """A model for ``channels`` fields on the uniform periodic grid ``x`` (spacing taken from it)."""
    return TrajectoryModel(config, Grid.from_points(x), channels)
