"""The 1-D linear layers of the linear family: (batch, in channels, Nx) -> (batch, channels, Nx).

Each is translation invariant on a uniform periodic 1-D grid, so it is fully described by its
Fourier symbol ``sigma_k`` (the factor it multiplies the mode ``exp(i k x)`` by; for C fields a
C x C matrix per mode, mixing the channels), which :meth:`symbol` returns for any weights. Both
store their weights in velocity units (differences over ``dx``, multipliers scaled by ``|k|``), so
a weight of order one means a velocity of order one on any grid; otherwise Adam would need
thousands of steps to grow weights to ``c / dx``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from physode.errors import InputError


class PeriodicLayer1d(nn.Module):
    """A translation-invariant layer on ``n_x`` periodic points, seen through its real-FFT modes
    (what the linear family's per-mode step matrices need of a layer: its modes and its symbol)."""

    n_x: int

    def to_modes(self, u: Tensor) -> Tensor:
        """The real FFT of fields ``(..., Nx)`` over the last axis: ``(..., Nx//2+1)``."""
        return torch.fft.rfft(u, dim=-1)

    def from_modes(self, spectrum: Tensor) -> Tensor:
        """The fields of a real-FFT spectrum ``(..., Nx//2+1)``."""
        return torch.fft.irfft(spectrum, n=self.n_x, dim=-1)

    def applied_symbol(self, weight: Tensor) -> Tensor:
        """What :meth:`symbol` applies to real fields (see :func:`applied_symbol`)."""
        return applied_symbol(self.symbol(weight), self.n_x)


class SpectralLayer(PeriodicLayer1d):
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
        k = 2 * math.pi * torch.fft.rfftfreq(n_x, d=dx, dtype=torch.float64)[: self.modes]
        init_multipliers(self, k.clamp_min(2 * math.pi / (n_x * dx)), extra, init_scale, channels)

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


class StencilLayer(PeriodicLayer1d):
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


def init_multipliers(layer: nn.Module, k: Tensor, extra: int, init_scale: float, channels: int,
                     components: int = 2) -> None:
    """Give a spectral ``layer`` its ``weight`` and ``k_scale`` for the modes of magnitudes ``k``
    (float64, zero raised to the lowest nonzero one), as :class:`SpectralLayer` describes them, with
    ``components`` reals per multiplier (real and imaginary parts; 2-D: one imaginary part per axis)."""
    layer.channels, layer.in_channels = channels, channels + extra
    out, inputs = torch.arange(channels)[:, None], torch.arange(layer.in_channels)
    power = torch.where(inputs < channels, 1 + out - inputs, 1)  # extra inputs: velocity units
    scale = k[:, None, None] ** power  # (modes, C, C_in)
    layer.register_buffer("k_scale", scale.float(), persistent=False)
    shape = (len(k), layer.in_channels) if channels == 1 else (channels * layer.in_channels, len(k))
    layer.weight = nn.Parameter(init_scale * torch.randn(*shape, components))


def applied_symbol(symbol: Tensor, n_x: int) -> Tensor:
    """The symbol a layer applies to real fields: real at the modes that are their own conjugate.

    A real field's mode 0 (and ``n_x / 2``, ``n_x`` even) is real, and the inverse real FFT keeps
    only the real part there, so the imaginary part of the spectral layer's multiplier at those
    modes has no effect (and the stencil's is round-off of ``sin(pi j)``).
    """
    self_conjugate = torch.zeros(symbol.shape[-3], dtype=torch.bool, device=symbol.device)
    self_conjugate[0] = True
    if n_x % 2 == 0 and symbol.shape[-3] == n_x // 2 + 1:
        self_conjugate[-1] = True
    return torch.complex(symbol.real, symbol.imag.masked_fill(self_conjugate[:, None, None], 0.0))


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
