"""The peers by name (:data:`PEERS`), :func:`fit_peer` and what a fit gives back (:class:`PeerFit`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from physode.errors import InputError
from physode.problems.peers.autoregressive import AutoregressiveTask
from physode.problems.peers.data import PeerData
from physode.problems.peers.fno import MODES, DirectTask, FNOTask, Predictor, TimeTask
from physode.problems.peers.reference import Persistence, Zero
from physode.problems.peers.training import Limits, Schedule, train

ReferenceBuilder = Callable[[PeerData], Predictor]
FNOBuilder = Callable[[PeerData, int], tuple[nn.Module, FNOTask]]


@dataclass(frozen=True)
class Peer:
    """One registered peer: an FNO trained on a task (``build_fno``) or a reference predictor (``reference``)."""

    name: str
    label: str
    can_extrapolate: bool  # predicts times after the stored ones
    between_frames: bool  # predicts times between the stored ones
    build_fno: FNOBuilder | None = None
    reference: ReferenceBuilder | None = None


PEERS: dict[str, Peer] = {peer.name: peer for peer in (
    Peer("fno", "FNO u(t0) -> every stored time", False, False, build_fno=DirectTask.build),
    Peer("fno-time", "FNO (u(t0), t) -> u(t)", True, True, build_fno=TimeTask.build),
    Peer("fno-ar", "FNO one step u(t) -> u(t + dt), rolled out", True, False, build_fno=AutoregressiveTask.build),
    Peer("zero", "zero: u(t) = 0", True, True, reference=lambda data: Zero(float(data.times[0]))),
    Peer("persistence", "persistence: u(t) = u(t0)", True, True, reference=lambda data: Persistence()),
)}


@dataclass(frozen=True)
class PeerFit:
    """A fitted peer: what the fit cost and how it stopped, and :meth:`predict`."""

    name: str
    label: str
    parameters: int  # real parameters (a complex one counts as two)
    fit_seconds: float
    epochs: int
    stopped: str  # "validation" | "budget" | "epoch cap"; "training loss" without validation; "not trained"
    device: str
    model: nn.Module | None  # None for a reference predictor
    predictor: Predictor
    channels: int
    space_shape: tuple[int, ...]  # the field's points along each spatial axis

    def predict(self, u0: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        """``(samples, len(times), channel, *space)`` from ``u0`` ``(samples, channel, *space)`` at the first
        stored time."""
        expected = (self.channels, *self.space_shape)
        if tuple(u0.shape[1:]) != expected:
            axes = ", ".join(("channel", "y", "x")[-len(expected):])
            raise InputError(f"{self.name} predicts from u0 of shape (samples, {', '.join(map(str, expected))}) "
                             f"(samples, {axes}), got {tuple(u0.shape)}")
        times = torch.as_tensor(times, dtype=torch.float64).cpu()
        if times.ndim != 1 or len(times) == 0:
            raise InputError(f"{self.name}: times must be a non-empty 1-D tensor, got shape {tuple(times.shape)}")
        if self.model is not None:
            self.model.eval()
        with torch.no_grad():
            return self.predictor(self.model, u0.to(self.device, torch.float32), times).to(u0.device)


def real_parameters(model: nn.Module) -> int:
    return sum(p.numel() * (2 if p.is_complex() else 1) for p in model.parameters() if p.requires_grad)


def fit_peer(name: str, data: PeerData, *, seed: int, budget_seconds: float | None = None,
             max_epochs: int | None = None, device: str | torch.device = "cpu", modes: int | None = None,
             schedule: Schedule = Schedule()) -> PeerFit:
    """Fit peer ``name`` on ``data.fit``, early-stopped on ``data.validation`` (:mod:`.training`), within
    ``budget_seconds`` of wall time and ``max_epochs`` if given; ``modes``: the FNO's Fourier modes per
    spatial axis (default :data:`~.fno.MODES`, at most the grid's points); ``schedule``: how it trains (default: as
    the peers do). The same seed gives the same fit."""
    if name not in PEERS:
        raise InputError(f"unknown peer {name!r}; choose one of {', '.join(PEERS)}")
    if budget_seconds is not None and not budget_seconds > 0:
        raise InputError(f"budget_seconds must be positive (wall-clock seconds), got {budget_seconds}")
    if max_epochs is not None and max_epochs < 1:
        raise InputError(f"max_epochs must be at least 1, got {max_epochs}")
    peer, device = PEERS[name], torch.device(device)
    shape = {"channels": data.channels, "space_shape": data.space_shape, "device": str(device)}
    if peer.reference is not None:
        return PeerFit(name, peer.label, 0, 0.0, 0, "not trained", model=None, predictor=peer.reference(data), **shape)
    began = time.perf_counter()
    with torch.random.fork_rng(devices=[]):  # seeded weights, the caller's random stream untouched
        torch.manual_seed(seed)
        model, task = peer.build_fno(data, modes or MODES)
    model.to(device)
    trained = train(model, task, data, seed, Limits(budget_seconds, max_epochs), schedule, device, began)
    return PeerFit(name, peer.label, real_parameters(model), time.perf_counter() - began, trained.epochs,
                   trained.stopped, model=model, predictor=task, **shape)
