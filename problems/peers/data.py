"""A trajectory file's training samples as the peers see them: the fit and validation samples of
``physode fit``'s own split (:func:`~physode.problems.fitting.samples.carve_validation`), with the
file's ``observed`` mask where it has one (the peers' losses and validation ignore unobserved frames,
as ``physode fit`` does). The test split is never read here: a peer's early stopping cannot see it."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch

from physode.errors import InputError
from physode.problems.fitting.samples import carve_validation
from physode.trajectories import TrajectoryFile


@dataclass(frozen=True)
class PeerData:
    """Samples ``(samples, times, channel, *space)`` float32: ``(..., x)`` in 1-D, ``(..., y, x)`` in 2-D
    (a single-field 1-D file gets a channel axis of 1, as 2-D files always have one)."""

    fit: torch.Tensor
    validation: torch.Tensor  # may have no samples: the file was too small to hold any out
    times: torch.Tensor  # the stored times, float64
    x: np.ndarray
    source: str  # where the samples came from, for messages
    periodic: bool = True  # False: walls (the file's boundary_condition), which the FNO pads its domain for
    # (samples, times) booleans, True where a frame was observed (the file's `observed`); None: every frame.
    fit_observed: torch.Tensor | None = None
    validation_observed: torch.Tensor | None = None

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], *, seed: int,
                  validation_fraction: float | None = None) -> PeerData:
        """The training samples of ``path`` split as ``physode fit --seed seed --validation-fraction``
        splits them (None: its default)."""
        with TrajectoryFile(path) as data:
            holdout = carve_validation(data, validation_fraction, seed)
            if len(holdout.fit) == 0:
                raise InputError(f"{data.path}: the file has no training samples (all are marked test)")
            if data.n_times < 2:
                raise InputError(f"{data.path}: a peer predicts later times from the first; the file stores "
                                 f"{data.n_times} time")

            observed = None if data.observed is None else data.observed[data.train]
            if observed is not None and not (observed[:, 0].all() and observed[:, 1:].any(axis=1).all()):
                raise InputError(f"{data.path}: every training trajectory needs its first frame and a later one "
                                 "observed (a peer predicts from u(t0)); fix the file's `observed` mask")

            def fields(indices: np.ndarray) -> torch.Tensor:
                u = data.batch(indices)
                return u[:, :, None] if len(data.sample_shape) == 2 else u

            def seen(indices: np.ndarray) -> torch.Tensor | None:
                return None if data.observed is None else torch.from_numpy(data.observed[indices])

            periodic = str(data.attrs.get("boundary_condition", "periodic")) == "periodic"
            return cls(fields(holdout.fit), fields(holdout.validation), torch.as_tensor(data.t, dtype=torch.float64),
                       np.asarray(data.x), str(data.path), periodic=periodic, fit_observed=seen(holdout.fit),
                       validation_observed=seen(holdout.validation))

    @property
    def channels(self) -> int:
        return self.fit.shape[2]

    @property
    def space_shape(self) -> tuple[int, ...]:
        """The points along each spatial axis: ``(Nx,)`` or ``(Ny, Nx)``."""
        return tuple(self.fit.shape[3:])
