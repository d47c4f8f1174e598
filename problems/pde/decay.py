"""Trajectories that decay towards zero: a warning, because relative errors on them mean little.

nRMSE divides each sample's error at each time, per channel, by the norm of its target. A
trajectory that has decayed to a small fraction of its initial norm (strong diffusion, a long time
span), or a channel that passes through zero (the velocity u_t of a standing wave, or one that
starts at rest), turns a tiny absolute error into a large relative one, and the few such states
dominate a mean over samples: a benchmark file on which every model "fails" because of them
measures nothing. ``physode simulate`` therefore warns, naming how many samples have a stored state
below :data:`DECAY_FLOOR` of its channel's largest norm (the initial one on decaying data).
"""

from __future__ import annotations

import warnings

import numpy as np

from physode.trajectories import TrajectoryFile

DECAY_FLOOR = 0.05  # the smallest stored-state L2 norm, as a fraction of its channel's largest, not warned about


def smallest_norm_ratios(u: np.ndarray, space_dims: int = 1) -> np.ndarray:
    """Per sample of ``u`` ``(sample, time, [channel,] *space)`` over ``space_dims`` spatial axes: the
    smallest stored-state L2 norm over its channel's largest (nRMSE normalises per channel), the least
    over channels."""
    norms = np.sqrt((u.astype(np.float64) ** 2).sum(axis=tuple(range(-space_dims, 0))))  # (sample, time[, channel])
    ratios = norms.min(axis=1) / np.maximum(norms.max(axis=1), np.finfo(np.float64).tiny)
    return ratios.reshape(len(norms), -1).min(axis=-1)


def decayed_samples(file: TrajectoryFile, floor: float = DECAY_FLOOR, batch_size: int = 256) -> int:
    """Samples with a stored state of some channel whose L2 norm is below ``floor`` times that channel's
    largest norm in the sample (:func:`smallest_norm_ratios`)."""
    space_dims = len(file.space)
    return sum(int((smallest_norm_ratios(block, space_dims) < floor).sum())
               for block in file.iter_batches(batch_size))


def warn_if_decayed(label: str, file: TrajectoryFile, floor: float = DECAY_FLOOR) -> int:
    """Warn (not fail) when trajectories of ``file`` decay below ``floor``; returns how many do."""
    count = decayed_samples(file, floor)
    if count:
        warnings.warn(
            f"{label}: {count} of {file.n_samples} samples have a state below {floor:g} of its channel's largest L2 "
            "norm; nRMSE on them divides by a near-zero target and dominates any mean over samples. For a "
            "benchmark file, shorten --t-final or weaken the damping (--nu, --diffusivity); for the wave, "
            "start it travelling (--initial-rate transport) instead of at rest",
            stacklevel=2,
        )
    return count
