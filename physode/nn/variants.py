"""The four continuous-depth variants of a vector field, as ODE blocks.

Given a field ``f``, each variant is one block of :mod:`physode.nn.blocks`; they differ only in how
the weights depend on time and how gradients are computed:

- ``anode``: static weights, exact checkpointed gradients (ANODE).
- ``neuralode``: static weights, time as an input (``f(t, u)``), continuous-adjoint gradients
  (Chen et al.'s Neural ODE).
- ``anodev2``: the weights named in ``evolve`` move by an evolution operator (default: one
  reaction rate per leading index, ``SpectralRDA(axes=(), per_channel=True)``, i.e.
  ``theta(t) = theta0 exp(rho (t - t0))``), exact checkpointed gradients (ANODEV2).
- ``anodev2-neural``: as ``anodev2`` with a learned pointwise ``q(w, t)`` (:class:`~physode.Neural`).
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from physode.errors import InputError
from physode.evolution import EvolutionOperator, Neural, SpectralRDA
from physode.gradients import GradientStrategy
from physode.nn.blocks import CoupledODEBlock, ODEBlock
from physode.steppers import ButcherTableau

VARIANTS = ("anode", "neuralode", "anodev2", "anodev2-neural")
COUPLED = ("anodev2", "anodev2-neural")


def variant_operator(variant: str, *, hidden: int = 16) -> EvolutionOperator:
    """The default evolution operator of a coupled variant."""
    if variant == "anodev2":
        # Weights without spatial axes (multipliers, pointwise maps): reaction only.
        return SpectralRDA(axes=(), per_channel=True, diffusion=False, advection=False)
    if variant == "anodev2-neural":
        return Neural(hidden=hidden, time_input=True)
    raise InputError(f"variant {variant!r} has no weight evolution; only {', '.join(COUPLED)} do")


def variant_block(
    variant: str,
    field: nn.Module,
    *,
    evolve: Sequence[str] = (),
    operator: EvolutionOperator | None = None,
    steps: int = 1,
    method: str | ButcherTableau = "rk4",
    grad: str | GradientStrategy | None = None,
    hidden: int = 16,
) -> CoupledODEBlock:
    """``field`` as the ODE block of ``variant``.

    Args:
        variant: one of :data:`VARIANTS`. ``neuralode`` calls ``field(t, u)``, the others
            ``field(u)``.
        field: the vector field.
        evolve: names of ``field``'s parameters that evolve (coupled variants only).
        operator: their evolution operator; default :func:`variant_operator`.
        steps: solver steps per output interval (or over ``[0, 1]`` without output times).
        method: Runge-Kutta method.
        grad: gradient strategy; default the variant's own (``adjoint`` for ``neuralode``,
            ``checkpoint`` otherwise). Other strategies serve comparisons, e.g. with backprop.
        hidden: width of ``anodev2-neural``'s default ``q``.
    """
    if variant not in VARIANTS:
        raise InputError(f"unknown variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    coupled = variant in COUPLED
    if coupled and not evolve:
        raise InputError(f"variant {variant!r} needs the names of the weights to evolve (evolve=...)")
    if not coupled and (evolve or operator is not None):
        raise InputError(
            f"variant {variant!r} has static weights; evolve/operator apply to {', '.join(COUPLED)}"
        )
    common = {"steps": steps, "method": method}
    if variant == "anode":
        return ODEBlock(field, grad=grad or "checkpoint", **common)
    if variant == "neuralode":
        return ODEBlock(field, grad=grad or "adjoint", time_input=True, **common)
    operator = variant_operator(variant, hidden=hidden) if operator is None else operator
    return CoupledODEBlock(field, list(evolve), operator, grad=grad or "checkpoint", **common)
