"""Single-layer ODE models of a 1-D periodic field: u(t) from u(t0), one linear layer as the generator.

The state is the field itself, ``u`` of shape ``(batch, Nx)``; the model integrates
``du/dt = f(u; theta(t))`` from the data's first time over every stored time. ``f`` is one linear,
translation-invariant layer, so it is fully described by its Fourier symbol ``sigma_k`` (the
factor it multiplies the mode ``exp(i k x)`` by):

- ``spectral`` (default): one complex multiplier per retained real-FFT mode. Any linear,
  constant-coefficient periodic PDE (advection ``i k c``, diffusion ``-nu k^2``, dispersion ...)
  is diagonal in Fourier space, so this layer represents its generator exactly, and a learned
  multiplier can even absorb the Runge-Kutta error of a fixed step (it learns the ``m`` whose
  RK4 polynomial equals ``exp(i k c dt)``). That is why it is the default.
- ``stencil``: a periodic (circular) conv1d of odd width, a learned finite-difference operator.
  Local and resolution-agnostic, but a ``K``-point stencil cannot match ``i k c`` at high
  wavenumbers (dispersion error ~ ``(k dx)^(K-1)``).

Both layers store their weights in velocity units (the stencil acts on differences divided by
``dx``, the multipliers are scaled by ``|k|``), so a weight of order one means a velocity of order
one whatever the grid; without it Adam would need thousands of steps just to grow the weights to
``c / dx``, and steps sized for the fast modes would swamp the slow ones.

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
from physode.problems.pde1d.variants import BASES, STATIC, VARIANTS, evolution_operator
from physode.steppers import get_method

LAYERS = ("spectral", "stencil")


@dataclass(frozen=True)
class ModelConfig:
    """What a model is; together with the data grid it determines every parameter shape.

    ``modes``: real-FFT modes the spectral layer keeps (None: all, up to Nyquist).
    ``width``: points of the stencil (odd). ``steps_per_interval``: solver steps between two
    stored times. ``per_mode_reaction``: ANODEV2 learns one reaction rate per spectral mode
    (per output channel) instead of one per layer. ``hidden``: width of anodev2-neural's q.
    ``latent``: anodev2-latent's latent dimension (and so galerkin's basis size).
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
    latent: int = 3
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
# Layers: (batch, channels, Nx) -> (batch, Nx), each with its Fourier symbol
# --------------------------------------------------------------------------------------------------


class SpectralLayer(nn.Module):
    """``f(u) = irfft(sum_c m_{k,c} rfft(u_c)_k)`` over the first ``modes`` modes.

    The multipliers are stored in velocity units, ``m_k = |k| (a_k + i b_k)`` (mode 0 uses the
    lowest nonzero ``|k|``): advection at speed ``c`` is ``b_k = c`` for every mode. Adam moves
    every weight by about the learning rate per step, so this scaling lets all modes learn their
    phase speed at the same pace; unscaled, low modes would be swamped by steps sized for high ones.
    ``weight`` has shape ``(modes, channels, 2)`` (real, imaginary pairs), modes first so an
    evolution operator's per-channel coefficients become per-mode ones.
    """

    def __init__(self, n_x: int, dx: float, modes: int | None = None, channels: int = 1,
                 init_scale: float = 0.01) -> None:
        super().__init__()
        available = n_x // 2 + 1
        if modes is not None and modes > available:
            raise InputError(f"{modes} spectral modes requested but a grid of {n_x} points has {available}")
        self.n_x = n_x
        self.modes = available if modes is None else modes
        k = 2 * math.pi * torch.fft.rfftfreq(n_x, d=dx, dtype=torch.float64)[: self.modes]
        self.register_buffer("k_scale", k.clamp_min(2 * math.pi / (n_x * dx)).float(), persistent=False)
        self.weight = nn.Parameter(init_scale * torch.randn(self.modes, channels, 2))

    def forward(self, u: Tensor) -> Tensor:
        spectrum = torch.fft.rfft(u, dim=-1)[..., : self.modes]  # (B, C, modes)
        multiplier = torch.complex(self.weight[..., 0], self.weight[..., 1]).T * self.k_scale
        return torch.fft.irfft((spectrum * multiplier).sum(1), n=self.n_x, dim=-1)

    def symbol(self, weight: Tensor) -> Tensor:
        """The symbol of channel 0 (the field) for weights ``(..., modes, C, 2)``: ``(..., n_x//2+1)``."""
        sigma = torch.complex(weight[..., 0, 0], weight[..., 0, 1]) * self.k_scale
        return F.pad(sigma, (0, self.n_x // 2 + 1 - self.modes))


class StencilLayer(nn.Module):
    """``f(u)_i = w_0 u_i + sum_{j != 0} w_j (u_{i+j} - u_i) / dx``: a periodic conv1d of odd width.

    ``weight`` has shape ``(1, channels, width)``, offsets ``j = -h .. h`` along the last axis.
    Written on differences, the off-centre weights are velocities (the first moment
    ``sum_j w_j j`` is the advection speed, ``dx/2`` times the second a diffusion coefficient) and the centre
    weight ``w_0`` is a reaction rate, so Adam's equal-sized steps mean comparable changes of the
    dynamics. Any plain stencil is one of these (same number of weights); a plain one in units of
    ``1 / dx`` would instead turn every step on its row sum into a damping of all modes ``Nx``
    times faster than the learned velocity changes, and fitting drifts into "damp everything".
    """

    def __init__(self, n_x: int, dx: float, width: int = 7, channels: int = 1,
                 init_scale: float = 0.01) -> None:
        super().__init__()
        if width > n_x:
            raise InputError(f"stencil width {width} exceeds the {n_x} grid points; lower --width")
        self.n_x, self.dx, self.half = n_x, dx, width // 2
        self.weight = nn.Parameter(init_scale * torch.randn(1, channels, width))

    def kernel(self, weight: Tensor) -> Tensor:
        """The plain stencil ``k`` with ``f(u)_i = sum_j k_j u_{i+j}`` for weights ``(..., width)``."""
        centre = F.one_hot(torch.tensor(self.half), weight.shape[-1]).to(weight)
        off_centre = weight * (1 - centre) / self.dx
        return off_centre + centre * (weight[..., self.half, None] - off_centre.sum(-1, keepdim=True))

    def forward(self, u: Tensor) -> Tensor:
        padded = F.pad(u, (self.half, self.half), mode="circular")
        return F.conv1d(padded, self.kernel(self.weight))[:, 0]

    def symbol(self, weight: Tensor) -> Tensor:
        """Channel 0's symbol ``sum_j k_j exp(i k j dx)`` for weights ``(..., 1, C, width)``."""
        offsets = torch.arange(-self.half, self.half + 1, device=weight.device, dtype=weight.dtype)
        k_dx = 2 * math.pi * torch.fft.rfftfreq(self.n_x, device=weight.device, dtype=weight.dtype)
        phase = torch.polar(torch.ones_like(k_dx[:, None] * offsets), k_dx[:, None] * offsets)
        return (phase * self.kernel(weight)[..., 0, 0, None, :]).sum(-1)


class FieldOnly(nn.Module):
    """``f(u)``: the layer applied to the field as its single channel."""

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, u: Tensor) -> Tensor:
        return self.layer(u[:, None])


class TimeConcat(nn.Module):
    """``f(t, u)``: time concatenated to the field as a second, constant channel (Chen et al.)."""

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, t: float, u: Tensor) -> Tensor:
        return self.layer(torch.stack([u, torch.full_like(u, t)], dim=1))


# --------------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------------


class TrajectoryModel(nn.Module):
    """``u(t0) -> u(t0), u(t1), ...``: one ODE block over the stored times.

    Args:
        config: the model description.
        n_x: grid points; ``dx``: grid spacing (uniform periodic grid).
    """

    def __init__(self, config: ModelConfig, n_x: int, dx: float) -> None:
        super().__init__()
        self.config = config
        channels = 2 if config.variant == "neuralode" else 1
        if config.layer == "spectral":
            layer: nn.Module = SpectralLayer(n_x, dx, config.modes, channels, config.init_scale)
        else:
            layer = StencilLayer(n_x, dx, config.width, channels, config.init_scale)
        self.layer = layer
        common = {"steps": config.steps_per_interval, "method": config.method}
        if config.variant == "anode":
            self.block = physode.ODEBlock(FieldOnly(layer), grad="checkpoint", **common)
        elif config.variant == "neuralode":
            self.block = physode.ODEBlock(TimeConcat(layer), grad="adjoint", time_input=True, **common)
        else:
            self.block = physode.CoupledODEBlock(
                FieldOnly(layer), ["layer.weight"], evolution_operator(config, layer.weight.shape[0]),
                grad="checkpoint", **common
            )

    def forward(self, u0: Tensor, times: Sequence[float]) -> Tensor:
        """Predicted fields ``(batch, len(times), Nx)``; index 0 is ``u0`` itself."""
        return self.block(u0, times=times).transpose(0, 1)

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
        """Fourier symbol of the learned generator at ``times``: complex ``(len(times), Nx//2+1)``."""
        return self.layer.symbol(self.weights_at(times))


def parameter_count(model: nn.Module) -> int:
    """Trainable parameters (weights of the layer plus those of the evolution operator)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def build_model(config: ModelConfig, x: np.ndarray) -> TrajectoryModel:
    """A model for data on the uniform periodic grid ``x`` (spacing taken from it)."""
    x = np.asarray(x, dtype=np.float64)
    if x.size < 4:
        raise InputError(f"the grid has {x.size} points; a 1-D field model needs at least 4")
    spacing = np.diff(x)
    dx = float(spacing.mean())
    if not np.allclose(spacing, dx, rtol=1e-6, atol=0.0):
        raise InputError(
            "the x grid is not uniform; the spectral and stencil layers assume a uniform periodic grid"
        )
    return TrajectoryModel(config, x.size, dx)


def config_from_dict(values: dict) -> ModelConfig:
    """A :class:`ModelConfig` from stored settings (unknown keys are an error, missing take defaults)."""
    names = {field.name for field in dataclasses.fields(ModelConfig)}
    unknown = set(values) - names
    if unknown:
        raise InputError(f"unknown model settings {sorted(unknown)}; known: {sorted(names)}")
    return ModelConfig(**values)


def velocity_estimate(symbols: Tensor, n_x: int, dx: float, energy: Tensor) -> Tensor:
    """c_hat(t): the pure-advection velocity closest to the learned generator on the excited modes.

    Transport ``dz/dt = c dz/dx`` has the symbol ``i k c``. We fit ``Im sigma_k(t) = k c`` by
    least squares weighted by ``energy`` (the data's power per mode, so modes the data never
    excite, whose weights are untrained, do not count): ``c = sum e k Im(sigma) / sum e k^2``.
    For a stencil with ``energy`` concentrated at low ``k`` this is the first moment of its
    weights, ``sum_j w_j j`` (offsets ``j`` in cells); for spectral multipliers it averages
    ``Im(m_k) / k`` (the imaginary weights ``b_k``) over the excited modes.
    """
    k = 2 * math.pi * torch.fft.rfftfreq(n_x, d=dx, dtype=torch.float64)
    e = energy.to(torch.float64) * k.square()
    return (symbols.imag.to(torch.float64) * k * energy.to(torch.float64)).sum(-1) / e.sum()
