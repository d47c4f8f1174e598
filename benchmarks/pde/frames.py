"""Which stored frames a row's fits may see (issue 26's continuous-time rows): every model trains on the
row's training file and is scored on every frame of its full file's test samples.

- extrapolation: the training file holds t <= T/2 (scored: (T/2, T]);
- between frames: the training file holds every ``stride``-th stored frame;
- sparse, irregular times: the training file is the full one with an ``observed`` mask
  (:mod:`physode.trajectories`) under which each training trajectory keeps its first frame and a
  random ``kept`` fraction of the others, different per trajectory; test samples keep every frame.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from physode import trajectories

SPARSE_STREAM = 2  # the sparse mask's random stream beside the data's seed, apart from the data's and the split's


def thinned(data: trajectories.Trajectories, times: slice) -> trajectories.Trajectories:
    """``data`` at the stored ``times`` only (its time-varying coefficients too)."""
    return dataclasses.replace(data, u=data.u[:, times], t=data.t[times],
                               coefficients={k: v[times] for k, v in data.coefficients.items()})


def sparse_mask(n_samples: int, n_times: int, kept: float, test: np.ndarray, seed: int) -> np.ndarray:
    """``observed`` (sample, t): each training sample keeps t0 and ``round(kept * (n_times - 1))`` of its later
    frames, drawn per sample; every test sample keeps all."""
    later = max(1, round(kept * (n_times - 1)))
    rng = np.random.default_rng([seed, SPARSE_STREAM])
    observed = np.zeros((n_samples, n_times), dtype=bool)
    observed[:, 0] = True
    for sample in range(n_samples):
        observed[sample, 1 + rng.choice(n_times - 1, size=later, replace=False)] = True
    observed[test] = True
    return observed


def training_file(work: Path, name: str, data: trajectories.Trajectories, *, extrapolate: bool, stride: int,
                  kept: float, seed: int, test_fraction: float) -> tuple[Path, dict[str, Any]] | None:
    """The row's training file (written beside the full one, with the same split) and what it holds; None
    where the fits train on the full file."""
    write = dict(seed=seed, test_fraction=test_fraction)
    if extrapolate:
        head = thinned(data, slice(0, data.u.shape[1] // 2 + 1))
        return (trajectories.write(work / f"{name}_first_half.h5", head, **write),
                {"train_t_final": float(head.t[-1])})
    if stride > 1:
        every = thinned(data, slice(None, None, stride))
        return trajectories.write(work / f"{name}_every_{stride}.h5", every, **write), {"train_nt": len(every.t)}
    if kept < 1:
        test = trajectories.make_test_mask(data.u.shape[0], test_fraction, seed)
        observed = sparse_mask(data.u.shape[0], data.u.shape[1], kept, test, seed)
        path = trajectories.write(work / f"{name}_sparse.h5", data, observed=observed, **write)
        return path, {"train_frames_kept": float(observed[~test].mean())}
    return None
