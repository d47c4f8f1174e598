"""Reaction-diffusion-advection of a weight tensor, with sigma where ANODEV2 Eq. 8 or 9 puts it or as a
read-out."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from physode.errors import InputError
from physode.evolution.base import EvolutionOperator, group_shape
from physode.gradients.reuse import PassReuse
from physode.steppers import Stepper

SIGMAS = {"identity": lambda x: x, "tanh": torch.tanh, "sigmoid": torch.sigmoid}
#: Where ``sigma`` acts: on the read-out of the linear flow, around the rate (Eq. 8), after each
#: propagator step (Eq. 9).
SIGMA_PLACEMENTS = ("readout", "rate", "each_step")
#: Spatial points (product of the spatial sizes) up to which the flow's linear map is applied as
#: one dense matrix per coefficient group: a conv kernel's 3x3 transforms, batched over every
#: channel pair, cost far more than a 9x9 matrix product (most of the evolution's time).
DENSE_MAX_POINTS = 64


class SpectralRDA(EvolutionOperator):
    """Reaction-diffusion-advection of a weight over its spatial axes (ANODEV2 Eq. 8-9).

    ``L w = tau Lap w + v . grad w + rho w``, and ``sigma`` in one of three places
    (``sigma_placement``):

    - ``"readout"`` (default): ``dw/dt = L w`` (linear; neither of the paper's equations) and the
      block applies ``theta(t) = sigma(w(t))``. Each weight step is the exact Fourier propagator
      ``w(t + dt) = IFFT(exp((-tau |k|^2 + i k.v + rho) dt) * FFT(w(t)))``, so the applied weights,
      the block's output and its gradients do not depend on ``weight_steps`` (to round-off).
    - ``"rate"``: the paper's Eq. 8, ``dw/dt = sigma(L w)``, sigma around the rate; nonlinear, so
      integrated by the block's stepper on the weight grid (``weight_steps`` sets the weights'
      discretization error). The block applies ``w(t)``.
    - ``"each_step"``: the paper's Eq. 9, ``w <- sigma(propagate(w, dt))`` after every weight step;
      the block applies that ``w``. It depends on the weight grid (the same span with more steps
      applies ``sigma`` more often: ``w(1)`` shrinks as ``weight_steps`` grows), it is not the
      flow of any one ODE, and so ``grad="adjoint"`` refuses it (with ``sigma="identity"`` all
      three placements are the linear flow, stepped exactly).

    The weight is viewed as a periodic signal with unit spacing along its spatial axes (the
    ``kh x kw`` axes of a conv2d kernel, the ``k`` axis of a conv1d kernel), so ``k`` ranges over
    ``2 pi fftfreq(n)``. Real FFTs are used throughout.

    Args:
        sigma: ``"identity"``, ``"tanh"`` or ``"sigmoid"``.
        sigma_placement: ``"readout"``, ``"rate"`` (Eq. 8) or ``"each_step"`` (Eq. 9).
        axes: spatial axes of the weight; default: every axis after the first two
            (``(out, in, *kernel)``), or none for a 2-D weight (then only reaction acts).
        per_channel: one ``(tau, v, rho)`` per output channel (each entry of the weight's
            ``channel_axis``, which must not be a spatial axis) instead of one per layer.
        channel_axis: the weight's axis of channels (default: the first, ``(out, in, *kernel)``).
        diffusion, advection, reaction: which terms exist (and are learned).
        tau: initial diffusion coefficient, ``> 0``; kept ``>= 0`` by a softplus.
        v: initial advection velocity (each spatial axis).
        rho: initial reaction rate.
    """

    def __init__(
        self,
        *,
        sigma: str = "identity",
        sigma_placement: str = "readout",
        axes: Sequence[int] | None = None,
        per_channel: bool = False,
        channel_axis: int = 0,
        diffusion: bool = True,
        advection: bool = True,
        reaction: bool = True,
        tau: float = 1e-2,
        v: float = 0.0,
        rho: float = 0.0,
    ) -> None:
        super().__init__()
        if sigma not in SIGMAS:
            raise InputError(f"unknown sigma {sigma!r}: choose one of {sorted(SIGMAS)}")
        if diffusion and not (math.isfinite(tau) and tau > 0):
            raise InputError(
                f"diffusion coefficient tau must be > 0, got {tau!r}: negative diffusion is an "
                "ill-posed backward heat equation; pass diffusion=False for no diffusion"
            )
        if sigma_placement not in SIGMA_PLACEMENTS:
            raise InputError(
                f"unknown sigma_placement {sigma_placement!r}: choose one of {list(SIGMA_PLACEMENTS)}"
            )
        self.sigma = sigma
        self.sigma_placement = sigma_placement
        # Eq. 9's per-step sigma has no continuous dynamics (identity sigma: the linear flow).
        self.has_dynamics = sigma_placement != "each_step" or sigma == "identity"
        self.axes = None if axes is None else tuple(axes)
        self.per_channel = per_channel
        self.channel_axis = channel_axis
        self.diffusion, self.advection, self.reaction = diffusion, advection, reaction
        self.init = {"tau": float(tau), "v": float(v), "rho": float(rho)}

    def bind(self, weight: Tensor) -> None:
        ndim = weight.ndim
        if self.axes is not None and any(not -ndim <= a < ndim for a in self.axes):
            raise InputError(
                f"axes {self.axes} out of range for a weight of shape {tuple(weight.shape)}"
            )
        axes = tuple(range(2, ndim)) if self.axes is None else self.axes
        axes = tuple(sorted({a % ndim for a in axes}))
        if not axes and not self.reaction:
            raise InputError(
                f"SpectralRDA has nothing to do on a weight of shape {tuple(weight.shape)}: it has "
                "no spatial axes (pass axes=...) and reaction is off"
            )
        self.spatial_axes = axes
        # Reverse time turns diffusion into anti-diffusion: the adjoint's reverse solve blows up.
        self.reverse_time_well_posed = not (self.diffusion and axes)
        self.spatial_sizes = tuple(weight.shape[a] for a in axes)
        # Coefficients are stored flat, one per layer or per output channel, and viewed to
        # broadcast against the weight in `exponent` (flat storage also keeps `.to(memory_format)`
        # on the model away from them).
        self.coefficient_shape = group_shape(weight, self.per_channel, self.channel_axis)
        if self.per_channel and self.channel_axis % ndim in axes:
            raise InputError(f"channel_axis {self.channel_axis} is one of the spatial axes {axes}; "
                             "coefficients per channel need a channel axis that is not evolved spatially")
        channels = math.prod(self.coefficient_shape)
        factory = {"dtype": weight.dtype, "device": weight.device}
        tau0 = self.init["tau"]
        self.raw_tau = (
            nn.Parameter(torch.full((channels,), math.log(math.expm1(tau0)), **factory))
            if self.diffusion and axes
            else None
        )
        self.v = (
            nn.Parameter(torch.full((len(axes), channels), self.init["v"], **factory))
            if self.advection and axes
            else None
        )
        self.rho = (
            nn.Parameter(torch.full((channels,), self.init["rho"], **factory))
            if self.reaction
            else None
        )
        # Wavenumbers of the real FFT over `axes`, shaped to broadcast against the transform.
        # The advection (first-derivative) term drops the Nyquist mode of even axes, the usual
        # spectral convention: a real signal cannot carry its phase, and keeping it would make
        # one step of dt differ from two steps of dt/2.
        k_sq, k_adv = [], []
        for i, (axis, n) in enumerate(zip(axes, self.spatial_sizes)):
            last = i == len(axes) - 1
            freq = torch.fft.rfftfreq if last else torch.fft.fftfreq
            k = 2 * math.pi * freq(n, **factory)
            view = [1] * ndim
            view[axis] = k.numel()
            k_sq.append((k**2).reshape(view))
            k_adv.append(torch.where(k.abs() >= math.pi, 0.0, k).reshape(view))  # |k| = pi: Nyquist
        k_squared = sum(k_sq) if axes else None
        self.register_buffer("k_squared", k_squared, persistent=False)
        # Per-axis wavenumbers stored flat (axis, frequency), viewed back in `exponent`.
        k_adv = torch.stack(torch.broadcast_tensors(*k_adv)).flatten(1) if axes else None
        self.register_buffer("k", k_adv, persistent=False)
        self.transform_shape = tuple(k_squared.shape) if axes else ()
        # Small spatial extents apply the flow as dense matrices: the weight's axes ordered
        # (channel if per channel, the other non-spatial axes, the spatial axes) to group rows.
        self.dense = bool(axes) and math.prod(self.spatial_sizes) <= DENSE_MAX_POINTS
        channel = [self.channel_axis % ndim] if self.per_channel else []
        self.dense_order = (*channel, *(a for a in range(ndim) if a not in axes and a not in channel), *axes)

    @property
    def has_weights_at(self) -> bool:
        # The state moves by the linear flow alone wherever sigma is not inside it.
        return self.sigma_placement == "readout" or self.sigma == "identity"

    @property
    def tau(self) -> Tensor | None:
        return None if self.raw_tau is None else F.softplus(self.raw_tau)

    def exponent(self) -> Tensor:
        """``-tau |k|^2 + i k.v + rho`` on the real-FFT grid (just ``rho`` without spatial axes)."""
        shape = self.coefficient_shape
        real = self.rho.view(shape) if self.rho is not None else self.k_squared.new_zeros(())
        if self.k is None:
            return real
        if self.raw_tau is not None:
            real = real - self.tau.view(shape) * self.k_squared
        if self.v is not None:
            k = self.k.view(-1, *self.transform_shape)
            imag = (k * self.v.view(-1, *shape)).sum(0)
        else:
            imag = torch.zeros_like(self.k_squared)
        return torch.complex(*torch.broadcast_tensors(real, imag))

    def _fourier_multiply(self, w: Tensor, symbol: Tensor, dims: tuple[int, ...]) -> Tensor:
        w_hat = torch.fft.rfftn(w, dim=dims)
        return torch.fft.irfftn(w_hat * symbol, s=self.spatial_sizes, dim=dims)

    def _linear_map(self, symbol: Tensor) -> Tensor:
        """The Fourier multiplier ``symbol`` as what `_apply_map` applies: the symbol itself, or
        dense matrices ``(groups, P, P)`` (row ``j``: the response to a unit impulse at point ``j``)."""
        if not self.dense:
            return symbol
        points = math.prod(self.spatial_sizes)
        sizes = dict(zip(self.spatial_axes, self.spatial_sizes))
        impulse_shape = [sizes.get(a, 1) for a in range(len(self.dense_order))]
        impulses = torch.eye(points, dtype=self.k_squared.dtype, device=self.k_squared.device)
        impulses = impulses.view(points, *impulse_shape)
        responses = self._fourier_multiply(impulses, symbol, tuple(a + 1 for a in self.spatial_axes))
        responses = responses.permute(0, *(a + 1 for a in self.dense_order))  # (j, groups, 1..., spatial)
        return responses.reshape(points, -1, points).transpose(0, 1)

    def _apply_map(self, w: Tensor, linear_map: Tensor) -> Tensor:
        """``w`` under a map of `_linear_map`."""
        if not self.spatial_axes:
            return w * linear_map
        if not self.dense:
            return self._fourier_multiply(w, linear_map, self.spatial_axes)
        ordered = w.permute(self.dense_order)
        rows = ordered.reshape(linear_map.shape[0], -1, linear_map.shape[-1])
        out = torch.matmul(rows, linear_map).reshape(ordered.shape)
        return out.permute([self.dense_order.index(a) for a in range(w.ndim)])

    def step(self, state: Tensor, t: float, dt: float, method: Stepper) -> Tensor:
        return self.step_reusing(PassReuse(), state, t, dt, method)

    def step_reusing(self, kept: PassReuse, state: Tensor, t: float, dt: float, method: Stepper) -> Tensor:
        # The propagator of each step size once per pass (``kept`` is per grad mode): with a
        # graph, its backward runs once for all the pass's steps.
        if self.sigma_placement == "rate" and self.sigma != "identity":
            return super().step(state, t, dt, method)
        propagator = kept.get(dt, lambda: self._linear_map(torch.exp(self.exponent() * dt)))
        w = self._apply_map(state, propagator)
        return SIGMAS[self.sigma](w) if self.sigma_placement == "each_step" else w

    def weights_at(self, state: Tensor, t: float, times: Sequence[float]) -> Tensor:
        # The exact propagator of each span at once, one symbol per time on a new leading axis.
        spans = torch.tensor([s - t for s in times], dtype=state.dtype, device=state.device)
        exponent = self.exponent()
        symbols = torch.exp(exponent * spans.view(-1, *[1] * exponent.ndim))
        if not self.spatial_axes:
            return self.readout(state * symbols, t)
        w_hat = torch.fft.rfftn(state, dim=self.spatial_axes)
        shifted = tuple(a + 1 for a in self.spatial_axes)  # past the times' axis
        return self.readout(torch.fft.irfftn(w_hat * symbols, s=self.spatial_sizes, dim=shifted), t)

    def rate(self, state: Tensor, t: float) -> Tensor:
        linear = self._apply_map(state, self._linear_map(self.exponent()))
        return SIGMAS[self.sigma](linear) if self.sigma_placement == "rate" else linear

    def readout(self, state: Tensor, t: float) -> Tensor:
        return SIGMAS[self.sigma](state) if self.sigma_placement == "readout" else state

    def extra_repr(self) -> str:
        flags = {"diffusion": self.diffusion, "advection": self.advection, "reaction": self.reaction}
        terms = [name for name, on in flags.items() if on]
        placement = "" if self.sigma_placement == "readout" else f", sigma_placement={self.sigma_placement!r}"
        return f"sigma={self.sigma!r}{placement}, terms={terms}, per_channel={self.per_channel}"
