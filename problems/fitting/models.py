"""Single-layer ODE models of a 1-D periodic field: u(t) from u(t0), one linear layer as the generator.

The state is the field itself, ``u`` of shape ``(batch, Nx)``, or ``(batch, C, Nx)`` for a system
of C fields (the wave equation's ``(u, u_t)``); the model integrates ``du/dt = f(u; theta(t))`` from
the data's first time over every stored time. ``f`` is one linear, translation-invariant layer, so
it is fully described by its Fourier symbol ``sigma_k`` (the factor it multiplies the mode
``exp(i k x)`` by; for C fields a C x C matrix per mode, mixing the channels):

- ``spectral`` (default): one complex multiplier per retained real-FFT mode. Any linear,
  constant-coefficient periodic PDE (advection ``i k c``, diffusion ``-nu k^2``, dispersion ...)
  is diagonal in Fourier space, so this layer represents its generator exactly, and a learned
  multiplier can even absorb the Runge-Kutta error of a fixed step (it learns the ``m`` whose
  RK4 polynomial equals ``exp(i k c dt)``). That is why it is the default.
- ``stencil``: a periodic (circular) conv1d of odd width, a learned finite-difference operator.
  Local and resolution-agnostic, but a ``K``-point stencil cannot match ``i k c`` at high
  wavenumbers (dispersion error ~ ``(k dx)^(K-1)``).

Both layers store their weights in velocity units (differences over ``dx``, multipliers scaled by
``|k|``; channels: :class:`SpectralLayer`), so a weight of order one means a velocity of order one
on any grid; otherwise Adam would need thousands of steps to grow weights to ``c / dx``.

Variants (same layer, different time dependence of its weights): :mod:`.variants`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

import physode
from physode.errors import InputError
from physode.problems.fitting.variants import BASES, STATIC, VARIANTS, evolution_operator
from physode.steppers import get_method

LAYERS = ("spectral", "stencil")


@dataclass(frozen=True)
class ModelConfig:
    """What a model is; together with the data grid it determines every parameter shape.

    ``modes``: real-FFT modes the spectral layer keeps (None: all, up to Nyquist).
    ``width``: points of the stencil (odd). ``steps_per_interval``: solver steps between two
    stored times. ``per_mode_reaction``: ANODEV2 learns one reaction rate per spectral mode
    instead of one per component (:func:`.variants.weight_groups`). ``hidden``: width of anodev2-neural's q.
    ``latent``: anodev2-latent's latent dimension (and so galerkin's basis size); 5, one exponential
    and two oscillators at pi and 2 pi: the read-out starts from a Fourier bank over a full turn. A
    larger latent buys shapes at the cost of conditioning (transport benchmark: 9 takes a tanh switch
    in c(t) from 8.2e-2 to 2.6e-2 test nRMSE and a sinusoid from 3.1e-3 to 1.3e-2).
    ``basis``: galerkin's basis in time.
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

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise InputError(f"unknown variant {self.variant!r}; choose one of {', '.join(VARIANTS)}")
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


# --------------------------------------------------------------------------------------------------
# Layers: (batch, in channels, Nx) -> (batch, channels, Nx), each with its Fourier symbol
# --------------------------------------------------------------------------------------------------


class SpectralLayer(nn.Module):
    """``f(u)_o = irfft(sum_i m_{k,o,i} rfft(u_i)_k)`` over the first ``modes`` modes.

    A complex ``channels x in_channels`` matrix per mode (``extra`` inputs: Neural ODE's time).
    Stored in velocity units, ``m_k = |k| (a_k + i b_k)`` (mode 0: the lowest nonzero ``|k|``), so
    advection at speed ``c`` is ``b_k = c`` on every mode and Adam's equal steps move all modes'
    phase speeds at the same pace. Entry ``(o, i)`` of C channels is scaled by ``|k|^(1 + o - i)``,
    taking channel ``j`` as the ``j``-th time derivative of channel 0 (the wave's ``(u, u_t)``):
    the wave generator ``[[0, 1], [-c^2 k^2, 0]]`` is the weights ``[[0, 1], [-c^2, 0]]`` on every
    mode. ``weight``: ``(modes, in_channels, 2)`` (real, imaginary) for one field; ``(channels * in_channels, modes, 2)`` for C
    fields, so they are per channel pair (ANODEV2 can then grow ``-c^2`` alone).
    """

    def __init__(self, n_x: int, dx: float, modes: int | None = None, extra: int = 0,
                 init_scale: float = 0.01, channels: int = 1) -> None:
        super().__init__()
        available = n_x // 2 + 1
        if modes is not None and modes > available:
            raise InputError(f"{modes} spectral modes requested but a grid of {n_x} points has {available}")
        self.n_x = n_x
        self.modes = available if modes is None else modes
        self.channels, self.in_channels = channels, channels + extra
        k = 2 * math.pi * torch.fft.rfftfreq(n_x, d=dx, dtype=torch.float64)[: self.modes]
        out, inputs = torch.arange(channels)[:, None], torch.arange(self.in_channels)
        power = torch.where(inputs < channels, 1 + out - inputs, 1)  # extra inputs: velocity units
        scale = k.clamp_min(2 * math.pi / (n_x * dx))[:, None, None] ** power  # (modes, C, C_in)
        self.register_buffer("k_scale", scale.float(), persistent=False)
        shape = (self.modes, self.in_channels) if channels == 1 else (channels * self.in_channels, self.modes)
        self.weight = nn.Parameter(init_scale * torch.randn(*shape, 2))

    def multipliers(self, weight: Tensor) -> Tensor:
        """The complex matrices ``(..., modes, channels, in_channels)`` of weights like ``weight``."""
        pairs = (weight if self.channels == 1 else weight.transpose(-3, -2)).unflatten(-2, (self.channels, -1))
        return torch.complex(pairs[..., 0], pairs[..., 1]) * self.k_scale

    def forward(self, u: Tensor) -> Tensor:
        spectrum = torch.fft.rfft(u, dim=-1)[..., : self.modes]  # (B, C_in, modes)
        mixed = torch.einsum("bim,moi->bom", spectrum, self.multipliers(self.weight))
        return torch.fft.irfft(mixed, n=self.n_x, dim=-1)

    def symbol(self, weight: Tensor) -> Tensor:
        """The symbol matrices for weights ``(..., *weight.shape)``: ``(..., n_x//2+1, C, C_in)``."""
        return F.pad(self.multipliers(weight), (0, 0, 0, 0, 0, self.n_x // 2 + 1 - self.modes))


class StencilLayer(nn.Module):
    """``f(u)_i = w_0 u_i + sum_{j != 0} w_j (u_{i+j} - u_i) / dx``: a periodic conv1d of odd width.

    ``weight`` has shape ``(channels, in_channels, width)``, offsets ``j = -h .. h`` along the last
    axis, one stencil per channel pair (the wave's ``u -> u_t`` one needs weights ~ ``c^2 / dx``).
    Written on differences, the off-centre weights are velocities (the first moment
    ``sum_j w_j j`` is the advection speed, ``dx/2`` times the second a diffusion coefficient) and the centre
    weight ``w_0`` is a reaction rate, so Adam's equal-sized steps mean comparable changes of the
    dynamics. Any plain stencil is one of these (same number of weights); a plain one in units of
    ``1 / dx`` would instead turn every step on its row sum into a damping of all modes ``Nx``
    times faster than the learned velocity changes, and fitting drifts into "damp everything".
    """

    def __init__(self, n_x: int, dx: float, width: int = 7, extra: int = 0,
                 init_scale: float = 0.01, channels: int = 1) -> None:
        super().__init__()
        if width > n_x:
            raise InputError(f"stencil width {width} exceeds the {n_x} grid points; lower --width")
        self.n_x, self.dx, self.half = n_x, dx, width // 2
        self.weight = nn.Parameter(init_scale * torch.randn(channels, channels + extra, width))

    def kernel(self, weight: Tensor) -> Tensor:
        """The plain stencil ``k`` with ``f(u)_i = sum_j k_j u_{i+j}`` for weights ``(..., width)``."""
        centre = F.one_hot(torch.tensor(self.half), weight.shape[-1]).to(weight)
        off_centre = weight * (1 - centre) / self.dx
        return off_centre + centre * (weight[..., self.half, None] - off_centre.sum(-1, keepdim=True))

    def forward(self, u: Tensor) -> Tensor:
        padded = F.pad(u, (self.half, self.half), mode="circular")
        return F.conv1d(padded, self.kernel(self.weight))

    def symbol(self, weight: Tensor) -> Tensor:
        """Symbols ``sum_j k_j exp(i k j dx)`` for weights ``(..., C, C_in, width)``: ``(..., n_x//2+1, C, C_in)``."""
        offsets = torch.arange(-self.half, self.half + 1, device=weight.device, dtype=weight.dtype)
        k_dx = 2 * math.pi * torch.fft.rfftfreq(self.n_x, device=weight.device, dtype=weight.dtype)
        phase = torch.polar(torch.ones_like(k_dx[:, None] * offsets), k_dx[:, None] * offsets)
        return (phase[:, None, None] * self.kernel(weight)[..., None, :, :, :]).sum(-1)


class FieldOnly(nn.Module):
    """``f(u)``: the layer applied to the fields ``(batch, C, Nx)``."""

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, u: Tensor) -> Tensor:
        return self.layer(u)


class TimeConcat(nn.Module):
    """``f(t, u)``: time concatenated to the fields as one more, constant channel (Chen et al.)."""

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, t: float, u: Tensor) -> Tensor:
        return self.layer(torch.cat([u, torch.full_like(u[:, :1], t)], dim=1))


# --------------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------------


class TrajectoryModel(nn.Module):
    """``u(t0) -> u(t0), u(t1), ...``: one ODE block over the stored times.

    Args:
        config: the model description.
        n_x: grid points; ``dx``: grid spacing (uniform periodic grid).
        channels: fields of the state (the data's channels)."""

    def __init__(self, config: ModelConfig, n_x: int, dx: float, channels: int = 1) -> None:
        super().__init__()
        self.config = config
        self.channels = channels
        extra = 1 if config.variant == "neuralode" else 0
        self.layer = layer = (
            SpectralLayer(n_x, dx, config.modes, extra, config.init_scale, channels) if config.layer == "spectral"
            else StencilLayer(n_x, dx, config.width, extra, config.init_scale, channels))
        common = {"steps": config.steps_per_interval, "method": config.method}
        if config.variant == "anode":
            self.block = physode.ODEBlock(FieldOnly(layer), grad="checkpoint", **common)
        elif config.variant == "neuralode":
            self.block = physode.ODEBlock(TimeConcat(layer), grad="adjoint", time_input=True, **common)
        else:
            self.block = physode.CoupledODEBlock(
                FieldOnly(layer), ["layer.weight"], evolution_operator(config, layer.weight.shape, channels),
                grad="checkpoint", **common
            )

    def forward(self, u0: Tensor, times: Sequence[float]) -> Tensor:
        """``(batch, len(times), Nx)`` from ``u0`` ``(batch, Nx)`` (index 0 is ``u0``); channels:
        ``(batch, C, Nx) -> (batch, len(times), C, Nx)``, the data's layout either way."""
        single = u0.ndim == 2
        if u0.ndim not in (2, 3) or (1 if single else u0.shape[1]) != self.channels:
            raise InputError(f"the model takes {self.channels} channel(s) (batch, C, Nx); got {tuple(u0.shape)}")
        path = self.block(u0[:, None] if single else u0, times=times).transpose(0, 1)
        return path[:, :, 0] if single else path

    def weights_at(self, times: Sequence[float]) -> Tensor:
        """The layer's applied weights theta(t) at the stored ``times``, stacked on dim 0.

        Static variants repeat their weights; coupled ones follow the weight path of
        ``forward(u0, times)``, so these are the weights the field saw at those times.
        """
        weight = self.layer.weight.detach()
        times = [float(t) for t in times]
        if self.config.variant in STATIC or len(times) < 2:
            return weight.expand(len(times), *weight.shape)
        with torch.no_grad():
            (path,) = self.block.weight_trajectory(times, output_times=times).values()
        return path

    def symbols(self, times: Sequence[float]) -> Tensor:
        """Fourier symbol of the learned generator at ``times``, ``(len(times), Nx//2+1, C, C_in)``."""
        return self.layer.symbol(self.weights_at(times))


def parameter_count(model: nn.Module) -> int:
    """Trainable parameters (weights of the layer plus those of the evolution operator)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def build_model(config: ModelConfig, x: np.ndarray, channels: int = 1) -> TrajectoryModel:
    """A model for ``channels`` fields on the uniform periodic grid ``x`` (spacing taken from it)."""
    x = np.asarray(x, dtype=np.float64)
    if x.size < 4:
        raise InputError(f"the grid has {x.size} points; a 1-D field model needs at least 4")
    spacing = np.diff(x)
    dx = float(spacing.mean())
    if not np.allclose(spacing, dx, rtol=1e-6, atol=0.0):
        raise InputError(
            "the x grid is not uniform; the spectral and stencil layers assume a uniform periodic grid"
        )
    return TrajectoryModel(config, x.size, dx, channels)


def config_from_dict(values: dict) -> ModelConfig:
    """A :class:`ModelConfig` from stored settings (unknown keys are an error, missing take defaults)."""
    names = {field.name for field in dataclasses.fields(ModelConfig)}
    unknown = set(values) - names
    if unknown:
        raise InputError(f"unknown model settings {sorted(unknown)}; known: {sorted(names)}")
    return ModelConfig(**values)
