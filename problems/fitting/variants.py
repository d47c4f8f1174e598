"""The model variants: the same single layer, different time dependence of its weights.

- ``anode``: static weights, exact checkpointed gradients (ANODE).
- ``neuralode``: static weights, continuous-adjoint gradients, time concatenated to the input as
  an extra channel (Chen et al.'s ConcatConv). For a translation-invariant linear layer the time
  channel is a constant field, so it only adds ``t * sum(w_t)``: a bias growing in time.
- ``anodev2``: ANODEV2 with :class:`physode.SpectralRDA` evolution of the weights (identity
  sigma). For the stencil the RDA acts along the stencil axis; spectral multipliers have no spatial
  axis (modes are independent), so only reaction acts: ``theta(t) = theta0 exp(rho (t - t0))``,
  one rate for the multipliers' real parts and one for their imaginary parts
  (:func:`weight_groups`), which follows an exponential velocity ``c0 exp(a t)`` exactly with
  ``rho = a``, also beside a constant diffusion.
- ``anodev2-neural``: ANODEV2 with a learned pointwise ``q(w, t)`` (:class:`physode.Neural`,
  time input on).
- ``anodev2-latent``: ANODEV2 with :class:`physode.LinearLatent`: the weights are
  ``w0 (r_g . x(t))`` with one ``latent``-dimensional ``dx/dt = A x`` per layer and a read-out
  ``r_g`` per group (:func:`weight_groups`), so a velocity that rises and falls, switches or
  changes sign (any sum of damped sinusoids and exponentials) is in reach. ``latent * (groups + 1)``
  extra parameters.
- ``galerkin``: the peer (Galerkin Neural ODEs): each group's weights are
  ``w0 sum_j a_gj phi_j(t)`` in a truncated ``basis`` in time, with the fewest basis functions
  that give at least ``anodev2-latent``'s extra parameters.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import physode
from physode.errors import InputError
from physode.evolution.galerkin import BASES  # re-exported: the galerkin variant's choices

if TYPE_CHECKING:
    from physode.problems.fitting.models import ModelConfig

STATIC = ("anode", "neuralode")
VARIANTS = (*STATIC, "anodev2", "anodev2-neural", "anodev2-latent", "galerkin")
LABELS = {"anode": "ANODE", "neuralode": "Neural ODE", "anodev2": "ANODEV2",
          "anodev2-neural": "ANODEV2-neural", "anodev2-latent": "ANODEV2-latent", "galerkin": "Galerkin"}
# The model settings only some variants read (in :func:`evolution_operator`); the others shape every model.
VARIANT_SETTINGS = {"anodev2": ("per_mode_reaction",), "anodev2-neural": ("hidden",),
                    "anodev2-latent": ("latent",), "galerkin": ("latent", "basis")}


def galerkin_size(latent: int, groups: int) -> int:
    """Basis functions per group for at least :class:`physode.LinearLatent`'s parameters: ``m``
    for its dynamics and ``m`` per group."""
    return latent + math.ceil(latent / groups)


def weight_groups(config: ModelConfig, channels: int) -> dict[str, int | bool]:
    """How an evolution operator groups the layer's weight: ``per_channel`` and ``channel_axis``.

    One field on the spectral layer (weight ``(modes, in, 2)``): one group per component, the real
    parts (decay, diffusion ``-nu k^2``) and the imaginary ones (advection ``c k``), each shared by
    all modes, so advection and diffusion with different time dependence (or one of them constant)
    are both exact. Several fields: one group per channel pair (first axis; the wave's ``-c^2``
    alone). Stencil: one group per output channel.
    """
    if config.layer == "spectral" and channels == 1:
        return {"per_channel": True, "channel_axis": -1}
    return {"per_channel": True, "channel_axis": 0}


def evolution_operator(config: ModelConfig, weight_shape: Sequence[int], channels: int = 1) -> physode.EvolutionOperator:
    """The evolution operator of a coupled variant for a layer weight of ``weight_shape``."""
    groups = weight_groups(config, channels)
    if config.variant == "anodev2":
        # Spectral modes are independent (no spatial axis): only reaction acts on them.
        axes = () if config.layer == "spectral" else (-1,)
        if config.per_mode_reaction:
            if channels > 1:
                raise InputError("--per-mode-reaction is for single-field data; with channels ANODEV2 "
                                 "learns one reaction rate per channel pair (spectral) or output channel")
            groups = {"per_channel": True, "channel_axis": 0}
        return physode.SpectralRDA(axes=axes, **groups)
    if config.variant == "anodev2-neural":
        return physode.Neural(hidden=config.hidden, time_input=True)
    if config.variant == "anodev2-latent":
        return physode.LinearLatent(config.latent, frequency=math.pi, **groups)
    # The same frequency unit as the latent's initial oscillators: the same initial Fourier basis.
    size = galerkin_size(config.latent, weight_shape[groups["channel_axis"]])
    return physode.Galerkin(size, basis=config.basis, frequency=math.pi, **groups)


def shaping_settings(config: ModelConfig) -> dict[str, Any]:
    """The settings that shape this model. Those its variant and layer ignore (an anode run's
    ``latent``, a spectral layer's stencil ``width``) are left out, so that a changed default of one
    does not refuse a resume."""
    ignored = {name for names in VARIANT_SETTINGS.values() for name in names}
    ignored -= set(VARIANT_SETTINGS.get(config.variant, ()))
    if config.layer != "stencil":
        ignored.add("width")
    return {name: value for name, value in dataclasses.asdict(config).items() if name not in ignored}
