"""Trajectories that decay towards zero: a warning, because relative errors on them mean little.

nRMSE divides each sample's error at each time by the norm of its target. A trajectory that has
decayed to a small fraction of its initial norm (strong diffusion, a long time span) turns a tiny
absolute error into a large relative one, and the few such samples dominate a mean over samples:
a benchmark file on which every model "fails" because of them measures nothing. ``physode
simulate`` therefore warns, naming how many samples decay below :data:`DECAY_FLOOR`.
"""

from __future__ import annotations

import warnings

import numpy as np

from physode.io import TrajectoryFile

DECAY_FLOOR = 0.05  # the smallest stored-state L2 norm, as a fraction of the initial one, not warned about


def decayed_samples(file: TrajectoryFile, floor: float = DECAY_FLOOR, batch_size: int = 256) -> int:
    """Samples with some stored state whose L2 norm is below ``floor`` times that of their first state."""
    count = 0
    for block in file.iter_batches(batch_size):
        norms = np.linalg.norm(block.reshape(block.shape[0], block.shape[1], -1).astype(np.float64), axis=-1)
        count += int((norms.min(axis=1) < floor * norms[:, 0]).sum())
    return count


def warn_if_decayed(label: str, file: TrajectoryFile, floor: float = DECAY_FLOOR) -> int:
    """Warn (not fail) when trajectories of ``file`` decay below ``floor``; returns how many do."""
    count = decayed_samples(file, floor)
    if count:
        warnings.warn(
            f"{label}: {count} of {file.n_samples} samples decay below {floor:g} of their initial L2 norm; "
            "nRMSE on them divides by a near-zero target and dominates any mean over samples. Shorten "
            "--t-final or weaken the damping (--nu, --diffusivity) for a benchmark file",
            stacklevel=2,
        )
    return count
