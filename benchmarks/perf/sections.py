"""The perf benchmark's measured sections: which configurations run, each in a fresh worker process.

``fixed``: every implementation on both blocks over Nt and a second batch; ``ratios``: time over
backprop, interleaved in one process; ``resnet``: ResNet-10 training steps (the adaptive section
lives in ``adaptive.py``). Also the float64 check that checkpoint and recursive equal backprop.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import torch

from benchmarks.common.measure import run_isolated
from benchmarks.perf.solvers import PHYSODE, REVOLVE, TORCHDIFFEQ, inputs, make_solver

WORKER = "benchmarks.perf.perf"  # the benchmark's module, re-run with --worker for one configuration
BATCHES = {"conv": (8, 32), "transport": (32, 256)}
SWEEP_BATCH = {"conv": 32, "transport": 256}  # the batch of the Nt sweep
BATCH_SWEEP_STEPS = 10  # the Nt of the batch sweep
# The interleaved workers' allocator keeps freed memory in its heap (no mmap, no trimming): with
# glibc's default dynamic mmap threshold, whether a step's large tensors page-fault anew (CPU time
# the work clock counts) flipped between runs, e.g. transport B=256 Nt=50 checkpoint at 1.03x or
# 2.32x backprop. A long training run's allocator settles into reusing its heap the same way.
HEAP_ALLOCATOR = {"MALLOC_MMAP_THRESHOLD_": str(2**30), "MALLOC_TRIM_THRESHOLD_": str(2**30)}


def measure(args: argparse.Namespace, tmp: Path, **config) -> dict:
    """One configuration in a fresh worker process: its figures, with its gradient where it names an impl."""
    stem = tmp / "-".join(f"{v}" for v in config.values()).replace(":", "_").replace("+", "_")
    options = [f"--{k.replace('_', '-')}={v}" for k, v in config.items()]
    options += ["--device", args.device, "--threads", str(args.threads), "--method", args.method]
    options += ["--repeats", str(1 if config.get("dtype") == "float64" else args.repeats)]
    wants_grad = "impl" in config
    if wants_grad:
        options += ["--grad-out", f"{stem}.pt"]
    figures = run_isolated(WORKER, options, Path(f"{stem}.json"), args.device)
    if wants_grad:
        figures["grad"] = torch.load(f"{stem}.pt", weights_only=True)
    return figures


def sweep(args: argparse.Namespace) -> Iterator[tuple[dict, bool]]:
    """The fixed-step configurations (both blocks over Nt and a second batch, static and
    anodev2 weights), each with whether it is the one the Revolve rows run on."""
    for model in ("conv", "transport"):
        configs = [(SWEEP_BATCH[model], n) for n in args.nt]
        configs += [(b, BATCH_SWEEP_STEPS) for b in BATCHES[model] if b != SWEEP_BATCH[model]]
        for batch, steps in configs:
            revolve = model == "conv" and steps == max(args.nt) and batch == SWEEP_BATCH[model]
            for weights in ("static", "anodev2"):
                yield {"model": model, "weights": weights, "steps": steps, "batch": batch}, revolve


def measure_fixed(args: argparse.Namespace, tmp: Path, measure) -> list[dict]:
    """The fixed-step sweep: every implementation on both blocks over Nt and a second batch."""
    rows = []
    for common, revolve in sweep(args):
        reference = measure(args, tmp, **common, impl="backprop", dtype="float64")["grad"]
        impls = PHYSODE + (TORCHDIFFEQ if common["weights"] == "static" else ()) + ((REVOLVE,) if revolve else ())
        for impl in impls:
            figures = measure(args, tmp, **common, impl=impl, dtype="float32")
            grad = figures.pop("grad")
            figures["grad_error"] = ((grad - reference).norm() / reference.norm()).item()
            rows.append({**common, "impl": impl, **figures})
            print(f"{common['model']:9s} {common['weights']:7s} B={common['batch']:3d} Nt={common['steps']:2d} "
                  f"{impl:11s} {figures['time_ms']:9.1f} ms {figures['peak_mib']:8.1f} MiB "
                  f"err {figures['grad_error']:.1e}", flush=True)
    return rows


def measure_ratios(args: argparse.Namespace, tmp: Path, measure) -> list[dict]:
    """Checkpoint's (and Revolve's) time over backprop's, interleaved, for every configuration."""
    rows = []
    for common, revolve in sweep(args):
        impl = "ratios+revolve" if revolve else "ratios"
        json_out = tmp / "ratios.json"
        options = [f"--{k}={v}" for k, v in {**common, "impl": impl}.items()]
        options += ["--device", args.device, "--threads", str(args.threads), "--method", args.method]
        options += ["--repeats", str(max(args.repeats, 5)), "--json-out", str(json_out)]
        subprocess.run([sys.executable, "-m", WORKER, "--worker", *options], check=True, env={**os.environ, **HEAP_ALLOCATOR})
        rows.append({**common, **json.loads(json_out.read_text())})
        print("ratios", json.dumps(rows[-1]), flush=True)
    return rows


def measure_resnet(args: argparse.Namespace, tmp: Path, measure) -> dict:
    resnet = {
        variant: measure(args, tmp, model=f"resnet10:{variant}", batch=args.resnet_batch)
        for variant in ("baseline", "anodev2-c1", "anodev2-c1+recursive", "evolution-share")
    }
    print("resnet10", json.dumps(resnet), flush=True)
    return resnet


def float64_equality() -> float:
    """Largest relative difference of checkpoint and recursive gradients from backprop, float64."""
    worst = 0.0
    for model in ("conv", "transport"):
        for weights in ("static", "anodev2"):
            grads = {}
            for impl in ("backprop", "checkpoint", "recursive"):
                block = make_solver(model, weights, impl, 10, "euler").double()
                block(inputs(model, 4).double()).square().mean().backward()
                grads[impl] = torch.cat([p.grad.flatten() for p in block.parameters()])
            for impl in ("checkpoint", "recursive"):
                diff = (grads[impl] - grads["backprop"]).abs().max() / grads["backprop"].abs().max()
                worst = max(worst, diff.item())
    return worst
