"""The quick protocol's command line: parse, plan, load the data, run, write the tables."""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import torch

from benchmarks.cifar10.gpu_quick import __doc__ as DESCRIPTION
from benchmarks.cifar10.gpu_quick.count_ops import count_ops
from benchmarks.cifar10.gpu_quick.plan import (
    ARCHS, ASSUMED_IMAGES_PER_S, HOST_S_PER_OP, RECIPE, SAFETY, Plan, assumed_cost, print_plan,
)
from benchmarks.cifar10.gpu_quick.protocol import RunRecord, run_protocol
from benchmarks.cifar10.gpu_quick.report import report, write_results
from physode.errors import InputError
from physode.problems.cifar10.data import default_data_root, load_cifar10
from physode.problems.cifar10.models import CONFIGURATIONS
from physode.problems.cifar10.train import TrainConfig
from physode.training import resolve_device

COMMAND = "python -m benchmarks.cifar10.gpu_quick"
BUDGET_S = 480.0
RESULTS = Path(__file__).resolve().parents[1]  # the default --out: beside the other CIFAR-10 results


def main() -> None:
    parser = argparse.ArgumentParser(prog=COMMAND, description=DESCRIPTION.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--data-root", default=default_data_root())
    parser.add_argument("--out", type=Path, help="results folder (default: $OUT, else benchmarks/cifar10)")
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
    out = args.out or Path(os.environ.get("OUT") or RESULTS)
    stem = "gpu_quick" + ("_dry_run" if dry else "") + ("" if device.type == "cuda" else "_cpu")
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    train_set, test_set = load_cifar10(args.data_root)
    data = train_set.head(limit_train).to(device), test_set.head(limit_test).to(device)
    meta = {"command": " ".join([COMMAND, *sys.argv[1:]]), "device_name": torch.cuda.get_device_name(device)
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

