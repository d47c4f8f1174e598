"""The Fourier neural-operator layers of :mod:`physode.nn.fourier` on periodic 2-D grids.

Fields are ``(batch, channels, Ny, Nx)``. :class:`SpectralConv2d` keeps the modes ``|k_y| < modes``
and ``0 <= k_x < modes`` of ``rfft2`` (Li et al.'s ``modes1 = modes2``, both signs of ``k_y``), and
:class:`FourierField2d` is :class:`~physode.nn.fourier.FourierField` built from them: lift, Fourier
blocks with GELU, a projection that starts at zero, and an optional linear spectral term. Weights
are real tensors stored input-channel first, under the same names as in 1-D (``lift``,
``blocks.i.spectral``, ``blocks.i.pointwise``, ``projection``, ``linear``), so the same weight
groups evolve and the same evolution operators apply. :class:`SpectralRates2d` is the diagonal linear
term an integrating-factor stepper (``ifrk4``) propagates exactly, one rate per 2-D mode.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from physode.nn.fourier import FourierBlock, FourierField, PointwiseLinear, SpectralRates, _check_positive


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
        _check_positive(in_channels=in_channels, out_channels=out_channels, modes=modes)
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


class SpectralRates2d(nn.Module):
    """:class:`~physode.nn.fourier.SpectralRates` over the 2-D modes ``|k_y| < modes``, ``0 <= k_x < modes``
    of ``rfft2`` (the others have rate 0): ``(L u)_k = lambda_k u_k`` per channel, ``exp(L dt)`` exact
    (:meth:`propagate`).

    ``lambda_k = -(2 pi |k|)^2 nu_k + i 2 pi |k| c_k`` (``|k|`` in waves per domain): every mode decays or
    oscillates, never grows. Parameters ``(channels, 2 modes - 1, modes)``, rows ``k_y = 0 .. modes - 1``
    then ``-(modes - 1) .. -1`` (:class:`SpectralConv2d`'s layout). On the columns ``k_x = 0`` and
    ``Nx / 2`` the modes ``k_y`` and ``-k_y`` are each other's conjugates in a real field, so there the
    rate of ``-k_y`` is the conjugate of ``k_y``'s (its own parameters are unused) and the self-conjugate
    modes' rates are real: the operator applied is then exactly ``L``, and :meth:`propagate` its exponential
    (``irfft2`` would otherwise keep only the Hermitian part, which is no linear ODE's flow).
    """

    INITIAL_DIFFUSIVITY = SpectralRates.INITIAL_DIFFUSIVITY

    def __init__(self, channels: int, modes: int) -> None:
        super().__init__()
        _check_positive(channels=channels, modes=modes)
        self.channels, self.modes = channels, modes
        shape = (channels, 2 * modes - 1, modes)
        self.log_diffusivity = nn.Parameter(torch.full(shape, math.log(self.INITIAL_DIFFUSIVITY)))
        self.velocity = nn.Parameter(torch.zeros(shape))

    def rates(self, n_y: int, n_x: int) -> Tensor:
        """``lambda_k`` on the whole ``rfft2`` spectrum, complex ``(channels, n_y, n_x // 2 + 1)``."""
        m, device = self.modes, self.velocity.device
        k_y = (torch.arange(n_y, device=device) + n_y // 2) % n_y - n_y // 2  # rfft2's row order, Nyquist negative
        k_x = torch.arange(n_x // 2 + 1, device=device)
        kept = (k_y.abs() < m)[:, None] & (k_x < m)[None, :]
        self_conjugate = ((k_x == 0) | (2 * k_x == n_x))[None, :]
        mirrored = self_conjugate & (k_y < 0)[:, None]  # the conjugate of the row -k_y
        source_y = torch.where(mirrored, -k_y[:, None], k_y[:, None])
        rows = torch.where(kept, source_y % (2 * m - 1), 0)
        columns = torch.where(kept, k_x[None, :], 0).expand_as(rows)
        diffusivity = self.log_diffusivity[:, rows, columns].exp()
        real_mode = self_conjugate & ((2 * k_y) % n_y == 0)[:, None]
        sign = torch.where(mirrored, -1.0, 1.0).to(self.velocity.dtype) * ~real_mode
        wave = 2 * math.pi * torch.sqrt(k_y[:, None] ** 2 + k_x[None, :] ** 2).to(self.velocity.dtype)
        rate = torch.complex(-wave**2 * diffusivity, wave * sign * self.velocity[:, rows, columns])
        return torch.where(kept, rate, 0)

    def forward(self, u: Tensor) -> Tensor:
        """``L u`` for ``u`` of shape ``(batch, channels, Ny, Nx)``."""
        n_y, n_x = u.shape[-2:]
        return torch.fft.irfft2(self.rates(n_y, n_x) * torch.fft.rfft2(u), s=(n_y, n_x))

    def propagate(self, u: Tensor, dt: float) -> Tensor:
        """``exp(L dt) u``, exact: the modes not kept (rate 0) pass unchanged."""
        n_y, n_x = u.shape[-2:]
        return torch.fft.irfft2(torch.exp(self.rates(n_y, n_x) * dt) * torch.fft.rfft2(u), s=(n_y, n_x))

    def extra_repr(self) -> str:
        return f"{self.channels}, modes={self.modes}"


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

    :class:`~physode.nn.fourier.FourierField` (the same arguments, ``modes`` and ``linear_modes`` per axis)
    built from the 2-D layers; ``diagonal_linear``'s term is :class:`SpectralRates2d`.
    """

    block_type = FourierBlock2d
    pointwise_type = PointwiseLinear2d
    spectral_type = SpectralConv2d
    rates_type = SpectralRates2d
    space_axes = ("Ny", "Nx")
