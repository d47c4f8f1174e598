"""The training samples of a trajectory file, read lazily and sharded over data-parallel ranks, and the
validation samples carved out of them (:func:`carve_validation`)."""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from physode.errors import InputError
from physode.trajectories import TrajectoryFile
from physode.training import DistContext


# A validation split smaller than this scores too few trajectories to rank two epochs' weights.
MIN_VALIDATION = 4
# Without a fraction given, this much of the training split is held out where it holds at least
# MIN_VALIDATION (40 samples and more); a smaller file trains on every sample, without early stopping.
DEFAULT_VALIDATION = 0.1
# The validation split's own random stream, apart from the weights' and the batch order's (neither
# changes when validation is switched on or off), and the same on every data-parallel rank.
VALIDATION_STREAM = 0x5EED_0F_7A1


@dataclass(frozen=True)
class Holdout:
    """The file's training samples split in two: those the fit trains on and those it validates on."""

    fit: np.ndarray
    validation: np.ndarray


def carve_validation(data: TrajectoryFile, fraction: float | None, seed: int) -> Holdout:
    """``fraction`` of the file's training samples (at least :data:`MIN_VALIDATION`) drawn at random
    for validation, the same for a given ``seed`` on every rank; 0: none, every sample trains; None:
    :data:`DEFAULT_VALIDATION` where that is at least :data:`MIN_VALIDATION` samples, else 0. The
    test split is not touched. Both parts keep the file's order."""
    train = data.train
    if fraction is None:
        fraction = DEFAULT_VALIDATION if DEFAULT_VALIDATION * len(train) >= MIN_VALIDATION else 0.0
    if fraction == 0 or len(train) == 0:  # none to hold out (TrainSplit says so if none to train on)
        return Holdout(train, train[:0])
    count = max(MIN_VALIDATION, math.ceil(fraction * len(train)))
    if 2 * count > len(train):
        raise InputError(f"{data.path}: {len(train)} training samples are too few to hold out {count} for "
                         "validation and train on the rest; pass --validation-fraction 0 (no early stopping) "
                         "or use a file with more training samples")
    chosen = np.random.default_rng([VALIDATION_STREAM, seed]).choice(len(train), size=count, replace=False)
    held = np.zeros(len(train), dtype=bool)
    held[chosen] = True
    return Holdout(train[~held], train[held])


class TrainSplit:
    """Samples ``indices`` of a file (default: its training split), read lazily through a
    least-recently-used cache of at most ``cache_limit_bytes`` of samples: memory stays bounded
    whatever the file's size. ``observed``: the file's mask of observed frames for these samples
    (None: every frame), handed out with each batch so the loss ignores the other frames."""

    def __init__(self, data: TrajectoryFile, cache_limit_bytes: int, indices: np.ndarray | None = None) -> None:
        self.data = data
        self.indices = data.train if indices is None else indices
        if len(self.indices) == 0:
            raise InputError(f"{data.path}: the file has no training samples (all are marked test)")
        self.capacity = max(1, cache_limit_bytes // (math.prod(data.sample_shape) * 4))
        self.observed = None if data.observed is None else data.observed[self.indices]
        self.cache: OrderedDict[int, np.ndarray] = OrderedDict()

    def __len__(self) -> int:
        return len(self.indices)

    def read(self, positions: np.ndarray) -> torch.Tensor:
        """Training samples ``positions`` (into the split) as float32, from the cache or the file."""
        missing = sorted({int(i) for i in positions} - self.cache.keys())
        if missing:
            block = self.data[self.indices[missing]]
            for position, sample in zip(missing, block):
                self.cache[position] = sample.copy()  # a copy: a view would keep the whole block alive
        for position in positions:
            self.cache.move_to_end(int(position))
        rows = [self.cache[int(i)] for i in positions]
        while len(self.cache) > self.capacity:
            self.cache.popitem(last=False)
        return torch.from_numpy(np.stack(rows)) if rows else torch.empty(0, *self.data.sample_shape)

    def observed_at(self, positions: np.ndarray) -> torch.Tensor | None:
        """Which frames of training samples ``positions`` were observed, ``(n, times)`` booleans (None: all)."""
        return None if self.observed is None else torch.from_numpy(self.observed[positions])

    def batches(self, batch_size: int, generator: torch.Generator,
                ctx: DistContext) -> Iterator[tuple[int, torch.Tensor, torch.Tensor | None]]:
        """Shuffled global batches (the order depends only on ``generator``): their size, this rank's shard
        and which of its frames were observed."""
        order = torch.randperm(len(self), generator=generator).numpy()
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            mine = np.array_split(chosen, ctx.world_size)[ctx.rank]
            yield len(chosen), self.read(mine), self.observed_at(mine)

    def window_starters(self, start: int) -> torch.Tensor:
        """The positions of the samples whose state at stored time ``start`` was observed: a window starts
        only from a known state."""
        every = torch.arange(len(self))
        return every if self.observed is None else every[torch.from_numpy(self.observed[:, start])]

    def window_steps(self, batch_size: int, starts: int) -> int:
        """The global batches of one pass of :meth:`window_batches`."""
        return sum(math.ceil(len(self.window_starters(start)) / batch_size) for start in range(starts))

    def window_batches(self, batch_size: int, starts: int, generator: torch.Generator,
                       ctx: DistContext) -> Iterator[tuple[int, int, torch.Tensor, torch.Tensor | None]]:
        """One pass over every (sample, start) window: for each of the first ``starts`` stored times, the
        samples observed there in shuffled batches, all those batches in shuffled order (the order depends
        only on ``generator``). Yields each global batch's size, its start, this rank's shard of whole
        samples and which of their frames were observed.

        A batch shares its start, so one solve over the stored times from there serves it: the
        times are the true ones, also where intervals differ or the model takes time as an input."""
        batches = []
        for start in range(starts):
            starters = self.window_starters(start)
            batches += [(start, starters[chosen]) for chosen in torch.randperm(len(starters), generator=generator)
                        .split(batch_size)]
        for i in torch.randperm(len(batches), generator=generator).tolist():
            start, chosen = batches[i]
            mine = np.array_split(chosen.numpy(), ctx.world_size)[ctx.rank]
            yield len(chosen), start, self.read(mine), self.observed_at(mine)


@dataclass(frozen=True)
class Splits:
    """The samples a fit trains on and those it validates on (None without validation), each read
    through its share of a cache of ``cache_limit_bytes`` (shared by their sizes)."""

    fit: TrainSplit
    validation: TrainSplit | None

    @classmethod
    def carve(cls, data: TrajectoryFile, fraction: float | None, seed: int, cache_limit_bytes: int) -> Splits:
        """The file's training samples split by :func:`carve_validation`."""
        holdout = carve_validation(data, fraction, seed)
        validation_share = cache_limit_bytes * len(holdout.validation) // len(data.train)
        return cls(TrainSplit(data, cache_limit_bytes - validation_share, holdout.fit),
                   TrainSplit(data, validation_share, holdout.validation) if len(holdout.validation) else None)
