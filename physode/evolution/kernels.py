"""Time kernels ``K`` of Eq. 5d: how the applied weights ``theta`` follow the evolved ``w``.

``theta(t) = int_0^t K(t - s) w(s) ds``, where ``w(s)`` is the operator's read-out of its state,
e.g. ``sigma(w(s))`` for :class:`~physode.evolution.SpectralRDA`'s default read-out: a nonlinearity
is part of this read-out of the continuous path, not re-applied per step. :class:`Dirac` gives ``theta = w`` (the
paper's configurations). :class:`ExponentialMemory` is the kernel ``K(s) = exp(-s/l)/l`` plus the mass
``exp(-t/l)`` at ``w(0)``, which keeps ``theta(0) = w(0)``: ``theta`` relaxes towards ``w`` with
time scale ``l`` (``dtheta/dt = (w - theta) / l``), a smoothed memory of the weight path.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from physode.errors import InputError


class TimeKernel(nn.Module):
    """Base class; a kernel with memory carries ``theta`` as extra state beside ``w``."""

    #: Whether ``theta`` is a state of its own (``False``: ``theta = w``).
    has_memory: bool = False

    def advance(self, theta: Tensor, w_start: Tensor, w_end: Tensor, dt: float) -> Tensor:
        """``theta`` after ``dt``, given ``w`` at both ends of the interval."""
        raise NotImplementedError

    def rate(self, theta: Tensor, w: Tensor) -> Tensor:
        """``dtheta/dt`` (used by the continuous adjoint)."""
        raise NotImplementedError


class Dirac(TimeKernel):
    """``K = delta``: the applied weights are the evolved weights, ``theta = w``."""


class ExponentialMemory(TimeKernel):
    """``theta`` relaxes towards ``w`` with time scale ``timescale`` (learnable by default)."""

    has_memory = True

    def __init__(self, timescale: float = 0.25, *, learnable: bool = True) -> None:
        super().__init__()
        if not (math.isfinite(timescale) and timescale > 0):
            raise InputError(f"timescale must be a positive number, got {timescale!r}")
        raw = torch.tensor(math.log(math.expm1(timescale)))
        if learnable:
            self.raw_timescale = nn.Parameter(raw)
        else:
            self.register_buffer("raw_timescale", raw)

    @property
    def timescale(self) -> Tensor:
        return F.softplus(self.raw_timescale)

    def advance(self, theta: Tensor, w_start: Tensor, w_end: Tensor, dt: float) -> Tensor:
        # Exact solution of dtheta/dt = (w - theta)/l for w linear across the interval (a
        # second-order discretization when w is not).
        scale = self.timescale.to(theta.dtype)
        decay = torch.exp(-dt / scale)
        lag = scale * (w_end - w_start) / dt
        return w_end - lag + (theta - w_start + lag) * decay

    def rate(self, theta: Tensor, w: Tensor) -> Tensor:
        return (w - theta) / self.timescale.to(theta.dtype)
