"""The training samples of a trajectory file, read lazily and sharded over data-parallel ranks."""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterator

import numpy as np
import torch

from physode.errors import InputError
from physode.trajectories import TrajectoryFile
from physode.training import DistContext


class TrainSplit:
    """The training samples of a file, read lazily through a least-recently-used cache of at most
    ``cache_limit_bytes`` of samples: memory stays bounded whatever the file's size."""

    def __init__(self, data: TrajectoryFile, cache_limit_bytes: int) -> None:
        self.data = data
        self.indices = data.train
        if len(self.indices) == 0:
            raise InputError(f"{data.path}: the file has no training samples (all are marked test)")
        self.capacity = max(1, cache_limit_bytes // (math.prod(data.sample_shape) * 4))
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

    def batches(self, batch_size: int, generator: torch.Generator,
                ctx: DistContext) -> Iterator[tuple[int, torch.Tensor]]:
        """Shuffled global batches (the order depends only on ``generator``): their size and this rank's shard."""
        order = torch.randperm(len(self), generator=generator).numpy()
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            yield len(chosen), self.read(np.array_split(chosen, ctx.world_size)[ctx.rank])
