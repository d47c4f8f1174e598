"""The FNO peers: neuraloperator's ``FNO`` (imported only when one is fit) trained by :mod:`.training`
on one of three tasks, each with the predictor it yields.

- ``fno`` (:class:`DirectTask`): u(t0) -> every stored time at once, one output channel per time; it
  answers only the stored times.
- ``fno-time`` (:class:`TimeTask`): u(t0) and a constant channel holding t (scaled to [0, 1] over the
  stored times) -> u(t), trained on every (t0, t_i) pair (one drawn at random per trajectory and
  epoch): it answers any t.
- ``fno-ar``: one step u(t) -> u(t + dt), rolled out (:mod:`.autoregressive`).

The FNO has as many Fourier axes as the field has spatial axes (1-D or 2-D). On a field with walls
(a file whose ``boundary_condition`` is not periodic, e.g. diffusion-reaction2d's no-flux walls) it
pads its domain (neuraloperator's ``domain_padding``), as FNO's users fit non-periodic problems.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch
from torch import nn

from physode.errors import InputError
from physode.problems.peers.data import PeerData
from physode.problems.peers.training import Task, relative_l2
from physode.trajectories import rollout_errors

WIDTH, LAYERS, MODES = 32, 4, 16  # FNO's channels, Fourier layers and (at most) modes
TIME_TOLERANCE = 1e-6  # relative to the stored span: a requested time this close to a stored one is it
# The fraction of each axis padded on a walled field: the original FNO padded its non-periodic 2-D Darcy
# problem by 9 points of 85 (Li et al. 2021), PhysicsNeMo's FNO pads 8 points by default (1/8 of 64).
DOMAIN_PADDING = 0.125


def build_fno(in_channels: int, out_channels: int, modes: int, data: PeerData) -> nn.Module:
    """neuraloperator's FNO over ``data``'s spatial axes (at most ``modes`` modes on each, and at most its
    points), :data:`WIDTH` channels wide and :data:`LAYERS` Fourier layers deep; its domain padded by
    :data:`DOMAIN_PADDING` where ``data`` has walls."""
    try:
        from neuralop.models import FNO  # only the FNO peers need neuraloperator
    except ImportError as err:
        raise InputError("the FNO peers need neuraloperator: pip install 'physode[bench]'") from err
    return FNO(n_modes=tuple(min(modes, n) for n in data.space_shape), hidden_channels=WIDTH,
               in_channels=in_channels, out_channels=out_channels, n_layers=LAYERS,
               domain_padding=None if data.periodic else DOMAIN_PADDING)


def broadcast_over(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``values`` (one per sample) shaped to broadcast over ``like``'s other axes."""
    return values.reshape(-1, *[1] * (like.ndim - 1))


def stored_positions(times: torch.Tensor, stored: torch.Tensor, name: str) -> torch.Tensor:
    """The positions of ``times`` among the ``stored`` times; an InputError for a time not stored."""
    span = float(stored[-1] - stored[0])
    gap = (times.double()[:, None] - stored[None, :]).abs()
    distance, positions = gap.min(dim=1)
    if (distance > TIME_TOLERANCE * span).any():
        missing = times[distance > TIME_TOLERANCE * span]
        raise InputError(f"{name} predicts only the stored times it was trained on, not t = {missing.tolist()[:3]}; "
                         "use fno-time or fno-ar for other times")
    return positions


@torch.no_grad()
def validation_nrmse(predict: Predictor, model: nn.Module, samples: torch.Tensor, times: torch.Tensor,
                     observed: torch.Tensor | None) -> float:
    """nRMSE over the stored times after the first, as the test split is scored (over the ``observed``
    frames only, where given)."""
    model.eval()
    pred, samples = predict(model, samples[:, 0], times).flatten(3), samples.flatten(3)
    error = (rollout_errors(pred, samples).nrmse_predicted if observed is None
             else relative_l2(pred[:, 1:], samples[:, 1:], observed[:, 1:]).item())
    model.train()
    return error


class Predictor(Protocol):
    """A trained peer's predictions: ``(samples, len(times), channel, *space)`` from u0 at the first stored time."""

    def __call__(self, model: nn.Module, u0: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        ...


class FNOTask(Task, Predictor, Protocol):
    """What an FNO peer trains on and, once trained, how it predicts."""


@dataclass(frozen=True)
class DirectTask:
    """u(t0) -> the stored times t_1..t_N at once."""

    stored: torch.Tensor
    channels: int
    phases: int = 1

    @classmethod
    def build(cls, data: PeerData, modes: int) -> tuple[nn.Module, DirectTask]:
        task = cls(data.times, data.channels)
        return build_fno(data.channels, data.channels * (len(data.times) - 1), modes, data), task

    def every_time(self, model: nn.Module, u0: torch.Tensor) -> torch.Tensor:
        later = model(u0).unflatten(1, (len(self.stored) - 1, self.channels))
        return torch.cat([u0[:, None], later], dim=1)

    def loss(self, model: nn.Module, batch: torch.Tensor, observed: torch.Tensor | None, generator: torch.Generator,
             phase: int) -> torch.Tensor:
        return relative_l2(self.every_time(model, batch[:, 0])[:, 1:].flatten(3), batch[:, 1:].flatten(3),
                           None if observed is None else observed[:, 1:])

    def validation_error(self, model: nn.Module, samples: torch.Tensor, observed: torch.Tensor | None) -> float:
        return validation_nrmse(self, model, samples, self.stored, observed)

    def __call__(self, model: nn.Module, u0: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        positions = stored_positions(times, self.stored, "fno")
        return self.every_time(model, u0)[:, positions.to(u0.device)]


@dataclass(frozen=True)
class TimeTask:
    """(u(t0), t) -> u(t), t as a constant input channel scaled to [0, 1] over the stored times."""

    stored: torch.Tensor
    phases: int = 1

    @classmethod
    def build(cls, data: PeerData, modes: int) -> tuple[nn.Module, TimeTask]:
        return build_fno(data.channels + 1, data.channels, modes, data), cls(data.times)

    def at(self, model: nn.Module, u0: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """u at the times ``t`` (one per sample) from ``u0``; the given frame itself at t0."""
        scaled = ((t.double() - self.stored[0]) / (self.stored[-1] - self.stored[0])).to(u0)
        channel = broadcast_over(scaled, u0).expand(len(u0), 1, *u0.shape[2:])
        given = (t.double() - self.stored[0]).abs() <= TIME_TOLERANCE * float(self.stored[-1] - self.stored[0])
        return torch.where(broadcast_over(given.to(u0.device), u0), u0, model(torch.cat([u0, channel], dim=1)))

    def loss(self, model: nn.Module, batch: torch.Tensor, observed: torch.Tensor | None, generator: torch.Generator,
             phase: int) -> torch.Tensor:
        # One later time per trajectory, drawn among its observed ones.
        drawn = (torch.randint(1, len(self.stored), (len(batch),), generator=generator) if observed is None
                 else 1 + torch.multinomial(observed[:, 1:].cpu().float(), 1, generator=generator)[:, 0])
        target = batch[torch.arange(len(batch), device=batch.device), drawn.to(batch.device)]
        return relative_l2(self.at(model, batch[:, 0], self.stored[drawn]).flatten(2), target.flatten(2))

    def validation_error(self, model: nn.Module, samples: torch.Tensor, observed: torch.Tensor | None) -> float:
        return validation_nrmse(self, model, samples, self.stored, observed)

    def __call__(self, model: nn.Module, u0: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        return torch.stack([self.at(model, u0, t.expand(len(u0))) for t in times.double()], dim=1)
