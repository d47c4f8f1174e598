"""The model families of ``physode fit --model``: building, storing and rebuilding either kind.

- ``linear`` (:mod:`.models`): one linear, translation-invariant layer (``--layer spectral`` or
  ``stencil``); exact for linear constant- and time-varying-coefficient PDEs, dozens of weights.
- ``fourier`` (:mod:`.fourier_model`): a Fourier-operator network as the vector field; represents
  nonlinear PDEs, ~20k weights.

A stored model config names its family in ``kind``; linear-layer configs, which predate the
families, carry none.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Union

import numpy as np
from torch import nn

from physode.errors import InputError
from physode.evolution import LinearLatent
from physode.problems.fitting.fourier_model import FourierModelConfig, FourierTrajectoryModel
from physode.problems.fitting.models import ModelConfig, TrajectoryModel, build_model, config_from_dict

MODEL_KINDS = ("linear", "fourier")
AnyModelConfig = Union[ModelConfig, FourierModelConfig]
AnyModel = Union[TrajectoryModel, FourierTrajectoryModel]


def model_kind(config: AnyModelConfig) -> str:
    """``"linear"`` or ``"fourier"``."""
    return "fourier" if isinstance(config, FourierModelConfig) else "linear"


def describe(config: AnyModelConfig) -> dict[str, str]:
    """What tables and metrics name a model by: its kind, variant and (linear) layer."""
    if isinstance(config, FourierModelConfig):
        return {"model": "fourier", "variant": config.variant}
    return {"model": "linear", "variant": config.variant, "layer": config.layer}


def build_for_grid(config: AnyModelConfig, x: np.ndarray, channels: int = 1) -> AnyModel:
    """A model of either kind for ``channels`` fields on the uniform periodic grid ``x``."""
    if isinstance(config, ModelConfig):
        return build_model(config, x, channels)
    x = np.asarray(x, dtype=np.float64)
    spacing = np.diff(x)
    if x.size < 4 or not np.allclose(spacing, spacing.mean(), rtol=1e-6, atol=0.0):
        raise InputError(f"the x grid ({x.size} points) is not a uniform periodic grid of at least 4 points; "
                         "the fourier model's spectral convolutions assume one")
    return FourierTrajectoryModel(config, channels)


def rebuild(values: dict[str, Any], n_x: int, dx: float, channels: int = 1) -> AnyModel:
    """The (untrained) model of a stored model config, for ``channels`` fields on a grid of ``n_x``
    points spaced ``dx``."""
    values = dict(values)
    kind = values.pop("kind", "linear")
    if kind == "linear":
        return TrajectoryModel(config_from_dict(values), n_x, dx, channels)
    if kind != "fourier":
        raise InputError(f"unknown model kind {kind!r} in the stored config; known: {', '.join(MODEL_KINDS)}")
    names = {f.name for f in dataclasses.fields(FourierModelConfig) if f.init}
    unknown = set(values) - names
    if unknown:
        raise InputError(f"unknown fourier model settings {sorted(unknown)}; known: {sorted(names)}")
    return FourierTrajectoryModel(FourierModelConfig(**values), channels)


def parameter_groups(model: nn.Module, lr: float, rate_lr: float | None) -> list[dict[str, Any]]:
    """Adam's parameter groups: the weights at ``lr``, the rates of order one at ``rate_lr``.

    The rates are ANODEV2's evolution parameters (e.g. the reaction 1.5 of ``nu0 exp(1.5 t)``) and
    a fourier model's linear term. Next to weights of 0.01 (a small diffusivity in velocity units)
    one learning rate cannot serve both within a few hundred steps: sized for the weights, a rate
    cannot travel its distance (Adam moves a parameter by about its summed learning rates) and the
    fit settles where larger static weights mimic a smaller growth. ``rate_lr=None``: one group.

    A :class:`physode.LinearLatent`'s generator (its frequencies, growth and decay) stays with the
    weights at ``lr``: at ``rate_lr`` its steps move every read-out basis function's phase at once
    and the fit loses the match (measured, transport with a tanh switch in c(t): training loss 0.08
    after Adam with the generator at 0.1, 1.5e-3 at 0.01).
    """
    if isinstance(model, FourierTrajectoryModel):
        rates = model.rate_parameters()
    else:
        rates = [p for name, p in model.named_parameters() if name.startswith("block.operators.")]
    generators = [p for m in model.modules() if isinstance(m, LinearLatent) for p in m.generator_parameters()]
    rates = [r for r in rates if all(r is not g for g in generators)]
    weights = [p for p in model.parameters() if all(p is not r for r in rates)]
    if rate_lr is None or not rates:
        return [{"params": weights + rates, "lr": lr}]
    return [{"params": weights, "lr": lr}, {"params": rates, "lr": rate_lr}]
