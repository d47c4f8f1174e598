"""A ``torch.utils.data.Dataset`` over a trajectory file, for training loops of one's own.

Each item is a :class:`Window`: ``window`` consecutive stored frames of one sample of the split,
``(u0, t, u)``; ``window=2`` gives the pairs ``(u(t_i), u(t_i+1))``, the default the whole
trajectory. Items are read on demand through :class:`~physode.trajectories.TrajectoryFile` (one
sample per item), so a file larger than memory serves; each process (each ``DataLoader`` worker)
opens the file itself on its first item.
"""

from __future__ import annotations

import os
from typing import NamedTuple

import numpy as np
import torch
from torch.utils.data import Dataset

from physode.errors import InputError
from physode.trajectories.reader import TrajectoryFile

SPLITS = ("train", "test", "all")


class Window(NamedTuple):
    """Frames ``u`` at times ``t`` of one sample; ``u0 = u[0]``. ``u`` is ``(window, x)``, or
    ``(window, C, x)`` with channels; ``DataLoader`` stacks each field over a batch."""

    u0: torch.Tensor
    t: torch.Tensor
    u: torch.Tensor


class TrajectoryDataset(Dataset):
    """The ``split`` (``"train"``, ``"test"`` or ``"all"``) of the trajectory file ``path`` as
    windows of ``window`` consecutive frames (default: every stored time), every start in turn.

    ``len`` is samples x starts; item ``i`` is start ``i % starts`` of the ``i // starts``-th
    sample of the split. ``u`` is float32 as stored, ``t`` float64. ``t``, ``x`` and
    ``channels`` are the file's.
    """

    def __init__(self, path: str | os.PathLike[str], split: str = "train", window: int | None = None) -> None:
        if split not in SPLITS:
            raise InputError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
        with TrajectoryFile(path) as data:
            self.path, self.t, self.x, self.channels = data.path, data.t, data.x, data.channels
            self.samples = {"train": data.train, "test": data.test, "all": np.arange(data.n_samples)}[split]
            if data.observed is not None and not data.observed[self.samples].all():
                # A window holds every frame, and an unobserved frame's value means nothing: refused, not served.
                raise InputError(f"{data.path}: the {split} split has unobserved frames (the file's `observed` "
                                 "mask), which windows would serve as data; read TrajectoryFile(...).observed in a "
                                 "loop of your own and leave them out of its loss, or fit with `physode fit`")
        self.window = len(self.t) if window is None else window
        if isinstance(self.window, bool) or not isinstance(self.window, int) or not 1 <= self.window <= len(self.t):
            raise InputError(f"window must be an integer from 1 to the {len(self.t)} stored times, got {window!r}")
        self.starts = len(self.t) - self.window + 1
        self._file: TrajectoryFile | None = None
        self._pid = os.getpid()

    def __len__(self) -> int:
        return len(self.samples) * self.starts

    def __getitem__(self, index: int) -> Window:
        if not -len(self) <= index < len(self):
            raise IndexError(f"item {index} out of range for {len(self)} windows")
        sample, start = divmod(index % len(self), self.starts)
        frames = torch.from_numpy(self._opened()[int(self.samples[sample])][start : start + self.window])
        return Window(frames[0], torch.from_numpy(self.t[start : start + self.window]), frames)

    def _opened(self) -> TrajectoryFile:
        # An HDF5 handle does not survive a fork: a DataLoader worker opens its own.
        if self._file is None or self._pid != os.getpid():
            self._file, self._pid = TrajectoryFile(self.path), os.getpid()
        return self._file

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_file": None}  # workers started by spawn reopen the file too

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
