"""Residual branches shared by the block tests."""

import torch
from torch import nn


class Scale(nn.Module):
    """f(z) = theta * z: the linear coupled system of the closed-form tests."""

    def __init__(self, theta0: float) -> None:
        super().__init__()
        self.theta = nn.Parameter(torch.tensor([theta0], dtype=torch.float64))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.theta * z
