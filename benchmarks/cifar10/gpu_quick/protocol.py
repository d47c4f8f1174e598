"""The quick protocol's runs: one-cycle lr, each run trained to the deadline, then evaluated."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import torch

from benchmarks.cifar10.gpu_quick.plan import RECIPE, SETUP_S, Plan, RunCost, epochs_that_fit
from benchmarks.cifar10.gpu_quick.utilisation import UtilisationSampler
from physode.problems.cifar10.data import Split, eval_batches, train_batches
from physode.problems.cifar10.models import build_model
from physode.problems.cifar10.train import run_epoch
from physode.training import DistContext

WARMUP_STEPS = 3  # steps of a run's first epoch left out of its throughput (cudnn autotuning)


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

