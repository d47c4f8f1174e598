"""The variant registry: one :class:`Variant` record per name, and the ODE block a variant builds.

A variant says how the weights of a vector field depend on time and how their gradients are
computed. Every user-facing list of variants (``physode fit --variant``, the CIFAR-10 networks,
the quickstart, the plots and tables) reads this registry; a new variant is one
:func:`register_variant` call, usually next to its evolution operator.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from physode.catalog import VARIANTS
from physode.errors import InputError
from physode.evolution import EvolutionOperator
from physode.nn.blocks import CoupledODEBlock, ODEBlock
from physode.steppers import ButcherTableau


@dataclass(frozen=True)
class WeightSpec:
    """What an operator factory knows of the weights it evolves (one operator, copied per weight).

    ``shape``: the evolved weight's shape, when the block evolves exactly one (else ``None``).
    ``spatial_axes``: the weight's axes that are space, along which an operator may diffuse and
    advect: ``()`` for weights without (Fourier multipliers, pointwise maps), ``None`` for the
    operator's own default (a conv kernel's ``kh x kw``). ``per_channel`` / ``channel_axis``: how
    the operator groups the weight's entries (one set of coefficients per index of that axis).
    ``channels``: solution channels of the model. ``settings``: the model's settings by name
    (``hidden``, ``latent``, ``sigma``, ...), of which each variant reads its own.
    """

    shape: tuple[int, ...] | None = None
    spatial_axes: tuple[int, ...] | None = None
    per_channel: bool = True
    channel_axis: int = 0
    channels: int = 1
    settings: Mapping[str, Any] = field(default_factory=dict)

    def setting(self, name: str, variant: str) -> Any:
        """The model setting ``name`` that ``variant`` needs; an error when the model has none."""
        if name not in self.settings:
            raise InputError(f"variant {variant!r} needs the model setting {name!r}, which this model does not have")
        return self.settings[name]


OperatorFactory = Callable[[WeightSpec], EvolutionOperator]
"""Builds a coupled variant's evolution operator for the weights a :class:`WeightSpec` describes."""


@dataclass(frozen=True)
class VariantStyle:
    """How plots draw a variant's curves (matplotlib colour, line style and marker)."""

    color: str
    line: str = "--"
    marker: str = ""


@dataclass(frozen=True)
class Variant:
    """One continuous-depth variant of a vector field.

    ``operator``: the factory of its evolution operator, ``None`` for static weights.
    ``grad``: its gradient strategy. ``time_input``: the field is called as ``f(t, u)``.
    ``settings``: the model settings only this variant reads (models of other variants leave them
    out of what shapes them). ``summary``: one line for ``--help``.
    """

    name: str
    label: str
    summary: str
    style: VariantStyle
    operator: OperatorFactory | None = None
    grad: str = "checkpoint"
    time_input: bool = False
    settings: tuple[str, ...] = ()

    @property
    def coupled(self) -> bool:
        """Whether its weights evolve in time (ANODEV2-like) rather than stay static."""
        return self.operator is not None


_REGISTRY: dict[str, Variant] = {}


def register_variant(variant: Variant) -> Variant:
    """Make ``variant`` known by its name everywhere; a name is registered once."""
    if variant.name in _REGISTRY:
        raise InputError(f"variant {variant.name!r} is already registered")
    VARIANTS.offer(variant.name, variant.summary)  # the command line's choices (physode/catalog.py)
    _REGISTRY[variant.name] = variant
    return variant


def variant_names() -> tuple[str, ...]:
    """Every registered variant's name, in registration order."""
    return tuple(_REGISTRY)


def get_variant(name: str | Variant) -> Variant:
    """The registered variant ``name`` (a :class:`Variant` is returned as is)."""
    if isinstance(name, Variant):
        return name
    if name not in _REGISTRY:
        raise InputError(f"unknown variant {name!r}; choose one of {', '.join(_REGISTRY)}")
    return _REGISTRY[name]


def is_coupled(name: str | Variant) -> bool:
    """Whether the variant ``name`` evolves its weights."""
    return get_variant(name).coupled


def coupled_names() -> str:
    """The coupled variants' names, for messages."""
    return ", ".join(v.name for v in _REGISTRY.values() if v.coupled)


def variant_operator(name: str | Variant, spec: WeightSpec = WeightSpec()) -> EvolutionOperator:
    """The evolution operator of the coupled variant ``name`` for the weights ``spec`` describes."""
    variant = get_variant(name)
    if variant.operator is None:
        raise InputError(f"variant {variant.name!r} has no weight evolution; only {coupled_names()} do")
    return variant.operator(spec)


def variant_block(
    name: str | Variant,
    field: nn.Module,
    *,
    evolve: Sequence[str] = (),
    spec: WeightSpec = WeightSpec(),
    operator: EvolutionOperator | None = None,
    t1: float = 1.0,
    steps: int = 1,
    method: str | ButcherTableau = "rk4",
    grad: str | None = None,
    time_input: bool | None = None,
    **coupled: Any,
) -> CoupledODEBlock:
    """``field`` as the ODE block of the variant ``name``.

    Args:
        name: a registered variant. Its ``time_input`` decides whether ``field`` is called as
            ``field(t, u)`` (override with ``time_input``).
        field: the vector field.
        evolve: names of ``field``'s parameters that evolve (coupled variants only).
        spec: those weights, for the variant's operator factory.
        operator: their evolution operator; default the variant's own for ``spec``.
        t1: end time without output times.
        steps: solver steps per output interval (or over ``[0, t1]`` without output times).
        method: Runge-Kutta method.
        grad: gradient strategy; default the variant's own. Others serve comparisons.
        coupled: the weight path's options of :class:`~physode.nn.blocks.CoupledODEBlock`
            (``weight_steps``, ``alignment``), for coupled variants.
    """
    variant = get_variant(name)
    if variant.coupled and not evolve:
        raise InputError(f"variant {variant.name!r} needs the names of the weights to evolve (evolve=...)")
    if not variant.coupled and (evolve or operator is not None or coupled):
        raise InputError(f"variant {variant.name!r} has static weights; evolve/operator/"
                         f"{'/'.join(coupled) or 'weight_steps'} apply to {coupled_names()}")
    common = {"t1": t1, "steps": steps, "method": method, "grad": grad or variant.grad,
              "time_input": variant.time_input if time_input is None else time_input}
    if not variant.coupled:
        return ODEBlock(field, **common)
    operator = variant_operator(variant, spec) if operator is None else operator
    return CoupledODEBlock(field, list(evolve), operator, **common, **coupled)
