"""Variants of a vector field's time dependence: the registry (:mod:`.registry`) and the built-in
ones (:mod:`.builtin`, registered on import)."""

from physode.variants import builtin as _builtin  # noqa: F401  (registers the built-in variants)
from physode.variants.registry import (
    OperatorFactory,
    Variant,
    VariantStyle,
    WeightSpec,
    coupled_names,
    get_variant,
    is_coupled,
    register_variant,
    variant_block,
    variant_names,
    variant_operator,
)

__all__ = [
    "OperatorFactory",
    "Variant",
    "VariantStyle",
    "WeightSpec",
    "coupled_names",
    "get_variant",
    "is_coupled",
    "register_variant",
    "variant_block",
    "variant_names",
    "variant_operator",
]
