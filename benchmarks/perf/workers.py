"""One configuration of the perf benchmark, measured inside its own fresh process (``--worker``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from torch import nn

import physode
from benchmarks.common.measure import measure_training_step, synchronize
from benchmarks.perf import adaptive
from benchmarks.perf.clock import work_clock
from benchmarks.perf.solvers import REVOLVE, inputs, make_solver


def worker(args: argparse.Namespace) -> None:
    """Measure the configuration the options name; write its figures (and its gradient) to files."""
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if args.model.startswith("resnet10"):
        Path(args.json_out).write_text(json.dumps(resnet_worker(args, device)))
        return
    if args.impl and args.impl.startswith("ratios"):
        Path(args.json_out).write_text(json.dumps(ratios_worker(args, device)))
        return
    if args.model in adaptive.PROBLEMS:
        figures, grad = adaptive.worker(args, device, measure_training_step)
        torch.save(grad, args.grad_out)
        Path(args.json_out).write_text(json.dumps(figures))
        return
    dtype = getattr(torch, args.dtype)
    block = make_solver(args.model, args.weights, args.impl, args.steps, args.method).to(device=device, dtype=dtype)
    x = inputs(args.model, args.batch).to(device=device, dtype=dtype)

    def step() -> None:
        block.zero_grad(set_to_none=True)
        block(x).square().mean().backward()

    figures = measure_training_step(step, device, args.repeats)
    torch.save(torch.cat([p.grad.flatten().double().cpu() for p in block.parameters()]), args.grad_out)
    Path(args.json_out).write_text(json.dumps(figures))


def ratios_worker(args: argparse.Namespace, device: torch.device) -> dict:
    """Time ratios to backprop, interleaved in one process so that load on the machine cancels.

    Each round times training steps of backprop, checkpoint (and Revolve where it is measured;
    torchdiffeq's ``odeint`` on static weights) and forward passes without a graph (checkpoint's floor: backprop plus one of those); each
    ratio is of the fastest rounds, timed by :func:`~benchmarks.perf.clock.work_clock` (on one CPU thread: the process's CPU time).
    """
    x = inputs(args.model, args.batch).to(device)
    impls = ["backprop", "checkpoint"] + ([REVOLVE] if args.impl == "ratios+revolve" else [])
    impls += ["tdq-odeint"] if args.weights == "static" else []  # torchdiffeq has no weight evolution
    blocks = {impl: make_solver(args.model, args.weights, impl, args.steps, args.method).to(device) for impl in impls}

    def step(block: nn.Module) -> None:
        block.zero_grad(set_to_none=True)
        block(x).square().mean().backward()

    def forward() -> None:
        with torch.no_grad():
            blocks["backprop"](x)

    timers = {impl: (lambda b=block: step(b)) for impl, block in blocks.items()} | {"forward": forward}

    now = work_clock(device)

    def clock(timer, calls: int) -> float:
        synchronize(device)
        start = now()
        for _ in range(calls):
            timer()
        synchronize(device)
        return (now() - start) / calls

    # Tiny steps are repeated within a round (at least ~50 ms) so that timer resolution and
    # scheduler hiccups do not dominate; the fastest round is the least disturbed by other load.
    for timer in timers.values():  # warm-up (first calls initialise lazily)
        clock(timer, 2)
    calls = {name: max(1, round(0.05 / clock(timer, 1))) for name, timer in timers.items()}
    best = {name: float("inf") for name in timers}
    for _ in range(args.repeats):
        for name, timer in timers.items():
            best[name] = min(best[name], clock(timer, calls[name]))
    out = {name: best[name] / best["backprop"] for name in timers if name != "backprop"}
    out["floor"] = 1 + out.pop("forward")
    return out


def resnet_worker(args: argparse.Namespace, device: torch.device) -> dict:
    """ResNet-10 training steps: memory and time of a variant, or the weight evolution's share."""
    from physode.problems.cifar10.models import build_model

    variant, _, grad = args.model.split(":")[1].partition("+")
    options = {"grad": grad} if grad else {}
    x = torch.randn(args.batch, 3, 32, 32, generator=torch.Generator().manual_seed(1)).to(device)
    labels = torch.randint(0, 10, (args.batch,), generator=torch.Generator().manual_seed(2)).to(device)

    def stepper(net: nn.Module):
        def step() -> None:
            net.zero_grad(set_to_none=True)
            nn.functional.cross_entropy(net(x), labels).backward()

        return step

    if variant != "evolution-share":
        net = build_model("resnet10", variant, **options).to(device)
        return measure_training_step(stepper(net), device, args.repeats)
    if args.repeats == 0:  # the memory-only run: this measurement is about time
        return {"peak_mib": None}
    # A/B in one process, interleaved: the same config-one network with its evolution switched
    # off (Static operators keep the weights at w0). The time difference is the evolution's cost,
    # a few percent of the step: of the fastest rounds on the work clock (the process's CPU time
    # on one thread), as in the ratios section, so that other load on the machine cancels.
    evolving = build_model("resnet10", "anodev2-c1").to(device)
    frozen = build_model("resnet10", "anodev2-c1").to(device)
    for block in frozen.modules():
        if isinstance(block, physode.CoupledODEBlock):
            block.operators = nn.ModuleList(physode.Static() for _ in block.operators)
    now = work_clock(device)
    best = {"evolving": float("inf"), "frozen": float("inf")}
    for round_ in range(1 + 2 * args.repeats):
        for name, net in (("evolving", evolving), ("frozen", frozen)):
            synchronize(device)
            start = now()
            stepper(net)()
            synchronize(device)
            if round_:  # the first round warms up
                best[name] = min(best[name], 1e3 * (now() - start))
    evolving_ms, frozen_ms = best["evolving"], best["frozen"]
    return {"time_ms": evolving_ms, "frozen_ms": frozen_ms, "share": (evolving_ms - frozen_ms) / evolving_ms}
