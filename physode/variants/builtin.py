"""The built-in variants: ANODE, Neural ODE, ANODEV2 (three evolution operators) and the Galerkin peer.

- ``anode``: static weights, exact checkpointed gradients (ANODE).
- ``neuralode``: static weights, time as an input (``f(t, u)``), continuous-adjoint gradients
  (Chen et al.'s Neural ODE).
- ``anodev2``: the weights move by :class:`~physode.SpectralRDA` (ANODEV2): along the weight's
  spatial axes by diffusion and advection, everywhere by reaction. Weights without spatial axes
  (Fourier multipliers, whose modes are independent; pointwise maps) get reaction only,
  ``theta(t) = theta0 exp(rho (t - t0))``, one rate per group, which follows an exponential
  velocity ``c0 exp(a t)`` exactly with ``rho = a``.
- ``anodev2-neural``: ANODEV2 with a learned pointwise ``q(w, t)`` (:class:`~physode.Neural`).
- ``anodev2-latent``: ANODEV2 with :class:`~physode.LinearLatent`: the weights are
  ``w0 (r_g . x(t))`` with one ``latent``-dimensional ``dx/dt = A x`` and a read-out ``r_g`` per
  group, so a velocity that rises and falls, switches or changes sign is in reach.
- ``galerkin``: the peer (Galerkin Neural ODEs): each group's weights are
  ``w0 sum_j a_gj phi_j(t)`` in a truncated ``basis`` in time, with the fewest basis functions that
  give at least ``anodev2-latent``'s extra parameters.
"""

from __future__ import annotations

import math

from physode.errors import InputError
from physode.evolution import EvolutionOperator, Galerkin, LinearLatent, Neural, SpectralRDA
from physode.variants.registry import Variant, VariantStyle, WeightSpec, register_variant

HIDDEN = 16  # anodev2-neural's default width of q, for models without a ``hidden`` setting


def galerkin_size(latent: int, groups: int) -> int:
    """Basis functions per group for at least :class:`~physode.LinearLatent`'s parameters: ``m``
    for its dynamics and ``m`` per group."""
    return latent + math.ceil(latent / groups)


def _groups(spec: WeightSpec) -> dict[str, bool | int]:
    return {"per_channel": spec.per_channel, "channel_axis": spec.channel_axis}


def spectral_rda(spec: WeightSpec) -> EvolutionOperator:
    """ANODEV2's operator; ``per_mode_reaction`` (single field): one rate per index of axis 0."""
    groups = _groups(spec)
    if spec.settings.get("per_mode_reaction", False):
        if spec.channels > 1:
            raise InputError("--per-mode-reaction is for single-field data; with channels ANODEV2 "
                             "learns one reaction rate per channel pair (spectral) or output channel")
        groups = {"per_channel": True, "channel_axis": 0}
    moves = spec.spatial_axes != ()  # no spatial axis: reaction only
    return SpectralRDA(sigma=spec.settings.get("sigma", "identity"),
                       sigma_placement=spec.settings.get("sigma_placement", "readout"), axes=spec.spatial_axes,
                       diffusion=moves, advection=moves, **groups)


def neural(spec: WeightSpec) -> EvolutionOperator:
    """``anodev2-neural``'s learned ``q(w, t)`` of width ``hidden``."""
    return Neural(hidden=spec.settings.get("hidden", HIDDEN), time_input=True)


def linear_latent(spec: WeightSpec) -> EvolutionOperator:
    """``anodev2-latent``'s latent ODE, its oscillators starting from a Fourier bank over a full turn."""
    return LinearLatent(spec.setting("latent", "anodev2-latent"), frequency=math.pi, **_groups(spec))


def galerkin(spec: WeightSpec) -> EvolutionOperator:
    """The Galerkin peer, sized to ``anodev2-latent``'s parameters for the same ``latent``."""
    if spec.shape is None:
        raise InputError("variant 'galerkin' sizes its basis by the evolved weight's groups; it evolves one weight")
    size = galerkin_size(spec.setting("latent", "galerkin"), spec.shape[spec.channel_axis])
    # The same frequency unit as the latent's initial oscillators: the same initial Fourier basis.
    return Galerkin(size, basis=spec.setting("basis", "galerkin"), frequency=math.pi, **_groups(spec))


register_variant(Variant("anode", "ANODE", "static weights", VariantStyle("C1", "--")))
register_variant(Variant("neuralode", "Neural ODE", "static, adjoint gradients, time as input", VariantStyle("C3", ":"),
                         grad="adjoint", time_input=True))
register_variant(Variant("anodev2", "ANODEV2", "weights evolve by spectral reaction-diffusion-advection",
                         VariantStyle("C2", "--"), operator=spectral_rda,
                         settings=("per_mode_reaction", "sigma", "sigma_placement")))
register_variant(Variant("anodev2-neural", "ANODEV2-neural", "weights evolve by a learned q(w, t)",
                         VariantStyle("C4", "-."), operator=neural, settings=("hidden",)))
register_variant(Variant("anodev2-latent", "ANODEV2-latent", "weights read out of a linear latent ODE "
                         "(oscillations, sign changes)", VariantStyle("C5", "--"), operator=linear_latent,
                         settings=("latent",)))
register_variant(Variant("galerkin", "Galerkin", "weights expanded in a basis in t (the peer)", VariantStyle("C6", ":"),
                         operator=galerkin, settings=("latent", "basis")))
