"""The model variants: the same single layer, different time dependence of its weights.

- ``anode``: static weights, exact checkpointed gradients (ANODE).
- ``neuralode``: static weights, continuous-adjoint gradients, time concatenated to the input as
  an extra channel (Chen et al.'s ConcatConv). For a translation-invariant linear layer the time
  channel is a constant field, so it only adds ``t * sum(w_t)``: a bias growing in time.
- ``anodev2``: ANODEV2 with :class:`physode.SpectralRDA` evolution of the weights (identity
  sigma). For the stencil the RDA acts along the stencil axis; spectral multipliers have no spatial
  axis (modes are independent), so only reaction acts: ``theta(t) = theta0 exp(rho (t - t0))``,
  which follows an exponential velocity ``c0 exp(a t)`` exactly with ``rho = a``.
- ``anodev2-neural``: ANODEV2 with a learned pointwise ``q(w, t)`` (:class:`physode.Neural`,
  time input on).
- ``anodev2-latent``: ANODEV2 with :class:`physode.LinearLatent`: each mode's weights are
  ``w0_k (r_k . x(t))`` with one ``latent``-dimensional ``dx/dt = A x`` per layer, so a velocity
  that rises and falls, switches or changes sign (any sum of damped sinusoids and exponentials)
  is in reach. Per-mode read-outs let each mode also absorb the Runge-Kutta error of its own
  phase speed, as a static multiplier does. ``latent * (modes + 1)`` extra parameters.
- ``galerkin``: the peer (Galerkin Neural ODEs): each mode's weights are
  ``w0_k sum_j a_kj phi_j(t)`` in a truncated ``basis`` in time, with the fewest basis functions
  that give at least ``anodev2-latent``'s extra parameters.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import physode
from physode.errors import InputError
from physode.evolution.galerkin import BASES  # re-exported: the galerkin variant's choices

if TYPE_CHECKING:
    from physode.problems.pde1d.models import ModelConfig

STATIC = ("anode", "neuralode")
VARIANTS = (*STATIC, "anodev2", "anodev2-neural", "anodev2-latent", "galerkin")
LABELS = {"anode": "ANODE", "neuralode": "Neural ODE", "anodev2": "ANODEV2",
          "anodev2-neural": "ANODEV2-neural", "anodev2-latent": "ANODEV2-latent", "galerkin": "Galerkin"}


def galerkin_size(latent: int, groups: int) -> int:
    """Basis functions per group for at least :class:`physode.LinearLatent`'s parameters: ``m``
    for its dynamics and ``m`` per group."""
    return latent + math.ceil(latent / groups)


def evolution_operator(config: ModelConfig, modes: int, channels: int = 1) -> physode.EvolutionOperator:
    """The evolution operator of a coupled variant whose layer has ``modes`` output channels (with
    several fields, the layer's weight is laid out channel pairs first)."""
    if config.variant == "anodev2":
        # Spectral modes are independent (no spatial axis): only reaction acts on them.
        axes = () if config.layer == "spectral" else (-1,)
        if channels > 1 and config.per_mode_reaction:
            raise InputError("--per-mode-reaction is for single-field data; with channels ANODEV2 "
                             "learns one reaction rate per channel pair (spectral) or output channel")
        return physode.SpectralRDA(axes=axes, per_channel=config.per_mode_reaction or channels > 1)
    if config.variant == "anodev2-neural":
        return physode.Neural(hidden=config.hidden, time_input=True)
    if config.variant == "anodev2-latent":
        return physode.LinearLatent(config.latent, per_channel=True, frequency=math.pi)
    # The same frequency unit as the latent's initial oscillators: the same initial Fourier basis.
    size = galerkin_size(config.latent, modes)
    return physode.Galerkin(size, basis=config.basis, per_channel=True, frequency=math.pi)
