"""The peers physode's models are compared with, trained on the same split: neuraloperator's FNO,
mapping u(t0) to every stored time at once (direct) or u(t) to u(t + dt) (autoregressive).

Both train with shuffled batches of :data:`BATCH` and one-cycle Adam (:func:`train_loop`), seeded by
the run's seed for the weights and the batch order alike.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from physode.problems.fitting.schedule import one_cycle
from physode.trajectories import TrajectoryFile

BATCH = 16
LR = 3e-3  # FNO's peak learning rate
WIDTH, LAYERS = 32, 4  # FNO's channels and Fourier layers


@dataclass
class Split:
    """A benchmark row's samples as tensors: every model trains on ``train`` and is scored on ``test``."""

    train: torch.Tensor  # (samples, train times, x), float32
    test: torch.Tensor  # (samples, all times, x): the scored file's test samples
    train_times: list[float]
    times: list[float]
    x: np.ndarray


def load_split(train_path: Path, full_path: Path) -> Split:
    """The training samples of ``train_path`` and the test samples of ``full_path`` (the same split)."""
    with TrajectoryFile(train_path) as tf, TrajectoryFile(full_path) as ff:
        assert list(tf.test) == list(ff.test), "training and scoring files must share the split"
        return Split(tf.batch(tf.train), ff.batch(ff.test), tf.t.tolist(), ff.t.tolist(), np.asarray(ff.x))


def real_parameters(model: torch.nn.Module) -> int:
    """Trainable parameters, a complex one counted as two real ones."""
    return sum(p.numel() * (2 if p.is_complex() else 1) for p in model.parameters() if p.requires_grad)


def train_loop(split: Split, epochs: int, seed: int, lr_groups: list[dict[str, Any]],
               loss_of: Callable[[torch.Tensor, int], torch.Tensor]) -> float:
    """Shuffled batches, one-cycle Adam; ``loss_of(batch, step)``. Returns the fit seconds."""
    total = epochs * math.ceil(len(split.train) / BATCH)
    optimizer = torch.optim.Adam(lr_groups)
    scheduler = one_cycle(optimizer, total)  # the schedule physode's fits train with
    generator = torch.Generator().manual_seed(seed)
    began, step = time.perf_counter(), 0
    for _ in range(epochs):
        for chosen in torch.randperm(len(split.train), generator=generator).split(BATCH):
            loss = loss_of(split.train[chosen], step)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            step += 1
    return time.perf_counter() - began


def fit_fno(split: Split, epochs: int, seed: int, autoregressive: bool,
            modes: int) -> tuple[torch.Tensor | None, int, float]:
    """FNO's test predictions over every stored time (None where it cannot make them), its parameters
    and fit seconds. Autoregressive: trained as PDEBench's ``autoregressive`` mode (rolled out over
    the training horizon, loss summed over the rollout) with a window of one given frame."""
    from neuralop.models import FNO  # only the benchmarks need neuraloperator

    torch.manual_seed(seed)
    n_train = len(split.train_times) - 1
    if not autoregressive and len(split.times) != len(split.train_times):
        return None, 0, 0.0  # u0 -> fixed output times cannot predict times it has no channel for
    single = split.test.ndim == 3  # (sample, time, x); fields: (sample, time, channel, x)
    channels = 1 if single else split.test.shape[2]
    model = FNO(n_modes=(modes,), hidden_channels=WIDTH, in_channels=channels,
                out_channels=channels * (1 if autoregressive else n_train), n_layers=LAYERS)

    def fields(u: torch.Tensor) -> torch.Tensor:
        return u[:, :, None] if single else u  # (sample, time, channel, x)

    def predict(u0: torch.Tensor, steps: int) -> torch.Tensor:
        """Every time from ``u0`` (sample, channel, x): rolled out, or all at once (direct)."""
        if not autoregressive:
            return torch.cat([u0[:, None], model(u0).unflatten(1, (steps, channels))], 1)
        frames = [u0]
        for _ in range(steps):
            frames.append(model(frames[-1]))
        return torch.stack(frames, dim=1)

    def loss_of(batch: torch.Tensor, step: int) -> torch.Tensor:
        batch = fields(batch)
        pred = predict(batch[:, 0], n_train)[:, 1:]
        if autoregressive:  # PDEBench: loss summed over the rolled-out steps, gradients through them
            return (pred - batch[:, 1:]).square().mean(dim=(0, 2, 3)).sum()
        return (pred - batch[:, 1:]).square().mean()

    fit_s = train_loop(split, epochs, seed, [{"params": list(model.parameters()), "lr": LR}], loss_of)
    with torch.no_grad():
        pred = predict(fields(split.test)[:, 0], len(split.times) - 1)
    return (pred[:, :, 0] if single else pred), real_parameters(model), fit_s
