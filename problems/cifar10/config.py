"""What a CIFAR-10 run is (:class:`TrainConfig`) and the names its options take, importable without
torch: ``physode train cifar10 --help`` builds its parser from here (physode/cli.py).

``ARCH_NAMES`` and ``PAPER_ROWS`` are the keys of :data:`.models.ARCHS` and
:data:`.models.CONFIGURATIONS`, which import torch (``tests/test_startup.py`` compares them).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from physode.errors import InputError

ARCH_NAMES = ("alexnet", "resnet4", "resnet10")
PAPER_ROWS = ("baseline", "neuralode", "anode", "anodev2-c1", "anodev2-c2")
MAX_KERNELS = 50
"""Kernels one figure shows at most: two rows each, 100 rows; more is unreadable and builds for minutes."""


def default_data_root() -> Path:
    """``$PHYSODE_DATA`` if set, else ``./data`` (either may hold ``cifar-10-batches-py``, see :func:`.data.locate`)."""
    return Path(os.environ.get("PHYSODE_DATA", "data"))


@dataclass(frozen=True)
class TrainConfig:
    """A training run; the defaults are ANODE's public recipe for the paper's Table 1."""

    arch: str = "resnet10"
    variant: str = "baseline"
    epochs: int = 350
    batch_size: int = 256  # global: split across processes
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-4
    milestones: tuple[int, ...] = (150, 250)
    gamma: float = 0.1
    seed: int = 0
    augment: bool = True
    limit_train: int | None = None  # first N training images only (quick runs, tests)
    limit_test: int | None = None
    eval_batch_size: int = 1000
    amp: bool | None = None  # bf16 autocast; None: on CUDA only
    channels_last: bool | None = None  # None: on CUDA only
    deterministic: bool = False  # deterministic CUDA kernels (slower); CPU is deterministic anyway
    progress: bool = True

    def __post_init__(self) -> None:
        positive = {"epochs": self.epochs, "batch_size": self.batch_size, "lr": self.lr,
                    "eval_batch_size": self.eval_batch_size, "gamma": self.gamma}
        for name, value in positive.items():
            if not (value > 0 and math.isfinite(value)):  # `value <= 0` would let NaN through
                raise InputError(f"--{name.replace('_', '-')} must be positive and finite, got {value}")
        for name in ("momentum", "weight_decay"):
            value = getattr(self, name)
            if not (value >= 0 and math.isfinite(value)):
                raise InputError(f"--{name.replace('_', '-')} must be >= 0 and finite, got {value}")
        for name in ("limit_train", "limit_test"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise InputError(f"--{name.replace('_', '-')} must be positive, got {value}")
