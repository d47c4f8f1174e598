"""The peers on a benchmark row: the split every model is scored on (:class:`Split`) and one peer of
:mod:`physode.problems.peers` fit on the row's training file and scored on its test samples
(:func:`fit_row_peer`). The peers' training lives in the package; only the row plumbing is here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from physode.problems.peers import PEERS, PeerData, fit_peer
from physode.trajectories import TrajectoryFile


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


def fit_row_peer(name: str, train_path: Path, split: Split, seed: int, modes: int,
                 budget_seconds: float | None = None) -> tuple[torch.Tensor, dict[str, Any]] | None:
    """Peer ``name`` fit on ``train_path``'s training samples (validated on ``physode fit``'s split for
    ``seed``): its predictions of the test samples at every scored time and what its fit recorded.
    None: the peer cannot predict the scored times, after the training file's (the extrapolation row's direct
    FNO) or between them (the between-frames row's direct and autoregressive FNOs)."""
    trained = np.asarray(split.train_times)
    beyond = split.times[-1] > trained[-1]
    between = any(not np.isclose(t, trained).any() for t in split.times if t <= trained[-1])
    if (beyond and not PEERS[name].can_extrapolate) or (between and not PEERS[name].between_frames):
        return None
    fit = fit_peer(name, PeerData.from_file(train_path, seed=seed), seed=seed, modes=modes,
                   budget_seconds=budget_seconds)
    single = split.test.ndim == 3  # (sample, time, x); fields: (sample, time, channel, x)
    u0 = split.test[:, 0, None] if single else split.test[:, 0]
    pred = fit.predict(u0, torch.tensor(split.times, dtype=torch.float64))
    record = {"params": fit.parameters, "fit_time_s": round(fit.fit_seconds, 2), "epochs": fit.epochs,
              "stopped": fit.stopped, "device": fit.device}
    return (pred[:, :, 0] if single else pred), record
