"""REDUCED CPU protocol: ResNet-4, every variant, two seeds, a few epochs on a training subset.

A CPU-sized stand-in for the paper's Tables 1, 2 and 4 (350 epochs, 5 seeds): it checks that
every variant trains on real data and compares them at equal (small) budgets, and measures
their training throughput. Its accuracies are far below the paper's and are NOT comparable to
them. Writes reduced.md; runs live in --out, so a rerun skips finished runs.

    OMP_NUM_THREADS=1 nice python -m benchmarks.cifar10.reduced --data-root DIR
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import torch

from physode.io import atomic_write_text
from physode.problems.cifar10.data import default_data_root
from physode.problems.cifar10.models import ARCHS, CONFIGURATIONS
from physode.problems.cifar10.paper import accuracy_table
from physode.problems.cifar10.protocol import accuracies_percent, run_protocol, throughput_table
from physode.problems.cifar10.train import TrainConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=default_data_root())
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, default=Path("runs/cifar10_reduced"), help="run directories")
    parser.add_argument("--archs", nargs="+", default=["resnet4"], choices=list(ARCHS))
    parser.add_argument("--variants", nargs="+", default=list(CONFIGURATIONS), choices=list(CONFIGURATIONS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--milestones", type=int, nargs="*", default=[3], help="lr / 10 after these epochs")
    parser.add_argument("--limit-train", type=int, default=10_000, help="first N training images")
    parser.add_argument("--limit-test", type=int, help="first N test images (default: all 10,000)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--report", type=Path, default=Path(__file__).with_name("reduced.md"))
    args = parser.parse_args()

    base = TrainConfig(epochs=args.epochs, milestones=tuple(args.milestones), limit_train=args.limit_train,
                       limit_test=args.limit_test, batch_size=args.batch_size, progress=False)
    began = time.perf_counter()
    results = run_protocol(base, args.archs, args.variants, args.seeds, args.data_root, args.out, args.device)
    minutes = (time.perf_counter() - began) / 60
    report = (
        "# CIFAR-10, REDUCED CPU protocol (not the paper's protocol)\n\n"
        f"Command: `{' '.join(['python -m', __spec__.name, *sys.argv[1:]])}`\n\n"
        f"Protocol: {', '.join(args.archs)}; variants {', '.join(args.variants)}; seeds "
        f"{', '.join(map(str, args.seeds))}; {args.epochs} epochs on the first {args.limit_train:,} training "
        f"images, batch {args.batch_size}, SGD lr 0.1 (/10 after epochs {args.milestones}), momentum 0.9, "
        f"wd 5e-4, crop+flip; test accuracy after the last epoch on {args.limit_test or 10_000:,} test images. "
        "The paper trains 350 epochs on all 50,000 images with 5 seeds: its numbers (beside ours) "
        "are the target of the full protocol (`full.py`), not of this one.\n\n"
        f"Machine: {platform.machine()}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"device {args.device}, CPU shared with other jobs; wall time {minutes:.1f} min "
        "(runs already finished in --out are not retrained).\n\n"
        "Test accuracy (%), min / max and mean over seeds:\n\n"
        + accuracy_table(accuracies_percent(results), args.archs, args.variants)
        + "\nTraining throughput (images/s, mean over epochs and seeds, includes the per-batch augmentation):\n\n"
        + throughput_table(results, args.archs, args.variants)
    )
    atomic_write_text(args.report, report)
    print(report)


if __name__ == "__main__":
    main()
