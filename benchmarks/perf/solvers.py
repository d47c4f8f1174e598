"""The perf benchmark's two ODE blocks and each implementation's solve of them.

A ResNet-10-width conv residual branch (16 channels, 32x32) and the transport model (a periodic
5-point stencil on a 1-D field), solved by physode (static or ANODEV2 weights) or by torchdiffeq
(static weights only: it has no weight evolution) with the same fixed-step method and step count.
"""

from __future__ import annotations

import torch
from torch import nn

import physode

PHYSODE = ("backprop", "checkpoint", "recursive", "adjoint")
REVOLVE = "recursive-8"  # Recursive(snapshots=8), at the largest Nt of the conv block
TORCHDIFFEQ = ("tdq-odeint", "tdq-adjoint")


def branch(model: str) -> nn.Module:
    torch.manual_seed(0)
    if model == "conv":
        return nn.Sequential(
            nn.Conv2d(16, 16, 3, padding=1, bias=False),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.Conv2d(16, 16, 3, padding=1, bias=False),
            nn.BatchNorm2d(16),
        )
    return nn.Conv1d(1, 1, 5, padding=2, padding_mode="circular", bias=False)


def evolved_names(model: str) -> list[str]:
    return ["0.weight", "3.weight"] if model == "conv" else ["weight"]


def inputs(model: str, batch: int) -> torch.Tensor:
    shape = (batch, 16, 32, 32) if model == "conv" else (batch, 1, 256)
    return torch.randn(*shape, generator=torch.Generator().manual_seed(1))


class _TimeIgnoring(nn.Module):
    """torchdiffeq calls func(t, y)."""

    def __init__(self, f: nn.Module) -> None:
        super().__init__()
        self.f = f

    def forward(self, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.f(y)


def make_solver(model: str, weights: str, impl: str, steps: int, method: str):
    """A module mapping z0 -> z(1) for one implementation."""
    f = branch(model)
    if impl in PHYSODE or impl == REVOLVE:
        impl = physode.Recursive(snapshots=8) if impl == REVOLVE else impl
        if weights == "static":
            return physode.ODEBlock(f, steps=steps, method=method, grad=impl)
        operator = physode.SpectralRDA(diffusion=False, v=0.1, rho=0.1)  # adjoint-safe (no diffusion)
        return physode.CoupledODEBlock(f, evolved_names(model), operator, steps=steps, method=method, grad=impl)
    import torchdiffeq

    func = _TimeIgnoring(f)
    solve = torchdiffeq.odeint_adjoint if impl == "tdq-adjoint" else torchdiffeq.odeint
    options = {"grid_constructor": lambda _f, _y0, t: torch.linspace(t[0], t[-1], steps + 1, dtype=t.dtype, device=t.device)}

    class TorchdiffeqBlock(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.func = func

        def forward(self, z: torch.Tensor) -> torch.Tensor:
            t = torch.tensor([0.0, 1.0], dtype=z.dtype, device=z.device)
            return solve(self.func, z, t, method=method, options=options)[-1]

    return TorchdiffeqBlock()
