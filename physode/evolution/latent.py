"""Weights read out of a linear latent system: coefficients that oscillate, switch sign, decay."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from physode.errors import InputError
from physode.evolution.base import EvolutionOperator
from physode.steppers import ButcherTableau


class LinearLatent(EvolutionOperator):
    """Each weight group carries an ``m``-dimensional latent ``x`` with ``dx/dt = A x``.

    The group's weights are read out linearly, ``w(t) = w0 * (r . x(t))`` with ``x(0) = e_1``.
    ``A`` (``m x m``, any real matrix: complex-conjugate eigenvalues give oscillations) and ``r``
    are learned per group. ``r . x(t)`` is then any sum of ``m`` exponential modes: damped or
    growing sinusoids, exponentials, polynomials times them; each is represented exactly with
    ``m^2 + m`` parameters per group. Unlike a pointwise ``dw/dt = q(w)``, the weights can start
    at, pass through and leave zero, and turn around, because the state that carries the
    dynamics is the latent, not the weight.

    The state is ``w0`` times the latent (shape ``(*weight.shape, m)``), which evolves by the same
    ``A``; a step of any length is the exact propagator ``exp(A dt)`` (``torch.linalg.matrix_exp``).
    ``A`` starts at zero and ``r`` at ``e_1`` plus small random values in its other entries (so
    every latent direction receives a gradient): training starts from static weights ``w0``
    (an ANODE block).

    Args:
        latent: the latent dimension ``m`` (3 holds a constant plus a sinusoid).
        per_channel: one ``(A, r)`` per output channel (the weight's first axis) instead of one
            per layer.
        readout_scale: standard deviation of the initial ``r_2..r_m``.

    Example: ``m = 3``, ``A = [[0, 0, 0], [1, 0, w], [0, -w, 0]]`` gives ``x = (1, sin(w t)/w,
    (cos(w t) - 1)/w)``, so ``r = (c0, a w, 0)`` reads out ``w0 (c0 + a sin(w t))``.
    """

    def __init__(self, latent: int = 3, *, per_channel: bool = False, readout_scale: float = 0.1) -> None:
        super().__init__()
        if isinstance(latent, bool) or not isinstance(latent, int) or latent < 1:
            raise InputError(f"latent dimension must be an integer >= 1, got {latent!r}")
        self.latent = latent
        self.per_channel = per_channel
        self.readout_scale = float(readout_scale)

    def bind(self, weight: Tensor) -> None:
        groups = weight.shape[0] if self.per_channel and weight.ndim else 1
        factory = {"dtype": weight.dtype, "device": weight.device}
        m = self.latent
        self.generator = nn.Parameter(torch.zeros(groups, m, m, **factory))
        readout = self.readout_scale * torch.randn(groups, m, **factory)
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
        matrix = matrix.to(state.dtype).view(*self.group_view, self.latent, self.latent)
        return (matrix @ state[..., None])[..., 0]

    def rate(self, state: Tensor, t: float) -> Tensor:
        return self._multiply(self.generator, state)

    def step(self, state: Tensor, t: float, dt: float, method: ButcherTableau) -> Tensor:
        return self._multiply(torch.linalg.matrix_exp(self.generator * dt), state)

    def extra_repr(self) -> str:
        return f"latent={self.latent}, per_channel={self.per_channel}"
