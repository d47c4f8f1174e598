"""Transitional: the module-level names the trainer and evaluation call today, each delegating to
the model-family registry (:mod:`.models`). The lead switches those call sites to the families'
methods at merge and deletes this module."""

from __future__ import annotations

from typing import Any

import numpy as np
from torch import nn

from physode.problems.fitting.models import Grid, ModelFamily, family_names, stored_config

MODEL_KINDS = family_names()
AnyModelConfig = ModelFamily
AnyModel = nn.Module


def model_kind(config: ModelFamily) -> str:
    return config.family


def describe(config: ModelFamily) -> dict[str, str]:
    return config.describe()


def build_for_grid(config: ModelFamily, x: np.ndarray, channels: int = 1) -> nn.Module:
    return config.build(Grid.from_points(x), channels)


def rebuild(values: dict[str, Any], n_x: int, dx: float, channels: int = 1) -> nn.Module:
    return stored_config(values).build(Grid((n_x,), (dx,)), channels)


def parameter_groups(model: nn.Module, lr: float, rate_lr: float | None) -> list[dict[str, Any]]:
    return model.config.parameter_groups(model, lr, rate_lr)


def shaping_settings(config: ModelFamily) -> dict[str, Any]:
    return config.shaping_settings()
