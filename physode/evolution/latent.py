"""Weights read out of a linear latent system: coefficients that oscillate, switch sign, decay."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from physode.errors import InputError
from physode.evolution.base import EvolutionOperator, group_shape
from physode.steppers import Stepper


class LinearLatent(EvolutionOperator):
    """The weight carries an ``m``-dimensional latent ``x`` with ``dx/dt = A x``, read out linearly.

    ``w(t) = w0 * (r_g . x(t))``, one read-out ``r_g`` per weight group (the layer, or each output
    channel). ``A`` is learned in real modal form: ``m - 2 p`` real modes ``dx_i/dt = lambda_i x_i``
    and ``p = (m - 1) // 2`` oscillators, 2 x 2 blocks ``[[alpha_j, omega_j], [-omega_j, alpha_j]]``
    (complex-conjugate eigenvalues ``alpha_j +- i omega_j``). ``x(0)`` is 1 on the real modes and
    ``(0, 1)`` on each oscillator, so ``r_g . x(t)`` is any sum of exponentials and damped or
    growing sinusoids, ``sum_i a_i e^(lambda_i t) + sum_j e^(alpha_j t) (b_j sin(omega_j t) +
    c_j cos(omega_j t))``, each exact; a step of any length is the exact propagator
    ``exp(A dt)`` (in closed form: a decay per real mode, a growing rotation per oscillator). Any
    diagonalizable real ``A`` is one of these up to a change of latent basis, which the read-out
    absorbs; the modal form leaves out those redundant directions, which would otherwise let the
    dynamics drift where the data do not constrain them. Unlike a pointwise ``dw/dt = q(w)``, the weights can start at, pass through
    and leave zero, and turn around: the state that carries the dynamics is the latent.

    Training starts from static weights ``w0`` (an ANODE block): ``lambda = alpha = 0``,
    ``omega_j = j f``, ``r_g = e_1``; the read-out first sees a Fourier expansion in ``t`` and the
    dynamics then tune its frequencies, growth and decay. Parameters: ``m`` for ``A`` and ``m``
    per group.

    The state is ``w0`` times the latent, shape ``(*weight.shape, m)``.

    Args:
        latent: the latent dimension ``m`` (3: one exponential and one oscillator).
        per_channel: one read-out ``r_g`` per output channel (each entry of the weight's
            ``channel_axis``) instead of one per layer; ``A`` is shared, so every channel draws on
            the same modes.
        channel_axis: the weight's axis of channels (default: the first, ``(out, in, ...)``).
        frequency: ``f``, the lowest initial frequency in radians per unit time (default: half a
            turn over a unit span), and the unit the rates are learned in (the parameters are
            ``lambda / f``, ``alpha / f``, ``omega / f``).
    """

    has_weights_at = True

    def __init__(self, latent: int = 3, *, per_channel: bool = False, channel_axis: int = 0,
                 frequency: float = math.pi) -> None:
        super().__init__()
        if isinstance(latent, bool) or not isinstance(latent, int) or latent < 1:
            raise InputError(f"latent dimension must be an integer >= 1, got {latent!r}")
        if not (math.isfinite(frequency) and frequency > 0):
            raise InputError(f"frequency must be a positive number, got {frequency!r}")
        self.latent = latent
        self.oscillators = (latent - 1) // 2
        self.per_channel = per_channel
        self.channel_axis = channel_axis
        self.frequency = float(frequency)

    def bind(self, weight: Tensor) -> None:
        self.group_view = group_shape(weight, self.per_channel, self.channel_axis)
        groups = math.prod(self.group_view)
        factory = {"dtype": weight.dtype, "device": weight.device}
        m, p = self.latent, self.oscillators
        # Rates in units of the frequency: real modes' lambda, oscillators' alpha and omega.
        self.scaled_rates = nn.Parameter(torch.zeros(m - 2 * p, **factory))
        self.scaled_growth = nn.Parameter(torch.zeros(p, **factory))
        self.scaled_frequencies = nn.Parameter(torch.arange(1, p + 1, **factory))
        readout = torch.zeros(groups, m, **factory)
        readout[:, 0] = 1.0
        self.readout_vector = nn.Parameter(readout)
        start = torch.ones(m, **factory)
        start[m - 2 * p :: 2] = 0.0  # each oscillator starts at (sin, cos) = (0, 1)
        self.register_buffer("latent_start", start, persistent=False)

    def generator_parameters(self) -> list[nn.Parameter]:
        """The parameters of ``A`` (rates, growth, frequencies), as opposed to the read-outs.

        They set the phase of every basis function, ``omega t``: a step in them moves the whole
        read-out basis at once, so they want a smaller learning rate than the read-outs (see
        ``physode fit``'s parameter groups)."""
        return [self.scaled_rates, self.scaled_growth, self.scaled_frequencies]

    @property
    def generator(self) -> Tensor:
        """``A``: the real modes, then the oscillators' 2 x 2 blocks, on the diagonal."""
        f = self.frequency
        blocks = [torch.diag(f * self.scaled_rates)]
        for alpha, omega in zip(f * self.scaled_growth, f * self.scaled_frequencies):
            blocks.append(torch.stack([torch.stack([alpha, omega]), torch.stack([-omega, alpha])]))
        return torch.block_diag(*blocks)

    def initial_state(self, weight: Tensor) -> Tensor:
        return weight[..., None] * self.latent_start.to(weight.dtype)

    def readout(self, state: Tensor, t: float) -> Tensor:
        r = self.readout_vector.to(state.dtype).view(*self.group_view, self.latent)
        return (state * r).sum(-1)

    def _multiply(self, matrix: Tensor, state: Tensor) -> Tensor:
        return state @ matrix.to(state.dtype).T

    def rate(self, state: Tensor, t: float) -> Tensor:
        return self._multiply(self.generator, state)

    def step(self, state: Tensor, t: float, dt: float, method: Stepper) -> Tensor:
        # exp(A dt) in closed form, block by block: a weight solve takes hundreds of steps, and
        # building A and its matrix exponential for each cost 8x the rest of a linear fit's step.
        return self._propagate(state, self.scaled_rates.new_tensor(dt))

    def weights_at(self, state: Tensor, t: float, times: Sequence[float]) -> Tensor:
        # exp(A (t_n - t)) for all times at once: w(t) is autonomous and linear, so the whole path is
        # one batched call instead of one step per grid point (~160 per forward in a linear fit).
        spans = self.scaled_rates.new_tensor([s - t for s in times])
        return self.readout(self._propagate(state, spans), t)

    def _propagate(self, state: Tensor, dt: Tensor) -> Tensor:
        """``exp(A dt) x`` for every latent ``x`` of ``state``; ``dt``'s dims lead the result's."""
        f, split = self.frequency, self.latent - 2 * self.oscillators
        real, pairs = state[..., :split], state[..., split:].unflatten(-1, (self.oscillators, 2))
        scaled = (f * dt).view(*dt.shape, *[1] * (state.ndim - 1), 1)  # against state's dims, then a mode's
        decay = torch.exp(scaled * self.scaled_rates).to(state.dtype)
        growth = torch.exp(scaled * self.scaled_growth)
        angle = scaled * self.scaled_frequencies
        cos, sin = (growth * torch.cos(angle)).to(state.dtype), (growth * torch.sin(angle)).to(state.dtype)
        first, second = pairs[..., 0], pairs[..., 1]  # [[alpha, omega], [-omega, alpha]] rotates (a, b)
        rotated = torch.stack([cos * first + sin * second, cos * second - sin * first], dim=-1)
        return torch.cat([real * decay, rotated.flatten(-2)], dim=-1)

    def extra_repr(self) -> str:
        return f"latent={self.latent}, per_channel={self.per_channel}, frequency={self.frequency:.4g}"
