"""The PDE benchmark's model names: the peers' (:data:`physode.problems.peers.PEERS`: the FNOs and the
reference predictors) and physode's, each physode name derived from a fitting model family and
variant by :func:`model_name` (``anodev2``, ``fourier-anodev2``)."""

from __future__ import annotations

FNO_MODELS = ("fno", "fno-time", "fno-ar")
REFERENCE_MODELS = ("zero", "persistence")  # on every row: a model at or above them learned nothing
PEER_MODELS = FNO_MODELS + REFERENCE_MODELS
# The variants the benchmark fits per physode model family (`physode fit --model`).
PHYSODE_VARIANTS = {"linear": ("anode", "anodev2", "anodev2-latent", "galerkin"), "fourier": ("anode", "anodev2")}
# A peer given the wall time of the row's best physode model (issue 26's equal compute): "<peer>@physode-time".
EQUAL_TIME = "@physode-time"
# A Fourier-ODE given the best converged FNO's mean wall time as `physode fit --budget` (issue 26's other half of
# equal compute): "<physode model>@fno-time". Only the Fourier family: the linear fits stop on validation in seconds.
PEER_TIME = "@fno-time"


def model_name(family: str, variant: str) -> str:
    """A physode model's name in tables and results: the variant, prefixed by its family unless linear
    (the family the benchmark began with)."""
    return variant if family == "linear" else f"{family}-{variant}"


# Each physode model name's (family, variant).
PHYSODE_MODELS = {model_name(family, variant): (family, variant)
                  for family, variants in PHYSODE_VARIANTS.items() for variant in variants}
LINEAR_MODELS = tuple(name for name, (family, _) in PHYSODE_MODELS.items() if family == "linear")
FOURIER_MODELS = tuple(name for name, (family, _) in PHYSODE_MODELS.items() if family == "fourier")
EQUAL_TIME_MODELS = tuple(name + EQUAL_TIME for name in FNO_MODELS)
PEER_TIME_MODELS = tuple(name + PEER_TIME for name in FOURIER_MODELS)
MODELS = FNO_MODELS + tuple(PHYSODE_MODELS) + EQUAL_TIME_MODELS + PEER_TIME_MODELS + REFERENCE_MODELS
# Static and evolving weights in the same network, per family: (anode, anodev2...), as the report compares them.
ANODEV2_PAIRS = tuple((model_name(family, "anode"), model_name(family, variant))
                      for family, variants in PHYSODE_VARIANTS.items() for variant in variants
                      if variant.startswith("anodev2"))
