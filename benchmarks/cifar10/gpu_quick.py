"""CIFAR-10 in at most 8 minutes on one GPU: the five variants on ResNet-10 and ResNet-4, SHORT protocol.

A short stand-in for the paper's Tables 1, 2 and 4 (350 epochs, 5 seeds): every variant of both
ResNets, one seed, as many epochs on all 50,000 training images as the time budget allows, then
test accuracy on all 10,000 test images, in the paper's layout beside its numbers.

Recipe: ANODE's optimiser (SGD, lr 0.1, momentum 0.9, weight decay 5e-4, batch 256, random crop
and flip; ``TrainConfig``'s defaults) with its step schedule (lr / 10 at epochs 150 and 250 of 350)
replaced by a one-cycle schedule that fits any epoch count: linear warm-up from 0 to 0.1 over the
first epoch, then linear decay to 0 at the last planned step. On CUDA: bf16 autocast,
channels-last, cudnn autotuning; the uint8 images and their augmentation stay on the GPU.

Deadline-aware: the wall-time budget (``--budget-s``, default 480 s) starts with the script and
covers data loading, training and evaluation. Runs go most expensive first. After the first epoch
of each run the script plans the epochs that still fit from the throughput it measured (this run's,
and the assumed throughput of the runs left, scaled by measured / assumed so far), and re-checks
after every later epoch; the first run sets the common epoch count, later runs may only lower it.
When the end moves, the lr decay is re-aimed from the current lr to 0 at the new last step.

    python benchmarks/cifar10/gpu_quick.py --device cuda              # the protocol, <= 8 min on one H200
    python benchmarks/cifar10/gpu_quick.py --device cpu --dry-run     # mechanics on 256 images, < 2 min
    python benchmarks/cifar10/gpu_quick.py --plan                     # the planned budget, no training
    python benchmarks/cifar10/gpu_quick.py --count-ops                # re-measure OPS_PER_STEP on CPU

Writes gpu_quick[_dry_run][_cpu].md and .json (_dry_run: --dry-run, _cpu: not on CUDA) to --out, else $OUT,
else this folder, atomically, after every run (so a killed protocol leaves the runs it finished).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from physode.errors import InputError
from physode.io import atomic_write_text
from physode.problems.cifar10.data import Split, default_data_root, eval_batches, load_cifar10, train_batches
from physode.problems.cifar10.models import CONFIGURATIONS, build_model
from physode.problems.cifar10.paper import ACCURACY, accuracy_table
from physode.problems.cifar10.train import TrainConfig, run_epoch
from physode.training import DistContext, resolve_device

ARCHS = ("resnet10", "resnet4")
RECIPE = TrainConfig()  # ANODE's optimiser and batch size
BUDGET_S = 480.0

# ---- The plan: throughput assumed per variant, and the epoch budget that follows ---------------
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
WARMUP_STEPS = 3  # steps of a run's first epoch left out of its throughput (cudnn autotuning)


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


class OneCycle:
    """Linear warm-up 0 -> ``peak`` over the first epoch (half of it in a one-epoch run), then linear
    decay to 0 at the last step.

    :meth:`retarget` moves the last step; the decay restarts from the current lr, so the schedule
    stays continuous when the deadline changes the plan.
    """

    def __init__(self, peak: float, steps_per_epoch: int, epochs: int):
        self.peak, self.steps_per_epoch = peak, steps_per_epoch
        self.warmup = steps_per_epoch if epochs > 1 else max(steps_per_epoch // 2, 1)
        self.anchor_step, self.anchor_lr = self.warmup, peak
        self.end = max(epochs * steps_per_epoch, self.warmup)

    def lr(self, step: int) -> float:
        """The lr of optimiser step ``step`` (0-based)."""
        if step < self.warmup:
            return self.peak * (step + 1) / self.warmup
        return self.anchor_lr * max(self.end - step, 0) / max(self.end - self.anchor_step, 1)

    def retarget(self, step: int, epochs: int) -> None:
        """From step ``step`` on, decay to 0 at the end of epoch ``epochs``."""
        if step >= self.warmup:
            self.anchor_step, self.anchor_lr = step, self.lr(step)
        self.end = max(epochs * self.steps_per_epoch, step)


class UtilisationSampler:
    """Samples GPU utilisation (% of time a kernel ran) every ``interval`` s in a background thread.

    Reads ``torch.cuda.utilization`` (needs pynvml), else ``nvidia-smi``; on CPU, or when neither
    answers, there are no samples and :meth:`mean` returns None.
    """

    def __init__(self, device: torch.device, interval: float = 0.5):
        self.read = _utilisation_reader(device) if device.type == "cuda" else None
        self.interval, self.samples = interval, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.samples.append((time.monotonic(), float(self.read())))
            except Exception:  # NVML's errors are its own classes: stop, keep what was sampled
                return

    def __enter__(self) -> UtilisationSampler:
        if self.read is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def mean(self, start: float, end: float) -> float | None:
        values = [u for t, u in list(self.samples) if start <= t <= end]
        return sum(values) / len(values) if values else None


def _utilisation_reader(device: torch.device):
    try:
        torch.cuda.utilization(device)
        return lambda: torch.cuda.utilization(device)
    except Exception:  # pynvml missing or unusable (its errors are its own classes): try nvidia-smi
        pass
    if shutil.which("nvidia-smi") is None:
        return None
    uuid = str(torch.cuda.get_device_properties(device).uuid).removeprefix("GPU-")

    def nvidia_smi() -> float:
        lines = subprocess.run(["nvidia-smi", "--query-gpu=uuid,utilization.gpu", "--format=csv,noheader,nounits"],
                               capture_output=True, text=True, check=True, timeout=5).stdout.strip().splitlines()
        rows = [line.split(", ") for line in lines]
        mine = [util for gpu, util in rows if uuid in gpu] or ([rows[0][1]] if len(rows) == 1 else [])
        if not mine:
            raise ValueError(f"nvidia-smi lists no GPU {uuid}")
        return float(mine[0])

    try:
        nvidia_smi()
    except (OSError, ValueError, subprocess.SubprocessError):
        return None
    return nvidia_smi


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


@dataclass
class RunRecord:
    """One arch x variant x seed: its plan, accuracy after the last epoch, throughput, utilisation."""

    arch: str
    variant: str
    seed: int
    assumed_images_per_s: float
    status: str = "not run: out of time"
    epochs: int = 0
    test_acc: float | None = None  # percent
    train_acc: float | None = None  # percent, last epoch
    train_loss: float | None = None
    images_per_s: float | None = None  # training, steady state (first epoch's warm-up steps left out)
    gpu_utilisation: float | None = None  # mean percent over the run
    seconds: float = 0.0  # wall time of the run, set-up and evaluation included


def _scheduled(batches: Iterable[tuple[torch.Tensor, torch.Tensor]], optimizer: torch.optim.Optimizer,
               schedule: OneCycle, first_step: int, device: torch.device, marks: list[float]) -> Iterator:
    """``batches`` with the scheduled lr set before each step; in the first epoch, after
    ``WARMUP_STEPS`` steps, waits for the device and appends the time to ``marks``."""
    for i, batch in enumerate(batches):
        if first_step == 0 and i == WARMUP_STEPS:
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            marks.append(time.perf_counter())
        for group in optimizer.param_groups:
            group["lr"] = schedule.lr(first_step + i)
        yield batch


def train_run(record: RunRecord, data: tuple[Split, Split], device: torch.device, batch_size: int, plan: Plan,
              cost: RunCost, later: Sequence[RunCost], sampler: UtilisationSampler) -> None:
    """Train and evaluate one run, fitting its epochs to ``plan`` (this run's assumed ``cost``,
    ``later``: the assumed costs of the runs after it); fills in ``record``."""
    began = time.monotonic()
    train_set, test_set = data
    on_cuda = device.type == "cuda"
    memory_format = torch.channels_last if on_cuda else torch.contiguous_format
    torch.manual_seed(record.seed)
    model = build_model(record.arch, record.variant).to(device, memory_format=memory_format)
    optimizer = torch.optim.SGD(model.parameters(), lr=RECIPE.lr, momentum=RECIPE.momentum,
                                weight_decay=RECIPE.weight_decay)
    generator = torch.Generator(device).manual_seed(record.seed)
    ctx = DistContext(0, 1, device)
    steps = len(train_set) // batch_size
    epochs, done = plan.epochs, 0
    schedule = OneCycle(RECIPE.lr, steps, epochs)
    steady_images, steady_s = 0, 0.0
    while done < epochs:
        marks: list[float] = []
        start = time.perf_counter()
        batches = _scheduled(train_batches(train_set, batch_size, generator), optimizer, schedule, done * steps,
                             device, marks)
        fit = run_epoch(model, batches, ctx, on_cuda, memory_format, optimizer)  # returns synchronised
        end, done = time.perf_counter(), done + 1
        timed_from, timed_steps = (marks[0], steps - WARMUP_STEPS) if marks else (start, steps)
        steady_images, steady_s = steady_images + timed_steps * batch_size, steady_s + end - timed_from
        measured = RunCost(steps * batch_size * steady_s / steady_images, cost.eval_s * plan.scale)
        if done == 1:
            plan.measured_s, plan.assumed_s = plan.measured_s + measured.epoch_s, plan.assumed_s + cost.epoch_s
        revised = plan.revise(epochs, done, measured, later)
        if revised != epochs:
            print(f"  plan: {epochs} -> {revised} epochs (epoch {measured.epoch_s:.1f} s, measured / assumed "
                  f"{plan.scale:.2f})", flush=True)
            epochs = revised
            schedule.retarget(done * steps, epochs)
        print(f"  epoch {done}/{epochs}: train loss {fit['loss']:.3f} acc {100 * fit['acc']:.1f}% | "
              f"{steady_images / steady_s:.0f} img/s | lr {schedule.lr(done * steps - 1):.4f}", flush=True)
    if not plan.fixed:
        plan.epochs, plan.fixed = epochs, True
    test = run_epoch(model, eval_batches(test_set, RECIPE.eval_batch_size), ctx, on_cuda, memory_format)
    record.status, record.epochs = "done", epochs
    record.test_acc, record.train_acc, record.train_loss = 100 * test["acc"], 100 * fit["acc"], fit["loss"]
    record.images_per_s = steady_images / steady_s
    record.gpu_utilisation = sampler.mean(began, time.monotonic())
    record.seconds = time.monotonic() - began


def _cell(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def ordering(records: Sequence[RunRecord], arch: str) -> str:
    done = sorted((r.test_acc, r.variant) for r in records if r.arch == arch and r.test_acc is not None)
    return " < ".join(f"{variant} {acc:.2f}" for acc, variant in done) or "no finished run"


def paper_ordering(arch: str) -> str:
    ranked = sorted((ACCURACY[v][arch][2], v) for v in CONFIGURATIONS if arch in ACCURACY.get(v, {}))
    return " < ".join(f"{variant} {acc:.2f}" for acc, variant in ranked)


def report(records: Sequence[RunRecord], meta: dict, dry_run: bool) -> str:
    archs = [a for a in ARCHS if any(r.arch == a for r in records)]
    variants = [v for v in CONFIGURATIONS if any(r.variant == v for r in records)]
    accuracies: dict[tuple[str, str], list[float]] = {}
    for r in records:
        if r.test_acc is not None:
            accuracies.setdefault((r.arch, r.variant), []).append(r.test_acc)
    title = "DRY RUN: mechanics only" if dry_run else "SHORT PROTOCOL"
    header = ["variant"] + [f"{a} {col}" for a in archs for col in
                            ("epochs", "assumed img/s", "measured img/s", "GPU util %", "run s")]
    rows = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    for variant in variants:
        cells = [variant]
        for arch in archs:
            mine = [r for r in records if r.arch == arch and r.variant == variant]
            cells += ["/".join(str(r.epochs) for r in mine), _cell(mine[0].assumed_images_per_s, ".0f"),
                      "/".join(_cell(r.images_per_s, ".0f") for r in mine),
                      "/".join(_cell(r.gpu_utilisation, ".0f") for r in mine),
                      "/".join(f"{r.seconds:.0f}" for r in mine)]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join([
        f"# CIFAR-10 quick protocol ({title}), not the paper's protocol",
        "",
        f"Command: `{meta['command']}`",
        "",
        f"Device: {meta['device_name']}, torch {torch.__version__}. Wall time {meta['wall_s']:.0f} s of a "
        f"{meta['budget_s']:.0f} s budget (data loading {meta['load_s']:.0f} s included); "
        f"{'all runs finished' if meta['complete'] else 'NOT all runs finished'}.",
        "",
        f"Protocol: {', '.join(archs)} x {', '.join(variants)}; seeds {', '.join(map(str, meta['seeds']))}; "
        f"epochs: {meta['planned_epochs']} planned from the assumed throughput, then fitted to the budget from "
        f"the measured one (per run below); {meta['train_images']:,} training images, batch "
        f"{meta['batch_size']}; SGD momentum {RECIPE.momentum}, weight decay {RECIPE.weight_decay}, one-cycle "
        f"lr (linear 0 -> {RECIPE.lr} over epoch 1 or half of a lone epoch, linear to 0 at the last step) in "
        f"place of ANODE's lr / 10 at epochs 150 and 250 of 350; crop + flip on the device; "
        f"{meta['precision']}. Test accuracy after the last "
        f"epoch on {meta['test_images']:,} test images. The paper trains 350 epochs with 5 seeds: its "
        "numbers beside ours are the full protocol's target, not this one's.",
        "",
        "Test accuracy (%):",
        "",
        accuracy_table(accuracies, archs, variants).rstrip(),
        "",
        "Ordering by test accuracy (ours | paper):",
        "",
        *[f"- {arch}: {ordering(records, arch)} | paper: {paper_ordering(arch)}" for arch in archs],
        "",
        "Training throughput (img/s, steady state: the first epoch's warm-up steps left out), the "
        "throughput the plan assumed, mean GPU utilisation (torch.cuda.utilization / nvidia-smi, "
        "'-' where not sampled) and wall seconds per run:",
        "",
        *rows,
        "",
    ])


def write_results(out: Path, stem: str, records: Sequence[RunRecord], meta: dict, dry_run: bool) -> None:
    atomic_write_text(out / f"{stem}.json", json.dumps(
        {"meta": meta, "runs": [dataclasses.asdict(r) for r in records]}, indent=1) + "\n")
    atomic_write_text(out / f"{stem}.md", report(records, meta, dry_run))


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--data-root", default=default_data_root())
    parser.add_argument("--out", type=Path, help="results folder (default: $OUT, else this script's folder)")
    parser.add_argument("--budget-s", type=float, help=f"wall-time budget (default {BUDGET_S:.0f}; dry run 110)")
    parser.add_argument("--archs", nargs="+", default=list(ARCHS), choices=ARCHS)
    parser.add_argument("--variants", nargs="+", default=list(CONFIGURATIONS), choices=list(CONFIGURATIONS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--batch-size", type=int, help=f"default {RECIPE.batch_size} (dry run 64)")
    parser.add_argument("--limit-train", type=int, help="first N training images (default all; dry run 256)")
    parser.add_argument("--limit-test", type=int, help="first N test images (default all; dry run 256)")
    parser.add_argument("--max-epochs", type=int, default=1000, help="cap on the epochs (dry run 1)")
    parser.add_argument("--dry-run", action="store_true", help="256 images, 1 epoch per run, batch 64, 110 s budget")
    parser.add_argument("--plan", action="store_true", help="print the planned budget and exit")
    parser.add_argument("--count-ops", action="store_true", help="count operators per training step and exit")
    args = parser.parse_args()
    began = time.monotonic()
    dry = args.dry_run
    budget = args.budget_s if args.budget_s is not None else 110.0 if dry else BUDGET_S
    batch_size = args.batch_size if args.batch_size is not None else 64 if dry else RECIPE.batch_size
    limit_train = args.limit_train if args.limit_train is not None else 256 if dry else None
    limit_test = args.limit_test if args.limit_test is not None else 256 if dry else None
    max_epochs = 1 if dry else args.max_epochs
    TrainConfig(batch_size=batch_size, limit_train=limit_train, limit_test=limit_test)  # checks them
    if budget <= 0 or max_epochs < 1:
        raise InputError(f"--budget-s and --max-epochs must be positive, got {budget} and {max_epochs}")
    runs = [(a, v, s) for a in args.archs for v in args.variants for s in args.seeds]

    if args.count_ops:
        for arch, variant, _ in runs:
            ops, seconds = count_ops(arch, variant)
            print(f'("{arch}", "{variant}"): {ops},  # {1e3 * seconds:.1f} ms per step of batch 2 on CPU, '
                  f'{1e6 * seconds / ops:.0f} us per operator', flush=True)
        return
    if args.plan:  # the plan needs no device: "auto" plans for CUDA
        device = torch.device("cuda" if args.device == "auto" else args.device)
    else:
        device = resolve_device(args.device)
    train_images = (limit_train or 50_000) // batch_size * batch_size
    runs.sort(key=lambda run: -assumed_cost(run[0], run[1], device.type, train_images, 0).epoch_s)
    costs = [assumed_cost(a, v, device.type, train_images, limit_test or 10_000) for a, v, _ in runs]
    if args.plan:
        print_plan(runs, costs, device.type, budget, train_images)
        return
    out = args.out or Path(os.environ.get("OUT") or Path(__file__).resolve().parent)
    stem = "gpu_quick" + ("_dry_run" if dry else "") + ("" if device.type == "cuda" else "_cpu")
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    train_set, test_set = load_cifar10(args.data_root)
    data = train_set.head(limit_train).to(device), test_set.head(limit_test).to(device)
    meta = {"command": " ".join(["python", *sys.argv]), "device_name": torch.cuda.get_device_name(device)
            if device.type == "cuda" else f"CPU ({platform.machine()}, {torch.get_num_threads()} threads)",
            "budget_s": budget, "load_s": time.monotonic() - began, "wall_s": 0.0, "complete": False,
            "seeds": args.seeds, "train_images": len(data[0]), "test_images": len(data[1]),
            "batch_size": batch_size, "precision": "bf16 autocast, channels-last" if device.type == "cuda"
            else "float32 (CPU)", "host_s_per_op": HOST_S_PER_OP, "safety": SAFETY}
    records = [RunRecord(a, v, s, ASSUMED_IMAGES_PER_S[device.type][a, v]) for a, v, s in runs]
    plan = Plan(began + budget, SAFETY * budget, epochs=1, max_epochs=max_epochs)  # epochs: set once data is in
    run_protocol(records, costs, data, device, batch_size, plan, began, meta,
                 lambda: write_results(out, stem, records, meta, dry))
    print(report(records, meta, dry))
    print(f"wrote {out / (stem + '.md')} and {out / (stem + '.json')}")


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


def run_protocol(records: Sequence[RunRecord], costs: Sequence[RunCost], data: tuple[Split, Split],
                 device: torch.device, batch_size: int, plan: Plan, began: float, meta: dict, save) -> None:
    """Plan the epochs, then train every run that can still finish by ``plan.deadline``, in order,
    calling ``save()`` after each; ``began``: the script's start (time.monotonic())."""
    planned = epochs_that_fit(plan.deadline - time.monotonic() - SETUP_S - plan.reserve, costs[0], 0, costs[1:])
    plan.epochs = meta["planned_epochs"] = max(1, min(planned, plan.max_epochs))
    print(f"data on {device} in {meta['load_s']:.1f} s; planned {plan.epochs} epochs per run for {len(records)} "
          f"runs in {meta['budget_s']:.0f} s", flush=True)
    with UtilisationSampler(device) as sampler:
        for i, record in enumerate(records):
            expected = costs[i].scaled(plan.scale)
            if time.monotonic() + SETUP_S + expected.epoch_s + expected.eval_s > plan.deadline:
                print(f"{record.arch} {record.variant} seed {record.seed}: skipped, out of time", flush=True)
                continue
            print(f"{record.arch} {record.variant} seed {record.seed}:", flush=True)
            train_run(record, data, device, batch_size, plan, costs[i], costs[i + 1:], sampler)
            print(f"  test acc {record.test_acc:.2f}% after {record.epochs} epochs, {record.seconds:.0f} s",
                  flush=True)
            meta["wall_s"] = time.monotonic() - began
            save()
    meta["wall_s"], meta["complete"] = time.monotonic() - began, all(r.status == "done" for r in records)
    save()


if __name__ == "__main__":
    try:
        main()
    except InputError as err:  # bad input: one line, no traceback
        sys.exit(f"gpu_quick.py: error: {err}")
