"""Operators dispatched per training step: the count behind ``plan.OPS_PER_STEP``."""

from __future__ import annotations

import time

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from benchmarks.cifar10.gpu_quick.plan import RECIPE
from physode.problems.cifar10.data import Split, train_batches
from physode.problems.cifar10.models import build_model
from physode.problems.cifar10.train import run_epoch
from physode.training import DistContext


class _CountOps(TorchDispatchMode):
    """Counts the operators dispatched below autograd: one kernel each on CUDA."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.count += 1
        return func(*args, **(kwargs or {}))


def count_ops(arch: str, variant: str, timed_steps: int = 10) -> tuple[int, float]:
    """Operators of one training step (batch 2, bf16 autocast, channels-last) on CPU after a warm-up
    step, and the seconds per step over ``timed_steps`` more: nearly all host overhead."""
    device = torch.device("cpu")
    images = torch.randint(0, 256, (2 * timed_steps, 3, 32, 32), dtype=torch.uint8)
    split = Split(images, torch.arange(2 * timed_steps) % 10)
    model = build_model(arch, variant).to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=RECIPE.lr, momentum=RECIPE.momentum,
                                weight_decay=RECIPE.weight_decay)
    generator = torch.Generator().manual_seed(0)
    ctx = DistContext(0, 1, device)
    run_epoch(model, train_batches(split.head(2), 2, generator), ctx, True, torch.channels_last, optimizer)
    with _CountOps() as counter:
        run_epoch(model, train_batches(split.head(2), 2, generator), ctx, True, torch.channels_last, optimizer)
    began = time.perf_counter()
    run_epoch(model, train_batches(split, 2, generator), ctx, True, torch.channels_last, optimizer)
    return counter.count, (time.perf_counter() - began) / timed_steps

