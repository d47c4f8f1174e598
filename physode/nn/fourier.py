"""Fourier neural-operator layers and the vector field built from them, on periodic 1-D grids.

:class:`FourierField` is ``f(u)`` (or ``f(t, u)``) for ``du/dt = f(u; theta)``: it lifts ``C``
solution channels pointwise to ``width`` channels, applies Fourier blocks (a spectral convolution
over the lowest Fourier modes plus a pointwise linear map, then GELU) and projects back to ``C``
channels. Every layer commutes with periodic shifts, so the field is translation equivariant (no
positional channel), and it applies to any grid size: the spectral weights are indexed by
wavenumber, not by grid point.

All weights are real tensors (complex multipliers as ``(..., 2)`` real/imaginary pairs), so
:class:`~physode.CoupledODEBlock` can evolve them with any evolution operator and
``torch.autograd.gradcheck`` runs on them in float64. Weights are stored input-channel first,
``(in, out, ...)``: an evolution operator's per-channel coefficients (one per leading index, e.g.
``SpectralRDA(per_channel=True)``) then act per input feature, so evolving the projection scales
each hidden feature's contribution to ``du/dt`` by its own factor in time.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from physode.errors import InputError


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InputError(f"{name} must be an integer >= 1, got {value!r}")


class SpectralConv1d(nn.Module):
    """``y_o = irfft( sum_i W_{i,o,k} rfft(x_i)_k )`` over the lowest ``modes`` real-FFT modes.

    ``modes`` counts real-FFT modes ``k = 0 .. modes - 1`` (as ``modes1`` of Li et al.'s FNO;
    neuraloperator's ``n_modes=(2m - 2,)`` keeps the same ``m`` modes). On a grid with fewer
    modes (``Nx // 2 + 1 < modes``) the multipliers above its Nyquist mode are not used: the grid
    cannot carry those waves. ``weight`` has shape ``(in, out, modes, 2)``, real and imaginary parts.

    With ``velocity_units`` the multiplier is ``2 pi max(k, 1) W_k``: advection at ``c`` domain
    lengths per unit time (symbol ``2 pi i k c``) is ``W_k = i c`` at every mode, so a weight of
    order one is a velocity of order one. An optimizer that moves each weight by about its
    learning rate then changes every mode's phase speed at the same pace; unscaled, the high
    modes' multipliers would need thousands of steps to grow to ``2 pi k c``. ``init_std``:
    standard deviation of the initial real and imaginary parts (default: variance preserving).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        modes: int,
        *,
        velocity_units: bool = False,
        init_std: float | None = None,
    ) -> None:
        super().__init__()
        _check_positive(in_channels=in_channels, out_channels=out_channels, modes=modes)
        self.in_channels, self.out_channels, self.modes = in_channels, out_channels, modes
        self.velocity_units = velocity_units
        # Variance preserving per mode: sum over `in` complex products with E|W|^2 = 1 / in.
        std = 1.0 / math.sqrt(2 * in_channels) if init_std is None else init_std
        self.weight = nn.Parameter(std * torch.randn(in_channels, out_channels, modes, 2))

    def forward(self, x: Tensor) -> Tensor:
        n_x = x.shape[-1]
        kept = min(self.modes, n_x // 2 + 1)
        spectrum = torch.fft.rfft(x, dim=-1)[..., :kept]
        weight = self.weight[:, :, :kept]
        multiplier = torch.complex(weight[..., 0], weight[..., 1])
        if self.velocity_units:
            k = torch.arange(kept, dtype=weight.dtype, device=weight.device).clamp_min(1)
            multiplier = multiplier * (2 * math.pi * k)
        # irfft zero-fills the modes above `kept`.
        return torch.fft.irfft(torch.einsum("bik,iok->bok", spectrum, multiplier), n=n_x, dim=-1)

    def extra_repr(self) -> str:
        units = ", velocity_units=True" if self.velocity_units else ""
        return f"{self.in_channels}, {self.out_channels}, modes={self.modes}{units}"


class PointwiseLinear(nn.Module):
    """``y_o(x) = sum_i W_{i,o} u_i(x) + b_o``: a 1x1 convolution, weight stored ``(in, out)``."""

    def __init__(self, in_channels: int, out_channels: int, *, zero: bool = False) -> None:
        super().__init__()
        _check_positive(in_channels=in_channels, out_channels=out_channels)
        self.in_channels, self.out_channels = in_channels, out_channels
        bound = 0.0 if zero else 1.0 / math.sqrt(in_channels)  # torch's Conv1d default range
        self.weight = nn.Parameter(torch.empty(in_channels, out_channels).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(out_channels).uniform_(-bound, bound))

    def forward(self, x: Tensor) -> Tensor:
        return torch.einsum("bin,io->bon", x, self.weight) + self.bias[:, None]

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}"


class FourierBlock(nn.Module):
    """``h <- GELU(SpectralConv1d(h) + PointwiseLinear(h))`` at constant width."""

    # The layers' classes: the 2-D block (physode/nn/fourier2d.py) is this one with its own.
    spectral_type: type[nn.Module] = SpectralConv1d
    pointwise_type: type[nn.Module] = PointwiseLinear

    def __init__(self, width: int, modes: int) -> None:
        super().__init__()
        self.spectral = self.spectral_type(width, width, modes)
        self.pointwise = self.pointwise_type(width, width)

    def forward(self, h: Tensor) -> Tensor:
        return F.gelu(self.spectral(h) + self.pointwise(h))


class FourierField(nn.Module):
    """A Fourier neural operator as an ODE vector field: ``(batch, C, Nx) -> (batch, C, Nx)``.

    ``lift`` (pointwise, ``C -> width``), ``blocks`` :class:`FourierBlock` s, ``projection``
    (pointwise, ``width -> C``). The projection starts at zero, so a new field is ``du/dt = 0``
    (the identity flow, like a zero-initialised residual branch; the linear term below starts
    near zero): the first solver steps are stable whatever the data's time scale. With ``linear``, a linear spectral term acting on the
    solution itself is added, ``f(u) = L u + N(u)``: ``L`` (a :class:`SpectralConv1d` ``C -> C``
    in velocity units, starting near zero) represents constant-coefficient linear dynamics
    (advection, diffusion, dispersion) exactly, which the GELU network ``N`` only approximates.

    Args:
        channels: solution channels ``C`` (e.g. 2 for ``(u, u_t)`` of a second-order equation).
        width: hidden channels.
        modes: real-FFT modes of each spectral convolution (see :class:`SpectralConv1d`).
        blocks: number of Fourier blocks.
        time_input: called as ``f(t, u)`` with time as an extra constant input channel
            (Neural ODE's concatenated time), else ``f(u)``.
        linear: add the linear spectral term ``L u``.
        linear_modes: real-FFT modes of ``L`` (default: ``modes``). Its high modes are the stiff
            ones (a velocity-unit weight ``W`` gives rate ``2 pi k |W|``), so fewer modes let an
            explicit stepper keep its step: RK4 is stable only while ``2 pi k |W| dt < 2.8``.
    """

    # The parts' classes and the field's spatial axes: the 2-D field (physode/nn/fourier2d.py) is this
    # one with its own, so both build their weights in the same order under the same names.
    block_type: type[nn.Module] = FourierBlock
    pointwise_type: type[nn.Module] = PointwiseLinear
    spectral_type: type[nn.Module] = SpectralConv1d
    space_axes: tuple[str, ...] = ("Nx",)

    def __init__(
        self,
        channels: int,
        *,
        width: int = 32,
        modes: int = 16,
        blocks: int = 2,
        time_input: bool = False,
        linear: bool = False,
        linear_modes: int | None = None,
    ) -> None:
        super().__init__()
        _check_positive(channels=channels, width=width, modes=modes, blocks=blocks)
        linear_modes = modes if linear_modes is None else linear_modes
        _check_positive(linear_modes=linear_modes)
        self.channels, self.time_input = channels, time_input
        self.lift = self.pointwise_type(channels + time_input, width)
        self.blocks = nn.ModuleList(self.block_type(width, modes) for _ in range(blocks))
        self.projection = self.pointwise_type(width, channels, zero=True)
        self.linear = (
            self.spectral_type(channels, channels, linear_modes, velocity_units=True, init_std=0.01)
            if linear
            else None
        )

    def forward(self, *args: Tensor | float) -> Tensor:
        """``f(u)``, or ``f(t, u)`` with ``time_input`` (the blocks' calling conventions)."""
        if self.time_input:
            t, u = args
            self.check_input(u)
            inputs = torch.cat([u, torch.full_like(u[:, :1], float(t))], dim=1)
        else:
            (u,) = args
            self.check_input(u)
            inputs = u
        h = self.lift(inputs)
        for block in self.blocks:
            h = block(h)
        rate = self.projection(h)
        return rate if self.linear is None else rate + self.linear(u)

    def check_input(self, u: Tensor) -> None:
        """One-line InputError unless ``u`` is ``(batch, C, *space_axes)`` in the weights' dtype."""
        if u.ndim != 2 + len(self.space_axes) or u.shape[1] != self.channels:
            raise InputError(
                f"{type(self).__name__} expects u of shape (batch, {self.channels}, {', '.join(self.space_axes)}), "
                f"got {tuple(u.shape)}; add the channel axis with u.unsqueeze(1) for a single field"
            )
        if u.dtype != self.lift.weight.dtype:
            raise InputError(
                f"u has dtype {u.dtype} but the field's weights are {self.lift.weight.dtype}; "
                "convert one of them (e.g. model.to(u.dtype))"
            )

    def extra_repr(self) -> str:
        return f"channels={self.channels}, time_input={self.time_input}, linear={self.linear is not None}"
