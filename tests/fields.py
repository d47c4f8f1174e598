"""Residual branches shared by the block, gradient and evolution tests."""

import torch
from torch import nn


class Scale(nn.Module):
    """f(z) = theta * z: the linear coupled system of the closed-form tests."""

    def __init__(self, theta0: float) -> None:
        super().__init__()
        self.theta = nn.Parameter(torch.tensor([theta0], dtype=torch.float64))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.theta * z


class PeriodicConv(nn.Module):
    """A residual branch: circular conv1d, tanh, then a channel mix."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(2, 2, 3, padding=1, padding_mode="circular")
        self.mix = nn.Linear(2, 2, bias=False)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.mix(torch.tanh(self.conv(z)).transpose(1, 2)).transpose(1, 2)
