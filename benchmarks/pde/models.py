"""The PDE benchmark's model names: the peers' (FNO) and physode's, each physode name derived from
a fitting model family and variant by :func:`model_name` (``anodev2``, ``fourier-anodev2``)."""

from __future__ import annotations

FNO_MODELS = ("fno", "fno-ar")
# The variants the benchmark fits per physode model family (`physode fit --model`).
PHYSODE_VARIANTS = {"linear": ("anode", "anodev2", "anodev2-latent", "galerkin"), "fourier": ("anode", "anodev2")}


def model_name(family: str, variant: str) -> str:
    """A physode model's name in tables and results: the variant, prefixed by its family unless linear
    (the family the benchmark began with)."""
    return variant if family == "linear" else f"{family}-{variant}"


# Each physode model name's (family, variant).
PHYSODE_MODELS = {model_name(family, variant): (family, variant)
                  for family, variants in PHYSODE_VARIANTS.items() for variant in variants}
LINEAR_MODELS = tuple(name for name, (family, _) in PHYSODE_MODELS.items() if family == "linear")
FOURIER_MODELS = tuple(name for name, (family, _) in PHYSODE_MODELS.items() if family == "fourier")
MODELS = FNO_MODELS + tuple(PHYSODE_MODELS)
# Static and evolving weights in the same network, per family: (anode, anodev2...), as the report compares them.
ANODEV2_PAIRS = tuple((model_name(family, "anode"), model_name(family, variant))
                      for family, variants in PHYSODE_VARIANTS.items() for variant in variants
                      if variant.startswith("anodev2"))
