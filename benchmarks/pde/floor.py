"""The discretization floor of the rows a linear physode model represents exactly: that model with
the exact weights and the row's RK4 steps, scored by the same code as every fit."""

from __future__ import annotations

import math

import numpy as np
import torch

from benchmarks.common.peers import Split
from benchmarks.pde.rows import Exact
from physode.problems.fitting.models import ModelConfig, build_model
from physode.trajectories import rollout_errors


def exact_floor(exact: Exact, steps: int, split: Split) -> float:
    """Test nRMSE of the linear ANODEV2 with the exact weights: the discretization floor of its steps."""
    model = build_model(ModelConfig(variant="anodev2", steps_per_interval=steps), split.x, 2 if exact.wave else 1)
    # Modes the data never excite stay zero: i k c there can lie outside RK4's stability region, and
    # round-off would grow; a fit leaves them near zero too.
    first = split.test[:, 0].double()
    power = torch.fft.rfft(first, dim=-1).abs().square().mean(0)
    excited = (power.sum(0) if exact.wave else power) >= 1e-12 * power.max()
    weight = model.layer.weight
    (rho,) = [p for n, p in model.named_parameters() if n.endswith("rho")]
    with torch.no_grad():
        weight.zero_()
        if exact.wave:
            # Channel pairs (u <- u, u <- u_t, u_t <- u, u_t <- u_t), entry (o, i) in units of |k|^(1 + o - i):
            # the generator [[0, 1], [-c^2 k^2, 0]] is the weights [[0, 1], [-c^2, 0]], c^2 growing at 2 c_rate.
            weight[1, :, 0] = 1.0
            weight[2, 1:, 0] = -exact.c0**2
            weight[:, ~excited] = 0.0
            rho.copy_(torch.tensor([0.0, 0.0, 2 * exact.c_rate, 0.0]))  # one rate per channel pair
        else:
            k = 2 * math.pi * torch.fft.rfftfreq(split.x.size, d=float(np.diff(split.x).mean()), dtype=torch.float64)
            scale = model.layer.k_scale.double()[:, 0, 0]  # weights are stored in velocity units m_k / |k|
            weight[:, 0, 0] = (-exact.nu0 * k.square() / scale).float()[: model.layer.modes]
            weight[1:, 0, 1] = exact.c0
            weight[~excited] = 0.0
            rho.copy_(torch.tensor([exact.nu_rate, exact.c_rate]))  # (real, imaginary) parts
        pred = model(first.float(), split.times)
    return rollout_errors(pred, split.test).nrmse_predicted
