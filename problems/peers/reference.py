"""The reference predictors every benchmark row shows beside the models: nothing fit, 0 parameters.

``zero``: u(t) = 0 (nRMSE 1 at every predicted time); ``persistence``: u(t) = u(t0). A model that scores
at or above them has learned nothing about the dynamics (issue 26)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class Zero:
    """u(t) = 0 after the given frame (which is u0, as every peer reproduces it)."""

    t0: float

    def __call__(self, model: nn.Module | None, u0: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        given = torch.isclose(times.double(), torch.tensor(self.t0, dtype=torch.float64)).to(u0.device)
        given = given.reshape(1, -1, *[1] * (u0.ndim - 1))
        return torch.where(given, u0[:, None], torch.zeros((), dtype=u0.dtype, device=u0.device))


@dataclass(frozen=True)
class Persistence:
    """u(t) = u(t0) at every time."""

    def __call__(self, model: nn.Module | None, u0: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        return u0[:, None].expand(-1, len(times), *u0.shape[1:]).clone()
