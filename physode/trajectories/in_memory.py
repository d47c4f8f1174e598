"""Trajectories held in memory: what a simulator returns and a writer stores."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Trajectories:
    """Simulated data and everything the trajectory file records about it.

    ``u`` is float64 (sample, t, x), or (sample, t, channel, x) for a system whose fields are named
    by ``channels`` (the wave equation's ``("u", "u_t")``); over several spatial axes ``x`` names
    them, ``{"y": y, "x": x}``, and ``u`` is (sample, t, channel, y, x); ``coefficients`` are time-varying PDE coefficients over ``t``
    (stored as variables), ``parameters`` constant ones (stored as root attributes) and
    ``settings`` the generator settings (stored as JSON), enough to regenerate the data;
    ``boundary_condition`` is stored as the root attribute of that name.
    """

    u: np.ndarray
    t: np.ndarray
    x: np.ndarray | dict[str, np.ndarray]
    equation: str
    settings: dict[str, Any]
    coefficients: dict[str, np.ndarray] = field(default_factory=dict)
    parameters: dict[str, float] = field(default_factory=dict)
    channels: tuple[str, ...] | None = None
    boundary_condition: str = "periodic"
