"""``fno-ar``: one FNO step u(t) -> u(t + dt) over one stored interval, rolled out from u(t0).

It trains in two phases (:mod:`.training` moves on when the validation error of the first stalls):

1. teacher forcing: each trajectory's step from a true u(t_i), i drawn at random per trajectory and epoch;
2. pushforward (Brandstetter, Worrall & Welling 2022, "Message passing neural PDE solvers"; PDEBench's
   ``unroll_step``): from a true u(t_i), 1 to :data:`PUSHFORWARD` steps rolled out without gradient,
   then the next step trained, so the model learns from the inputs its own rollouts produce.

With an ``observed`` mask (sparse frames) it can only learn from the frames it has: a step is trained
from an observed u(t_i) (unrolled or not) to an observed target, and a trajectory with no such pair
in a batch adds nothing to that batch's loss; the steps between unobserved frames are never taught.

Its validation error, as its score, is that of the full rollout from u(t0). The step predicts the
increment, u(t + dt) = u(t) + FNO(u(t)), as one-step neural PDE solvers commonly do (Brandstetter
et al.): a step starts near persistence instead of near zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from physode.errors import InputError
from physode.problems.peers.data import PeerData
from physode.problems.peers.fno import TIME_TOLERANCE, build_fno, validation_nrmse
from physode.problems.peers.training import relative_l2

PUSHFORWARD = 3  # the most steps rolled out without gradient before the trained one


@dataclass(frozen=True)
class AutoregressiveTask:
    stored: torch.Tensor
    phases: int

    @classmethod
    def build(cls, data: PeerData, modes: int) -> tuple[nn.Module, AutoregressiveTask]:
        steps = np.diff(data.times.numpy())
        if not np.allclose(steps, steps[0], rtol=1e-4):
            raise InputError(f"{data.source}: fno-ar steps one stored interval at a time and needs uniformly "
                             "spaced times; use fno-time for this file")
        # A pushforward needs a step after at least one unrolled one: three stored times.
        return build_fno(data.channels, data.channels, modes, data), cls(data.times, 2 if len(data.times) > 2 else 1)

    @property
    def dt(self) -> float:
        return float(self.stored[1] - self.stored[0])

    @staticmethod
    def step(model: nn.Module, u: torch.Tensor) -> torch.Tensor:
        return u + model(u)

    def rollout(self, model: nn.Module, u0: torch.Tensor, steps: int) -> torch.Tensor:
        frames = [u0]
        for _ in range(steps):
            frames.append(self.step(model, frames[-1]))
        return torch.stack(frames, dim=1)

    def loss(self, model: nn.Module, batch: torch.Tensor, observed: torch.Tensor | None, generator: torch.Generator,
             phase: int) -> torch.Tensor:
        unrolled = 0 if phase == 0 else int(torch.randint(1, min(PUSHFORWARD, len(self.stored) - 2) + 1, (),
                                                          generator=generator))
        starts = len(self.stored) - 1 - unrolled
        if observed is None:
            start, usable = torch.randint(0, starts, (len(batch),), generator=generator), None
        else:  # from an observed state to an observed target; a trajectory with no such pair is left out
            pairs = (observed[:, :starts] & observed[:, unrolled + 1 :]).cpu()
            usable = pairs.any(dim=1)
            start = torch.multinomial((pairs | ~usable[:, None]).float(), 1, generator=generator)[:, 0]
        rows, start = torch.arange(len(batch), device=batch.device), start.to(batch.device)
        u = batch[rows, start]
        with torch.no_grad():  # the pushforward: its own rollout's output as the trained step's input
            for _ in range(unrolled):
                u = self.step(model, u)
        return relative_l2(self.step(model, u).flatten(2), batch[rows, start + unrolled + 1].flatten(2), usable)

    def validation_error(self, model: nn.Module, samples: torch.Tensor, observed: torch.Tensor | None) -> float:
        return validation_nrmse(self, model, samples, self.stored, observed)

    def __call__(self, model: nn.Module, u0: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        steps = (times.double() - self.stored[0]) / self.dt
        whole = steps.round()
        refused = ((steps - whole).abs() > TIME_TOLERANCE * (len(self.stored) - 1)) | (whole < 0)
        if refused.any():
            raise InputError(f"fno-ar predicts t0 + k dt (dt = {self.dt:g}, k = 0, 1, ...) only, not t = "
                             f"{times[refused].tolist()[:3]}; use fno-time for times between the stored ones")
        return self.rollout(model, u0, int(whole.max()))[:, whole.long().to(u0.device)]
