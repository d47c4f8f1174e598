"""The quick protocol's plan: the throughput assumed per run, and the epochs that fit the budget."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from physode.problems.cifar10.train import TrainConfig

ARCHS = ("resnet10", "resnet4")
RECIPE = TrainConfig()  # ANODE's optimiser and batch size

# Published figures bound the GPU's side: Myrtle's ResNet-9 trains CIFAR-10 24 epochs in 79 s on
# one V100 (fp16), ~15,000 img/s at ~2.3 GFLOP per training image by our count (myrtle.ai, "How to
# train your ResNet", DAWNBench 2018); airbench94 (Jordan 2024, arXiv:2404.00498) trains ~10 epochs
# in 3.83 s on one A100 in eager PyTorch, ~130,000 img/s. The ResNet-10 baseline here costs ~0.11
# GFLOP per training image (ResNet-4 ~0.03), 20-80x less, the ODE variants 2-5x the baseline: at
# the rates below the H200 would compute for well under 1% of each step, so the GPU waits on the
# host, which issues one kernel per eager operator. A training step therefore takes about
# (operators per step) x (host time per operator); published host-side figures are ~5-25 us per
# eager operator (Python, autograd, dispatcher, cudaLaunchKernel), and --count-ops, timing steps
# of batch 2 (tiny kernels) on this project's CPU machine, gave 13-17 us per operator while it was
# quiet (34-64 us under a load average of 8 from other jobs). We assume 15 us on an H200's host.
HOST_S_PER_OP = 15e-6
# Operators dispatched per training step (forward, backward, SGD, augmentation, metrics; bf16
# autocast, channels-last), counted on CPU by --count-ops; the count does not depend on the batch.
OPS_PER_STEP = {
    ("resnet4", "baseline"): 182, ("resnet4", "neuralode"): 486, ("resnet4", "anode"): 430,
    ("resnet4", "anodev2-c1"): 1469, ("resnet4", "anodev2-c2"): 1846,
    ("resnet10", "baseline"): 373, ("resnet10", "neuralode"): 981, ("resnet10", "anode"): 869,
    ("resnet10", "anodev2-c1"): 2947, ("resnet10", "anodev2-c2"): 3701,
}
# Training images/s assumed per device type. CUDA: batch 256 / (ops x 15 us), e.g. ResNet-4
# baseline ~94,000, ResNet-10 ANODEV2 config 2 ~4,600. CPU: measured by this script on the
# project's 2-core machine on 2026-11-29 (--device cpu --limit-train 2560 --limit-test 1000
# --max-epochs 1: 1 thread, batch 256, under a load average of 5-8 from other jobs, 2-5x below the
# quiet machine's throughput.md); gpu_quick_cpu.md holds a second such run beside these.
ASSUMED_IMAGES_PER_S = {
    "cuda": {run: RECIPE.batch_size / (ops * HOST_S_PER_OP) for run, ops in OPS_PER_STEP.items()},
    "cpu": {
        ("resnet4", "baseline"): 554, ("resnet4", "neuralode"): 167, ("resnet4", "anode"): 290,
        ("resnet4", "anodev2-c1"): 80, ("resnet4", "anodev2-c2"): 161,
        ("resnet10", "baseline"): 185, ("resnet10", "neuralode"): 92, ("resnet10", "anode"): 56,
        ("resnet10", "anodev2-c1"): 50, ("resnet10", "anodev2-c2"): 71,
    },
}
EVAL_SPEEDUP = 3.0  # no-grad forward vs a training step: ~1/3 of the operators
STARTUP_S = 20.0  # planned: interpreter, CUDA context, 180 MB of pickles read and moved to the GPU
SETUP_S = 3.0  # per run: model, optimiser, cudnn autotuning of its first steps
SAFETY = 0.05  # fraction of the budget kept free
# With these numbers one epoch of all ten runs takes ~39 s on the H200 (195 steps of the summed
# 13,284 operators), the ten evaluations ~3 s, so 480 s less start-up, set-up, evaluation and the
# 5% margin leave 10 epochs for one seed, 5 for two: one seed (--seeds 0), since twice the epochs
# moves every variant further towards its converged accuracy than a second seed at half of them.


@dataclass(frozen=True)
class RunCost:
    """Expected seconds of one training epoch and of the final evaluation of one run."""

    epoch_s: float
    eval_s: float

    def scaled(self, factor: float) -> RunCost:
        return RunCost(self.epoch_s * factor, self.eval_s * factor)


def assumed_cost(arch: str, variant: str, device_type: str, train_images: int, test_images: int) -> RunCost:
    rate = ASSUMED_IMAGES_PER_S[device_type][arch, variant]
    return RunCost(train_images / rate, test_images / (EVAL_SPEEDUP * rate))


def epochs_that_fit(seconds_left: float, current: RunCost, done: int, later: Sequence[RunCost]) -> int:
    """The largest common epoch count E for the current run (``done`` epochs trained) and the runs
    after it, with E - done more epochs and an evaluation here and set-up, E epochs and an
    evaluation for each later run within ``seconds_left``. May be below ``done`` or 1: no fit."""
    fixed = current.eval_s + sum(SETUP_S + c.eval_s for c in later)
    per_epoch = current.epoch_s + sum(c.epoch_s for c in later)
    return math.floor((seconds_left - fixed + done * current.epoch_s) / per_epoch)


@dataclass
class Plan:
    """The protocol's deadline and its common epoch count, revised from the measured throughput."""

    deadline: float  # time.monotonic() by which every run must be trained and evaluated
    reserve: float  # seconds kept free before the deadline
    epochs: int  # the common epoch count; the first run sets it, later runs may only lower it
    max_epochs: int
    fixed: bool = False  # whether the first run has set ``epochs``
    measured_s: float = 0.0  # first-epoch seconds of the runs so far, measured ...
    assumed_s: float = 0.0  # ... and as assumed

    @property
    def scale(self) -> float:
        """Measured over assumed time so far: applied to the runs still to come."""
        return self.measured_s / self.assumed_s if self.assumed_s else 1.0

    def revise(self, epochs: int, done: int, current: RunCost, later: Sequence[RunCost]) -> int:
        """The current run's epoch count after ``done`` epochs took ``current.epoch_s`` each."""
        left = self.deadline - time.monotonic() - self.reserve
        fits = epochs_that_fit(left, current, done, [c.scaled(self.scale) for c in later])
        ceiling = self.max_epochs if done == 1 and not self.fixed else epochs
        return max(done, min(fits, ceiling))


def print_plan(runs: Sequence[tuple[str, str, int]], costs: Sequence[RunCost], device_type: str, budget: float,
               train_images: int) -> None:
    """The assumed throughput and cost of every run, and the epochs that fit in ``budget``."""
    planned = epochs_that_fit(budget - STARTUP_S - SETUP_S - SAFETY * budget, costs[0], 0, costs[1:])
    for (arch, variant, seed), cost in zip(runs, costs):
        print(f"{arch:9} {variant:11} seed {seed}: {train_images / cost.epoch_s:8.0f} img/s, "
              f"epoch {cost.epoch_s:5.1f} s, eval {cost.eval_s:4.1f} s")
    print(f"{device_type}: one epoch of every run {sum(c.epoch_s for c in costs):.1f} s; {budget:.0f} s less "
          f"start-up {STARTUP_S:.0f} s, set-up {SETUP_S:.0f} s per run, evaluation and {SAFETY:.0%} margin: "
          f"{planned} epochs")

