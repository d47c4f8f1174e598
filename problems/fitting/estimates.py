"""Physics read off a learned 1-D generator's Fourier symbol: the velocity of transport, the speed of a wave,
the diffusivity of diffusion."""

from __future__ import annotations

import math

import torch
from torch import Tensor


def velocity_estimate(symbols: Tensor, n_x: int, dx: float, energy: Tensor) -> Tensor:
    """c_hat(t): the pure-advection velocity closest to the learned generator on the excited modes.

    ``symbols``: the model's ``(times, Nx//2+1, C, C_in)`` symbols; channel 0's own entry is used.

    Transport ``dz/dt = c dz/dx`` has the symbol ``i k c``. We fit ``Im sigma_k(t) = k c`` by
    least squares weighted by ``energy`` (the data's power per mode, so modes the data never
    excite, whose weights are untrained, do not count): ``c = sum e k Im(sigma) / sum e k^2``.
    For a stencil with ``energy`` concentrated at low ``k`` this is the first moment of its
    weights, ``sum_j w_j j`` (offsets ``j`` in cells); for spectral multipliers it averages
    ``Im(m_k) / k`` (the imaginary weights ``b_k``) over the excited modes.
    """
    k = 2 * math.pi * torch.fft.rfftfreq(n_x, d=dx, dtype=torch.float64)
    e = energy.to(torch.float64) * k.square()
    return (symbols[..., 0, 0].imag.to(torch.float64) * k * energy.to(torch.float64)).sum(-1) / e.sum()


def wave_speed_estimate(symbols: Tensor, n_x: int, dx: float, energy: Tensor) -> Tensor:
    """c_hat(t) of a two-channel (u, u_t) generator: the wave speed closest to the learned coupling.

    The wave equation's ``u -> u_t`` entry is ``-c^2 k^2``; the least-squares fit over the excited
    modes (weights ``energy``) is ``c^2 = -sum e k^2 Re(sigma_10) / sum e k^4``, and ``c_hat`` its
    square root; NaN where the fit is not positive (a generator that is no wave there has no speed to
    draw, and a plot leaves a gap rather than a line at 0).
    """
    k = 2 * math.pi * torch.fft.rfftfreq(n_x, d=dx, dtype=torch.float64)
    e = energy.to(torch.float64)
    squared = -(symbols[..., 1, 0].real.to(torch.float64) * k.square() * e).sum(-1) / (e * k**4).sum()
    return torch.where(squared > 0, squared, torch.nan).sqrt()


def diffusivity_estimate(symbols: Tensor, n_x: int, dx: float, energy: Tensor) -> Tensor:
    """nu_hat(t): the diffusivity closest to the learned generator on the excited modes.

    Diffusion ``du/dt = nu u_xx`` has the symbol ``-nu k^2`` (advection adds only an imaginary part);
    the least-squares fit of channel 0's own ``Re sigma_k(t) = -nu k^2``, weighted by ``energy`` as in
    :func:`velocity_estimate`, is ``nu = -sum e k^2 Re(sigma) / sum e k^4``.
    """
    k = 2 * math.pi * torch.fft.rfftfreq(n_x, d=dx, dtype=torch.float64)
    e = energy.to(torch.float64)
    return -(symbols[..., 0, 0].real.to(torch.float64) * k.square() * e).sum(-1) / (e * k**4).sum()
