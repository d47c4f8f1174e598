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


class SpectralRates(nn.Module):
    """A linear term diagonal in Fourier space: ``(L u)_k = lambda_k u_k`` per channel, over the lowest
    ``modes`` real-FFT modes (the ones above have rate 0), with ``exp(L dt)`` in closed form
    (:meth:`propagate`), which an integrating-factor stepper needs.

    ``lambda_k = -(2 pi k)^2 nu_k + i 2 pi k c_k``: a diffusivity ``nu_k = exp(log_diffusivity_k) > 0`` and
    a velocity ``c_k`` in domain lengths per unit time (as :class:`SpectralConv1d`'s velocity units), so
    every mode decays or oscillates, never grows: no learned rate can make a step blow up. Dispersion
    (``u_xxx``: ``c_k`` growing as ``k^2``) and hyper-diffusion (``u_xxxx``: ``nu_k`` as ``k^2``) are per-mode
    values of order one however stiff their highest modes are. They start at ``nu = INITIAL_DIFFUSIVITY``
    and ``c = 0``: ``L`` about zero. No channel mixing: a mixing term (``u_t = v``) has no closed-form
    exponential per mode; :class:`SpectralConv1d` with ``velocity_units`` is that term for explicit steppers.
    """

    INITIAL_DIFFUSIVITY = 1e-4

    def __init__(self, channels: int, modes: int) -> None:
        super().__init__()
        _check_positive(channels=channels, modes=modes)
        self.channels, self.modes = channels, modes
        self.log_diffusivity = nn.Parameter(torch.full((channels, modes), math.log(self.INITIAL_DIFFUSIVITY)))
        self.velocity = nn.Parameter(torch.zeros(channels, modes))

    def rates(self, n_x: int) -> Tensor:
        """``lambda_k``, complex, ``(channels, min(modes, n_x // 2 + 1))``."""
        kept = min(self.modes, n_x // 2 + 1)
        wave = 2 * math.pi * torch.arange(kept, dtype=self.velocity.dtype, device=self.velocity.device)
        # Nyquist's coefficient of a real field is real: a phase there would not be a linear ODE's.
        wave_speed = torch.where(2 * torch.arange(kept, device=wave.device) == n_x, 0.0, wave)
        return torch.complex(-wave**2 * self.log_diffusivity[:, :kept].exp(), wave_speed * self.velocity[:, :kept])

    def forward(self, u: Tensor) -> Tensor:
        """``L u`` for ``u`` of shape ``(batch, channels, Nx)``."""
        n_x = u.shape[-1]
        rates = self.rates(n_x)
        spectrum = torch.fft.rfft(u, dim=-1)[..., : rates.shape[-1]]
        return torch.fft.irfft(rates * spectrum, n=n_x, dim=-1)

    def propagate(self, u: Tensor, dt: float) -> Tensor:
        """``exp(L dt) u``, exact: the modes above ``modes`` pass unchanged."""
        n_x = u.shape[-1]
        spectrum = torch.fft.rfft(u, dim=-1)
        factor = torch.exp(self.rates(n_x) * dt)
        factor = torch.cat([factor, factor.new_ones(self.channels, spectrum.shape[-1] - factor.shape[-1])], dim=-1)
        return torch.fft.irfft(factor * spectrum, n=n_x, dim=-1)

    def extra_repr(self) -> str:
        return f"{self.channels}, modes={self.modes}"


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
        diagonal_linear: ``L`` as ``rates_type`` (:class:`SpectralRates`: one rate per channel and mode, no channel
            mixing) instead: its exponential is closed form, so an integrating-factor stepper takes
            every mode exactly (:meth:`nonlinear` and :meth:`propagate` are the split it steps).
    """

    # The parts' classes and the field's spatial axes: the 2-D field (physode/nn/fourier2d.py) is this
    # one with its own, so both build their weights in the same order under the same names.
    block_type: type[nn.Module] = FourierBlock
    pointwise_type: type[nn.Module] = PointwiseLinear
    spectral_type: type[nn.Module] = SpectralConv1d
    rates_type: type[nn.Module] = SpectralRates
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
        diagonal_linear: bool = False,
    ) -> None:
        super().__init__()
        _check_positive(channels=channels, width=width, modes=modes, blocks=blocks)
        linear_modes = modes if linear_modes is None else linear_modes
        _check_positive(linear_modes=linear_modes)
        if diagonal_linear and not linear:
            raise InputError("diagonal_linear is a form of the linear term: set linear=True")
        self.channels, self.time_input = channels, time_input
        self.lift = self.pointwise_type(channels + time_input, width)
        self.blocks = nn.ModuleList(self.block_type(width, modes) for _ in range(blocks))
        self.projection = self.pointwise_type(width, channels, zero=True)
        self.linear: nn.Module | None = None
        if diagonal_linear:
            self.linear = self.rates_type(channels, linear_modes)
        elif linear:
            self.linear = self.spectral_type(channels, channels, linear_modes, velocity_units=True, init_std=0.01)

    def forward(self, *args: Tensor | float) -> Tensor:
        """``f(u)``, or ``f(t, u)`` with ``time_input`` (the blocks' calling conventions)."""
        rate = self.nonlinear(*args)
        return rate if self.linear is None else rate + self.linear(args[-1])

    def propagate(self, u: Tensor, dt: float) -> Tensor:
        """``exp(L dt) u`` of the diagonal linear term (``diagonal_linear``)."""
        if not isinstance(self.linear, self.rates_type):
            raise InputError(f"{type(self).__name__} has no diagonal linear term to propagate exactly; "
                             "build it with linear=True, diagonal_linear=True")
        return self.linear.propagate(u, dt)

    def nonlinear(self, *args: Tensor | float) -> Tensor:
        """The network part ``N`` of ``f = L u + N``, called as :meth:`forward` is."""
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
        return self.projection(h)

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
