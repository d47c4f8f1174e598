"""The linear family's 2-D layer, and the domain extension that lets periodic layers fit walled fields.

:class:`SpectralLayer2d` is :class:`.layers.SpectralLayer` over the modes of ``rfft2``: one complex
``channels x in_channels`` matrix per retained 2-D mode ``(k_y, k_x)``, stored in velocity units
(entry ``(o, i)`` scaled by ``|k|^(1 + o - i)``) with the advection split by axis:
``m_k = |k| a_k + i (k_y p_k + k_x q_k)``, so advection at velocity ``(c_y, c_x)`` is ``p = c_y``,
``q = c_x`` on every mode. The weight layout is the 1-D layer's with the modes flattened and three
components (``a``, ``p``, ``q``) where 1-D has two, so every variant and evolution operator applies
unchanged: the modes are independent (no spatial axis), and the evolution acts per component, one
time profile per velocity component. A rotating velocity ``c(t)`` is then two profiles
(``anodev2-latent``'s oscillators fit ``cos`` and ``sin``), where one imaginary part per mode would
need a different profile on every mode direction.

Each mode's weights are a part shared by every mode plus the mode's own (the first entry of the
modes axis is the shared one). In velocity units a constant-coefficient PDE has the same weights on
every mode, so the shared part learns it from every excited mode at once and carries it to modes
no training sample excites, which a 2-D file's few random wavevectors leave out (a mode's own
weights get no gradient there and would stay at their initial draw). With several channels the
shared part starts as the chain its units assume, channel ``o`` the time derivative of channel
``o - 1`` (the wave's ``u_t -> u`` entry 1): the wave's coupling is the product of two off-diagonal
entries, which from zero sit at a saddle while the diagonal (transport) entries get first-order
gradients, and fits of the 2-D wave settled in a transport-like minimum (``tests/test_fitting_2d.py``).

:class:`MirrorExtension` is how a non-periodic field is fit by periodic layers: FNO pads the domain
so that its spectral convolutions need not be periodic across the walls; here the padding is the
field's even reflection across each wall (the file's boundary condition decides it), which makes a
no-flux (Neumann) field on ``n`` cell-centred points a periodic one on ``2 n``: its cosine series
is the extension's Fourier series, so a diffusion symbol on the extended grid is the Neumann heat
equation's exact generator (FNO's zeros would leak through the wall).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor, nn

from physode.errors import InputError
from physode.problems.fitting.models.layers import init_multipliers

# A mode's own weights enter scaled by this (and start at the layer's draw over it, so a fresh layer's multipliers
# are as before): Adam moves every entry at the same pace, so unscaled they learn as fast as the shared ones and
# take about half of what all modes share, which modes no sample excites then miss (2-D wave, quick file, 60 s,
# 4 RK4 steps, 6 modes: test nRMSE 0.153 unscaled, 0.083 at 0.1).
OWN_SCALE = 0.1


class SpectralLayer2d(nn.Module):
    """``f(u)_o = irfft2(sum_i m_{k,o,i} rfft2(u_i)_k)`` over the modes with ``|index| < modes`` on
    both axes (None: all), on a periodic ``(Ny, Nx)`` grid spaced ``(dy, dx)``.

    ``weight``: ``(1 + modes, in_channels, 3)`` for one field, ``(channels * in_channels, 1 + modes, 3)``
    for C fields (``a``, ``p``, ``q`` above), ``modes`` the number of retained 2-D modes after the
    shared entry (a mode's weights: the shared entry plus :data:`OWN_SCALE` times its own). On the
    columns ``k_x = 0`` (and ``Nx / 2``) the modes ``k_y`` and ``-k_y`` are each other's conjugates;
    the layer applies the symbol that real fields see there (the mean of ``m(k_y)`` and
    ``conj(m(-k_y))``, what ``irfft2`` keeps), so :meth:`symbol` is exactly what :meth:`forward` applies.
    """

    def __init__(self, shape: tuple[int, int], spacing: tuple[float, float], modes: int | None = None,
                 extra: int = 0, init_scale: float = 0.01, channels: int = 1) -> None:
        super().__init__()
        (n_y, n_x), (dy, dx) = shape, spacing
        available = max(n_y // 2, n_x // 2) + 1
        if modes is not None and modes > available:
            raise InputError(f"{modes} spectral modes requested but a {n_y} x {n_x} grid has {available} per axis")
        self.shape = (n_y, n_x)
        # Chosen in numpy: the model is also priced on the meta device, where nonzero has no size.
        index_y, index_x = np.abs(np.fft.fftfreq(n_y, d=1 / n_y)), np.fft.rfftfreq(n_x, d=1 / n_x)
        cap = np.inf if modes is None else modes
        kept = ((index_y[:, None] < cap) & (index_x[None, :] < cap)).flatten().nonzero()[0]
        self.register_buffer("kept", torch.as_tensor(kept), persistent=False)
        k_y = 2 * math.pi * torch.fft.fftfreq(n_y, d=dy, dtype=torch.float64)
        k_x = 2 * math.pi * torch.fft.rfftfreq(n_x, d=dx, dtype=torch.float64)
        k = torch.sqrt(k_y[:, None] ** 2 + k_x[None, :] ** 2).flatten()[self.kept]
        k = k.clamp_min(2 * math.pi / max(n_y * dy, n_x * dx))
        init_multipliers(self, k, extra, init_scale, channels, components=3)
        own = self.weight.detach() / OWN_SCALE
        self.weight = nn.Parameter(torch.cat([shared_weights(channels, self.in_channels), own], dim=self.modes_axis))
        # (k_y, k_x) / |k| per retained mode: the advection weights p, q are velocities along y and x.
        direction = torch.stack([k_y[:, None].expand(-1, len(k_x)), k_x[None, :].expand(n_y, -1)], dim=-1)
        direction = direction.flatten(0, 1)[self.kept] / k[:, None]
        self.register_buffer("direction", direction.float()[:, :, None, None], persistent=False)
        self_conjugate = torch.zeros(n_x // 2 + 1, dtype=torch.bool)
        self_conjugate[0] = True
        self_conjugate[-1] = n_x % 2 == 0  # the Nyquist column
        self.register_buffer("self_conjugate", self_conjugate, persistent=False)
        self.register_buffer("mirrored_y", (-torch.arange(n_y)) % n_y, persistent=False)

    @property
    def modes_axis(self) -> int:
        """The weight's axis of modes (its first entry: the shared weights)."""
        return -3 if self.channels == 1 else -2

    @property
    def n_modes(self) -> int:
        """Modes of the full ``rfft2`` spectrum, ``Ny * (Nx//2+1)``."""
        return self.shape[0] * (self.shape[1] // 2 + 1)

    def multipliers(self, weight: Tensor) -> Tensor:
        """The complex matrices ``(..., retained modes, channels, in_channels)`` of weights like ``weight``."""
        parts = weight if self.channels == 1 else weight.transpose(-3, -2)  # (..., 1 + modes, C * C_in, 3)
        parts = (parts[..., :1, :, :] + OWN_SCALE * parts[..., 1:, :, :]).unflatten(-2, (self.channels, -1))
        along_axes = parts[..., 1] * self.direction[:, 0] + parts[..., 2] * self.direction[:, 1]
        return torch.complex(parts[..., 0], along_axes) * self.k_scale

    def symbol(self, weight: Tensor) -> Tensor:
        """The applied symbol matrices for weights ``(..., *weight.shape)``: ``(..., Ny * (Nx//2+1), C, C_in)``."""
        retained = self.multipliers(weight)
        full = retained.new_zeros(*retained.shape[:-3], self.n_modes, *retained.shape[-2:])
        full = full.index_copy(-3, self.kept, retained).unflatten(-3, (self.shape[0], -1))
        mirrored = full.index_select(-4, self.mirrored_y).conj()
        seen = torch.where(self.self_conjugate[:, None, None], (full + mirrored) / 2, full)
        return seen.flatten(-4, -3)

    applied_symbol = symbol  # already what real fields see

    def to_modes(self, u: Tensor) -> Tensor:
        """The 2-D real FFT of fields ``(..., Ny, Nx)``, modes flattened: ``(..., Ny * (Nx//2+1))``."""
        return torch.fft.rfft2(u).flatten(-2)

    def from_modes(self, spectrum: Tensor) -> Tensor:
        """The fields ``(..., Ny, Nx)`` of a flattened ``rfft2`` spectrum."""
        return torch.fft.irfft2(spectrum.unflatten(-1, (self.shape[0], -1)), s=self.shape)

    def forward(self, u: Tensor) -> Tensor:
        return self.from_modes(torch.einsum("bim,moi->bom", self.to_modes(u), self.symbol(self.weight)))


def shared_weights(channels: int, in_channels: int) -> Tensor:
    """The shared entry's initial weights, shaped as one mode of :class:`SpectralLayer2d`'s weight: zero for
    one field; for C fields the chain ``d(channel o)/dt = channel o + 1`` (entry ``(o, o + 1)``'s ``a``, in
    velocity units 1 on every mode)."""
    if channels == 1:
        return torch.zeros(1, in_channels, 3)
    pairs = torch.zeros(channels, in_channels, 1, 3)
    chain = torch.arange(channels - 1)
    pairs[chain, chain + 1, 0, 0] = 1.0
    return pairs.flatten(0, 1)


class MirrorExtension:
    """A field's even reflection across the far wall of each of its last ``dims`` axes, and back.

    ``periodic``: the identity (a periodic field needs no padding).
    """

    def __init__(self, dims: int, periodic: bool) -> None:
        self.dims, self.periodic = dims, periodic

    def grid_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """The shape the layers see for a field of spatial ``shape``."""
        return shape if self.periodic else tuple(2 * n for n in shape)

    def extend(self, u: Tensor) -> Tensor:
        """``(..., *space) -> (..., *2 space)``: the field and its mirror image, axis by axis."""
        if self.periodic:
            return u
        for dim in range(-self.dims, 0):
            u = torch.cat([u, u.flip(dim)], dim=dim)
        return u

    def restrict(self, u: Tensor) -> Tensor:
        """The field on the original domain: the first half of each extended axis."""
        if self.periodic:
            return u
        for dim in range(-self.dims, 0):
            u = u.narrow(dim, 0, u.shape[dim] // 2)
        return u
