"""Weights read out of a linear latent system: coefficients that oscillate, switch sign, decay."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from physode.errors import InputError
from physode.evolution.base import EvolutionOperator
from physode.steppers import ButcherTableau


class LinearLatent(EvolutionOperator):
    """The weight carries an ``m``-dimensional latent ``x`` with ``dx/dt = A x``, read out linearly.

    ``w(t) = w0 * (r_g . x(t))`` with ``x(0) = e_1``, one read-out ``r_g`` per weight group (the
    layer, or each output channel). ``A`` (``m x m``, any real matrix: complex-conjugate
    eigenvalues give oscillations) and the ``r_g`` are learned. ``r_g . x(t)`` is any sum of the
    ``m`` exponential modes of ``A``: damped or growing sinusoids, exponentials, polynomials times
    them, each represented exactly, with ``m^2 + m`` parameters per layer (``m`` more per extra
    group). Unlike a pointwise ``dw/dt = q(w)``, the weights can start
    at, pass through and leave zero, and turn around, because the state that carries the
    dynamics is the latent, not the weight.

    The state is ``w0`` times the latent (shape ``(*weight.shape, m)``), which evolves by the same
    ``A``; a step of any length is the exact propagator ``exp(A dt)`` (``torch.linalg.matrix_exp``).
    ``A`` starts as a bank of oscillators driven by ``x_1``, so that ``x(t) = (1, sin(f t),
    cos(f t) - 1, sin(2 f t), cos(2 f t) - 1, ...)`` (and ``t`` last when ``m`` is even), and
    ``r`` at ``e_1``: training starts from static weights ``w0`` (an ANODE block), the read-out
    first learns a Fourier expansion (a convex problem) and ``A`` then tunes its frequencies,
    damping and growth. Starting ``A`` at zero instead leaves only the Taylor series of ``x`` at
    reach, from which oscillations are hard to find.

    Args:
        latent: the latent dimension ``m`` (3 holds a constant plus a sinusoid).
        per_channel: one read-out ``r_g`` per output channel (the weight's first axis) instead of
            one per layer; ``A`` is shared, so every channel draws on the same modes.
        frequency: ``f``, the lowest initial frequency in radians per unit time (the default:
            half a turn over a unit span), and the unit ``A`` is learned in: the parameter is
            ``A / f``, so an optimizer step moves the frequencies by about ``f`` times its size.

    Example: ``m = 3``, ``A = [[0, 0, 0], [1, 0, w], [0, -w, 0]]`` gives ``x = (1, sin(w t)/w,
    (cos(w t) - 1)/w)``, so ``r = (c0, a w, 0)`` reads out ``w0 (c0 + a sin(w t))``.
    """

    def __init__(self, latent: int = 3, *, per_channel: bool = False, frequency: float = math.pi) -> None:
        super().__init__()
        if isinstance(latent, bool) or not isinstance(latent, int) or latent < 1:
            raise InputError(f"latent dimension must be an integer >= 1, got {latent!r}")
        self.latent = latent
        self.per_channel = per_channel
        if not (math.isfinite(frequency) and frequency > 0):
            raise InputError(f"frequency must be a positive number, got {frequency!r}")
        self.frequency = float(frequency)

    def bind(self, weight: Tensor) -> None:
        groups = weight.shape[0] if self.per_channel and weight.ndim else 1
        factory = {"dtype": weight.dtype, "device": weight.device}
        m = self.latent
        # A / f: x_j' = w (x_1 + x_{j+1}), x_{j+1}' = -w x_j with w = f, 2f, ...; x_m' = x_1.
        scaled_generator = torch.zeros(m, m, **factory)
        for j in range(1, m - 1, 2):
            multiple = (j + 1) // 2
            scaled_generator[j, 0] = scaled_generator[j, j + 1] = multiple
            scaled_generator[j + 1, j] = -multiple
        if m % 2 == 0:
            scaled_generator[m - 1, 0] = 1.0 / self.frequency
        self.scaled_generator = nn.Parameter(scaled_generator)
        readout = torch.zeros(groups, m, **factory)
        readout[:, 0] = 1.0
        self.readout_vector = nn.Parameter(readout)
        # Groups lie along the weight's first axis; the rest broadcast.
        self.group_view = (groups,) + (1,) * max(weight.ndim - 1, 0)

    def initial_state(self, weight: Tensor) -> Tensor:
        return torch.cat([weight[..., None], weight.new_zeros(*weight.shape, self.latent - 1)], -1)

    def readout(self, state: Tensor, t: float) -> Tensor:
        r = self.readout_vector.to(state.dtype).view(*self.group_view, self.latent)
        return (state * r).sum(-1)

    def _multiply(self, matrix: Tensor, state: Tensor) -> Tensor:
        return state @ matrix.to(state.dtype).T

    @property
    def generator(self) -> Tensor:
        """``A``."""
        return self.frequency * self.scaled_generator

    def rate(self, state: Tensor, t: float) -> Tensor:
        return self._multiply(self.generator, state)

    def step(self, state: Tensor, t: float, dt: float, method: ButcherTableau) -> Tensor:
        return self._multiply(torch.linalg.matrix_exp(self.generator * dt), state)

    def extra_repr(self) -> str:
        return f"latent={self.latent}, per_channel={self.per_channel}"
