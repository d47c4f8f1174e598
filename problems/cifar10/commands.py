"""What ``physode train|evaluate|plot-kernel|plot-curves cifar10`` run, given their parsed arguments
(:mod:`.cli` builds the parsers without torch and imports this module to run one)."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import torch

from physode.errors import InputError
from physode.io import check_output
from physode.log import LOGGER
from physode.problems.cifar10.figures import (
    kernel_trajectory,
    most_changing_kernels,
    plot_kernel_evolution,
    plot_training_curves,
)
from physode.problems.cifar10.models import build_model
from physode.problems.cifar10.train import TrainConfig, evaluate, load_model, train
from physode.resources import check_memory
from physode.training import CHECKPOINT, METRICS, read_metrics

CURVE_FIELDS = ("epoch", "train_loss", "train_acc", "test_loss", "test_acc")


def run_train(args: argparse.Namespace) -> int:
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    options = {k: v for k, v in vars(args).items() if k in fields}
    config = TrainConfig(**{**options, "milestones": tuple(args.milestones)})
    LOGGER.debug(f"train config: {config}")
    train(config, args.data_root, args.out, device=args.device, resume=args.resume, download=args.download,
          overwrite=args.overwrite)
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    if (args.run is None) == (args.checkpoint is None):
        raise InputError("give the run to evaluate once: as RUN (a run directory or its checkpoint.pt) or --checkpoint FILE")
    checkpoint = Path(args.run or args.checkpoint)
    checkpoint = checkpoint / CHECKPOINT if checkpoint.is_dir() else checkpoint
    result = evaluate(checkpoint, args.data_root, args.device, args.batch_size, args.limit_test)
    LOGGER.info(json.dumps({"checkpoint": str(checkpoint), "test_loss": result["loss"], "test_acc": result["acc"]}))
    return 0


def run_plot_kernel(args: argparse.Namespace) -> int:
    check_output(args.out, overwrite=args.overwrite, inputs=[args.checkpoint] if args.checkpoint else [])
    if args.checkpoint:
        model, state = load_model(args.checkpoint)
        source = f"{state['config']['arch']} {state['config']['variant']}, epoch {state.get('epoch', '?')}"
    else:
        torch.manual_seed(args.seed)
        model = build_model(args.arch, args.variant)
        source = f"{args.arch} {args.variant}, initialisation (seed {args.seed})"
    times = torch.linspace(0, 1, args.times).tolist()
    largest = max((p.numel() for p in model.parameters()), default=0)
    check_memory(args.times * largest * 4, f"the kernel trajectory at {args.times} times", "lower --times")
    name, trajectory = kernel_trajectory(model, times, args.position, args.weight)
    if trajectory.ndim != 5:
        raise InputError(f"--weight {name} has shape {tuple(trajectory.shape[1:])}, not a conv2d kernel; "
                         "choose a conv weight")
    kernels = most_changing_kernels(trajectory, args.kernels)
    plot_kernel_evolution(trajectory, times, args.out, kernels, title=f"{source}: block {args.position}, {name}")
    LOGGER.info(json.dumps({"out": str(args.out), "weight": name, "kernels": kernels}))
    return 0


def run_plot_curves(args: argparse.Namespace) -> int:
    paths = [run / METRICS if run.is_dir() else run for run in map(Path, args.runs)]
    for run, path in zip(args.runs, paths):
        if not path.is_file():
            raise InputError(f"{run} is neither a run directory with {METRICS} nor a metrics file; pass one of those")
    check_output(args.out, overwrite=args.overwrite, inputs=paths)
    names = [path.parent.name for path in paths]  # run directory names, full paths if they clash
    labels = names if len(set(names)) == len(names) else [str(path.parent) for path in paths]
    runs = {label: read_metrics(path) for label, path in zip(labels, paths)}
    for records, path in zip(runs.values(), paths):
        lacking = next((r for r in records if not all(isinstance(r.get(k), (int, float)) for k in CURVE_FIELDS)),
                       None)
        if lacking is not None or not records:
            raise InputError(f"{path} holds no CIFAR-10 training records ({', '.join(CURVE_FIELDS)}); pass the "
                             "run directory of `physode train cifar10`")
    plot_training_curves(runs, args.out)
    LOGGER.info(json.dumps({"out": str(args.out), "runs": list(runs)}))
    return 0
