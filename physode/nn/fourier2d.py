"""The Fourier neural-operator layers of :mod:`physode.nn.fourier` on periodic 2-D grids.

Fields are ``(batch, channels, Ny, Nx)``. :class:`SpectralConv2d` keeps the modes ``|k_y| < modes``
and ``0 <= k_x < modes`` of ``rfft2`` (Li et al.'s ``modes1 = modes2``, both signs of ``k_y``), and
:class:`FourierField2d` is :class:`~physode.nn.fourier.FourierField` built from them: lift, Fourier
blocks with GELU, a projection that starts at zero, and an optional linear spectral term. Weights
are real tensors stored input-channel first, under the same names as in 1-D (``lift``,
``blocks.i.spectral``, ``blocks.i.pointwise``, ``projection``, ``linear``), so the same weight
groups evolve and the same evolution operators apply.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from physode.errors import InputError
from physode.nn.fourier import FourierBlock, FourierField, PointwiseLinear


class SpectralConv2d(nn.Module):
    """``y_o = irfft2( sum_i W_{i,o,k} rfft2(x_i)_k )`` over the modes ``|k_y| < modes``, ``k_x < modes``.

    ``weight``: ``(in, out, 2 modes - 1, modes, 2)``, rows ``k_y = 0 .. modes - 1`` then
    ``-(modes - 1) .. -1``. A grid too small for all of them uses those it has. With
    ``velocity_units`` the multiplier is ``2 pi max(|k|, 1) W_k`` (``|k|`` in waves per domain, as
    :class:`~physode.nn.fourier.SpectralConv1d`'s), so a weight of order one is a velocity of order one.
    """

    def __init__(self, in_channels: int, out_channels: int, modes: int, *, velocity_units: bool = False,
                 init_std: float | None = None) -> None:
        super().__init__()
        for name, value in {"in_channels": in_channels, "out_channels": out_channels, "modes": modes}.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(f"{name} must be an integer >= 1, got {value!r}")
        self.in_channels, self.out_channels, self.modes = in_channels, out_channels, modes
        self.velocity_units = velocity_units
        std = 1.0 / math.sqrt(2 * in_channels) if init_std is None else init_std  # variance preserving per mode
        self.weight = nn.Parameter(std * torch.randn(in_channels, out_channels, 2 * modes - 1, modes, 2))

    def forward(self, x: Tensor) -> Tensor:
        n_y, n_x = x.shape[-2:]
        rows, columns = min(self.modes, (n_y + 1) // 2), min(self.modes, n_x // 2 + 1)
        m = self.modes
        # Rows k_y = 0 .. rows-1 and -(rows-1) .. -1, in the weight's and in the spectrum's order.
        weight = torch.cat([self.weight[:, :, :rows], self.weight[:, :, 2 * m - rows:]], dim=2)[:, :, :, :columns]
        multiplier = torch.complex(weight[..., 0], weight[..., 1])
        if self.velocity_units:
            k_y = torch.cat([torch.arange(rows), torch.arange(1 - rows, 0)]).to(weight)
            k_x = torch.arange(columns).to(weight)
            multiplier = multiplier * (2 * math.pi * torch.sqrt(k_y[:, None] ** 2 + k_x[None, :] ** 2).clamp_min(1))
        spectrum = torch.fft.rfft2(x)
        kept = torch.cat([spectrum[..., :rows, :columns], spectrum[..., n_y - rows + 1:, :columns]], dim=-2)
        mixed = torch.einsum("biyx,ioyx->boyx", kept, multiplier)
        out = mixed.new_zeros(*mixed.shape[:-2], n_y, n_x // 2 + 1)
        out[..., :rows, :columns] = mixed[..., :rows, :]
        out[..., n_y - rows + 1:, :columns] = mixed[..., rows:, :]
        return torch.fft.irfft2(out, s=(n_y, n_x))

    def extra_repr(self) -> str:
        units = ", velocity_units=True" if self.velocity_units else ""
        return f"{self.in_channels}, {self.out_channels}, modes={self.modes}{units}"


class PointwiseLinear2d(PointwiseLinear):
    """:class:`~physode.nn.fourier.PointwiseLinear` on ``(batch, in, Ny, Nx)``: a 1x1 convolution."""

    def forward(self, x: Tensor) -> Tensor:
        return torch.einsum("biyx,io->boyx", x, self.weight) + self.bias[:, None, None]


class FourierBlock2d(FourierBlock):
    """``h <- GELU(SpectralConv2d(h) + PointwiseLinear2d(h))`` at constant width."""

    spectral_type = SpectralConv2d
    pointwise_type = PointwiseLinear2d


class FourierField2d(FourierField):
    """A 2-D Fourier neural operator as an ODE vector field: ``(batch, C, Ny, Nx) -> (batch, C, Ny, Nx)``.

    :class:`~physode.nn.fourier.FourierField` (the same arguments, ``modes`` per axis) built from
    the 2-D layers.
    """

    block_type = FourierBlock2d
    pointwise_type = PointwiseLinear2d
    spectral_type = SpectralConv2d
    space_axes = ("Ny", "Nx")
